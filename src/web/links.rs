//! Where absolute links in an answer point: the shop's `public_url`, else
//! `server.public_url`, else the request's `Host` when it is a valid host[:port] (and the
//! answer then says `Vary: Host`), else nowhere (root-relative links).

use crate::config::{PublicUrl, ShopSettings};
use crate::web::state::AppState;

/// The base of the absolute links built for `shop`, and whether it came from the request's
/// `Host` (then the answer must say `Vary: Host`).
#[derive(Debug, Clone, PartialEq)]
pub struct LinkBase {
    /// `https://shop.example`, `http://host:port`, or empty: links stay root-relative.
    pub base: String,
    pub from_host: bool,
}

/// The shop's `public_url`, else `server.public_url`.
pub fn public_url<'a>(state: &'a AppState, shop: &'a ShopSettings) -> Option<&'a PublicUrl> {
    shop.public_url
        .as_ref()
        .or(state.settings.server.public_url.as_ref())
}

/// Where absolute links for `shop` point: its `public_url`; with none, the request's `Host`
/// when that is a valid host[:port]; else nowhere (root-relative links).
pub fn link_base(state: &AppState, shop: &ShopSettings, host: Option<&str>) -> LinkBase {
    match public_url(state, shop) {
        Some(url) => LinkBase {
            base: url.as_str().to_string(),
            from_host: false,
        },
        None => LinkBase {
            base: host
                .and_then(valid_host)
                .map(|h| format!("http://{h}"))
                .unwrap_or_default(),
            from_host: true,
        },
    }
}

/// `host` when it is exactly a host name or IP address with an optional port (what a
/// `Host` header may hold), lower-cased; `None` for anything with a path, a user, spaces,
/// percent signs or other bytes a host cannot have.
pub fn valid_host(host: &str) -> Option<String> {
    let ok_bytes = !host.is_empty()
        && host.len() <= 255
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b));
    if !ok_bytes {
        return None;
    }
    let url = url::Url::parse(&format!("http://{host}/")).ok()?;
    let name = url.host_str()?;
    if url.path() != "/" || !url.username().is_empty() {
        return None;
    }
    // The parser drops a default port and normalises case; anything else it changed
    // (an empty port, a bare IPv6 address) was not a plain host[:port].
    let written = [
        name.to_string(),
        format!("{name}:{}", url.port_or_known_default()?),
    ];
    written
        .iter()
        .any(|w| w.eq_ignore_ascii_case(host))
        .then(|| host.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_host_header_is_used_only_when_it_is_exactly_host_and_port() {
        for good in [
            "shop.example",
            "Shop.Example:8080",
            "127.0.0.1:3000",
            "[::1]:8080",
            "localhost",
            "a.example:80",
        ] {
            assert_eq!(
                valid_host(good).as_deref(),
                Some(good.to_ascii_lowercase().as_str()),
                "{good}"
            );
        }
        for bad in [
            "",
            "evil.example/x",
            "evil.example?x",
            "user@evil.example",
            "evil.example:",
            "evil.example:99999",
            "evil.example:8o",
            "a b",
            "exa%41mple",
            "::1",
            "evil.example\\x",
            "\"><script>",
            &"a".repeat(300),
        ] {
            assert_eq!(valid_host(bad), None, "{bad:?}");
        }
    }
}
