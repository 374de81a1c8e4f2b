//! `laris admin set-password` and `laris admin unlock`.

use std::path::Path;

use anyhow::{anyhow, bail};

use super::client::ServiceClient;
use super::shop_id;
use crate::config::Settings;

/// `laris admin unlock [--user U] [--address A]`: the counts live in the running service's
/// memory only, so this goes through its admin API.
pub(super) fn unlock(
    settings: &Settings,
    data_dir: &Path,
    user: Option<&str>,
    address: Option<&str>,
) -> anyhow::Result<()> {
    if let Some(raw) = address {
        raw.trim().parse::<std::net::IpAddr>().map_err(|_| {
            anyhow!("--address {raw:?} is not an IP address: write it as 203.0.113.7 or 2001:db8::1, without a port")
        })?;
    }
    if let Some(name) = user {
        if crate::admin_auth::Access::for_user(name).is_none() {
            bail!("--user {name:?} is no user name: use admin or a shop's id");
        }
    }
    let Some(client) = ServiceClient::find(settings, data_dir)? else {
        println!(
            "no laris service runs with the data directory {}: sign-in lockouts live only in a running service's memory, so nothing is locked (if the service runs with another data directory, pass its --data-dir)",
            data_dir.display()
        );
        return Ok(());
    };
    let cleared: serde_json::Value = client.post(
        "/admin/api/signin/unlock",
        &serde_json::json!({ "user": user, "address": address }),
    )?;
    let count = |k: &str| cleared.get(k).and_then(|v| v.as_u64()).unwrap_or(0);
    let (locked, counts) = (count("locked"), count("counts"));
    println!(
        "{locked} lockout{} cleared ({counts} wrong-password count{} reset) in the running service at {}",
        if locked == 1 { "" } else { "s" },
        if counts == 1 { "" } else { "s" },
        client.base
    );
    Ok(())
}

/// `laris admin set-password [--shop ID]`: the password from stdin's first line (with a
/// prompt on a terminal), hashed, saved in the data directory.
pub(super) fn set_password(settings: &Settings, data_dir: &Path, shop: Option<&str>) -> anyhow::Result<()> {
    use std::io::{BufRead, IsTerminal, Write};
    let access = match shop {
        Some(s) => crate::admin_auth::Access::Shop(shop_id(settings, s)?),
        None => crate::admin_auth::Access::All,
    };
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("New password: ");
        std::io::stderr().flush()?;
    }
    let mut line = String::new();
    stdin.lock().read_line(&mut line)?;
    let password = line.trim_end_matches(['\r', '\n']);
    if password.is_empty() {
        bail!(
            "no password on stdin: type it at the prompt, or pipe it in, e.g. `printf '%s\\n' \"$PASSWORD\" | laris admin set-password`"
        );
    }
    let hash = crate::admin_auth::hash_password(password)?;
    let path = crate::admin_auth::save_password_hash(data_dir, &access, &hash)?;
    println!(
        "saved the password hash of user {} in {} (readable only by you)",
        access.user_name(),
        path.display()
    );
    match crate::app::ServeFile::find(data_dir) {
        Some(running) => println!(
            "sign in at http://{}/admin as user {}: the running service (pid {}) takes the new password at the next sign-in, no restart needed",
            running.addr,
            access.user_name(),
            running.pid
        ),
        None => println!(
            "start `laris serve` and sign in at http://{}/admin as user {}",
            settings.server.addr,
            access.user_name()
        ),
    }
    Ok(())
}
