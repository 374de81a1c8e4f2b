//! `LARIS_…` environment variables laid over the config file's keys before validation.

use super::error::{invalid, ConfigError};

/// Environment variables that override scalar keys: `LARIS_<SECTION>_<KEY>` for the
/// `[server]`, `[log]`, `[admin]` and `[store]` keys (`LARIS_STORE_URL`: the PostgreSQL
/// store's address), and `LARIS_SHOP_<ID>_<KEY>` for a shop's keys
/// (ID upper-cased, `-` as `_`). Lists are comma-separated.
const SECTION_KEYS: &[(&str, &[&str])] = &[
    (
        "server",
        &[
            "addr",
            "demo_images",
            "max_body_bytes",
            "public_url",
            "max_connections",
            "header_timeout_secs",
            "body_timeout_secs",
            "idle_timeout_secs",
            "shutdown_grace_secs",
            "event_retention_days",
            "shop_events_per_second",
            "max_events_per_shop",
            "event_buffer",
            "prepared_cache_mib",
            "max_upload_bytes",
            "trusted_proxies",
        ],
    ),
    ("log", &["format", "level"]),
    (
        "store",
        &[
            "backend",
            "url",
            "pool_size",
            "statement_timeout_secs",
            "sync_lease_secs",
        ],
    ),
    (
        "admin",
        &[
            "token",
            "password_hash",
            "session_hours",
            "password_checks",
            "password_queue",
            "failed_signins_per_minute",
        ],
    ),
];
const SHOP_KEYS: &[&str] = &[
    "name",
    "timezone",
    "sync_schedule",
    "seed_recording",
    "seed_events",
    "seed_experiment",
    "allowed_origins",
    "customer_secret",
    "admin_password_hash",
    "public_url",
];
const LIST_KEYS: &[&str] = &["allowed_origins", "trusted_proxies"];
const INTEGER_KEYS: &[&str] = &[
    "max_body_bytes",
    "session_hours",
    "password_checks",
    "password_queue",
    "failed_signins_per_minute",
    "max_connections",
    "header_timeout_secs",
    "body_timeout_secs",
    "idle_timeout_secs",
    "shutdown_grace_secs",
    "event_retention_days",
    "shop_events_per_second",
    "max_events_per_shop",
    "event_buffer",
    "prepared_cache_mib",
    "max_upload_bytes",
    "pool_size",
    "statement_timeout_secs",
    "sync_lease_secs",
];

fn env_value(key: &str, env_name: &str, raw: &str) -> Result<toml::Value, ConfigError> {
    if LIST_KEYS.contains(&key) {
        return Ok(toml::Value::Array(
            raw.split(',')
                .map(|s| s.trim())
                .filter(|s| !s.is_empty())
                .map(|s| toml::Value::String(s.to_string()))
                .collect(),
        ));
    }
    if INTEGER_KEYS.contains(&key) {
        return raw
            .trim()
            .parse::<i64>()
            .map(toml::Value::Integer)
            .map_err(|_| invalid(env_name, raw, "set it to a whole number"));
    }
    Ok(toml::Value::String(raw.to_string()))
}

pub(super) fn apply_env_overrides(
    table: &mut toml::Table,
    env: &[(String, String)],
) -> Result<(), ConfigError> {
    for (name, raw) in env {
        let Some(rest) = name.strip_prefix("LARIS_") else {
            continue;
        };
        for (section, keys) in SECTION_KEYS {
            for key in *keys {
                if rest == format!("{}_{}", section, key).to_uppercase() {
                    let entry = table
                        .entry(section.to_string())
                        .or_insert_with(|| toml::Value::Table(Default::default()));
                    if let toml::Value::Table(t) = entry {
                        t.insert(key.to_string(), env_value(key, name, raw)?);
                    }
                }
            }
        }
        if let Some(shop_part) = rest.strip_prefix("SHOP_") {
            let Some(toml::Value::Array(shops)) = table.get_mut("shops") else {
                continue;
            };
            for shop in shops.iter_mut() {
                let Some(t) = shop.as_table_mut() else { continue };
                let Some(id) = t.get("id").and_then(|v| v.as_str()) else {
                    continue;
                };
                let prefix = format!("{}_", id.to_uppercase().replace('-', "_"));
                let Some(key_part) = shop_part.strip_prefix(&prefix) else {
                    continue;
                };
                if let Some(key) = SHOP_KEYS.iter().find(|k| k.to_uppercase() == key_part) {
                    t.insert(key.to_string(), env_value(key, name, raw)?);
                }
            }
        }
    }
    Ok(())
}
