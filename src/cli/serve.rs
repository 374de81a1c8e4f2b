//! `laris serve`, and `laris mock-marketplace` (a recording served as a live marketplace
//! API, for testers).

use std::path::Path;

use anyhow::{anyhow, bail, Context};

use crate::app::{self, ServeFile};
use crate::config::Settings;

pub(super) fn serve(mut settings: Settings, data_dir: &Path, addr: Option<&str>) -> anyhow::Result<()> {
    if let Some(raw) = addr {
        settings.server.addr = raw.parse().map_err(|_| {
            anyhow!("--addr {raw:?} is not HOST:PORT with an IP address, e.g. 127.0.0.1:8080")
        })?;
    }
    if let Some(running) = ServeFile::find(data_dir) {
        bail!(
            "a laris service (pid {}) already serves the store in {} at http://{}: stop it first, or pass another --data-dir",
            running.pid,
            data_dir.display(),
            running.addr
        );
    }
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let addr = settings.server.addr;
        let app = app::Application::build(settings, data_dir, addr).await?;
        app.run_until_stopped(app::shutdown_signal()).await
    })
}

pub(super) fn mock_marketplace(
    dir: &Path,
    addr: &str,
    token_lifetime: u64,
    tiktok: crate::cli::mock_marketplace::tiktok::TikTokSettings,
) -> anyhow::Result<()> {
    let addr: std::net::SocketAddr = addr
        .parse()
        .map_err(|_| anyhow!("--addr {addr:?} is not HOST:PORT with an IP address, e.g. 127.0.0.1:9090"))?;
    let mock = crate::cli::mock_marketplace::MockMarketplace::open(dir)?;
    mock.set_token_lifetime(token_lifetime);
    let app_key = tiktok.app.key.clone();
    mock.tiktok().configure(tiktok);
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr}: pass another --addr"))?;
        let local = listener.local_addr()?;
        // Said once at start; a closed stdout (a tester's `| head`) must not stop the mock.
        use std::io::Write;
        let mut out = std::io::stdout();
        let _ = writeln!(
            out,
            "mock marketplace serving {} at http://{local}",
            dir.display()
        );
        let _ = writeln!(
            out,
            "  base_url  = \"http://{local}\"\n  token_url = \"http://{local}/token\""
        );
        let (products, orders) = mock.tiktok().counts();
        if products + orders > 0 {
            let _ = writeln!(
                out,
                "  tiktok_shop: {products} products, {orders} orders; base_url = auth_url = \"http://{local}\", app_key = \"{app_key}\""
            );
        }
        let _ = out.flush();
        crate::cli::mock_marketplace::serve(mock, listener, app::shutdown_signal()).await?;
        Ok(())
    })
}
