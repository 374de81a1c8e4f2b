//! `[server]` settings the HTTP layer enforces: connection limits and time limits, and the
//! reverse proxies whose forwarding headers are believed. Plain values, checked when the
//! config loads; the server and the web filters read them.

use std::net::IpAddr;
use std::time::Duration;

use ipnet::IpNet;

/// The server's limits (`[server]` in the config).
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Open connections at most; see the module doc for what happens at the cap.
    pub max_connections: usize,
    /// A request's headers must arrive within this time of its first byte (or of the
    /// connection's opening).
    pub header_timeout: Duration,
    /// A request body may pause at most this long between two pieces.
    pub body_timeout: Duration,
    /// A keep-alive connection without a request in flight is closed after this long.
    pub idle_timeout: Duration,
    /// At shutdown, requests in flight get this long to finish before the process stops.
    pub shutdown_grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 512,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(15),
            idle_timeout: Duration::from_secs(60),
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

/// The proxies (single addresses or CIDR networks) whose `X-Forwarded-For` and
/// `X-Forwarded-Proto` headers are believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parses `server.trusted_proxies` entries: `"127.0.0.1"`, `"10.0.0.0/8"`, `"::1"`,
    /// `"fd00::/8"`. The error is the fix for the first bad entry.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<TrustedProxies, (String, String)> {
        let mut nets = Vec::with_capacity(entries.len());
        for raw in entries {
            let raw = raw.as_ref();
            let text = raw.trim();
            let net = match text.parse::<IpNet>() {
                Ok(net) => net.trunc(),
                Err(_) => match text.parse::<IpAddr>() {
                    Ok(ip) => IpNet::from(ip.to_canonical()),
                    Err(_) => {
                        return Err((
                            raw.to_string(),
                            "write an IP address (\"127.0.0.1\", \"::1\") or a network in CIDR form (\"10.0.0.0/8\", \"fd00::/8\"): the addresses of your reverse proxies, no host names or ports".to_string(),
                        ))
                    }
                },
            };
            nets.push(net);
        }
        Ok(TrustedProxies(nets))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }
}
