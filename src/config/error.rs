//! What is wrong with a config file, naming the key, the value and the fix.

use std::path::PathBuf;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {error}. Pass --config PATH (or set LARIS_CONFIG) to a laris.toml; the repository ships config/laris.toml")]
    Read { path: PathBuf, error: std::io::Error },
    #[error("config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("config {key} = {value:?}: {fix}")]
    Invalid { key: String, value: String, fix: String },
}

/// `v` when it lies in `lo..=hi`; else an error naming the key, the value and the range.
pub(super) fn bounded(key: &str, v: u64, lo: u64, hi: u64, unit: &str) -> Result<u64, ConfigError> {
    if (lo..=hi).contains(&v) {
        Ok(v)
    } else {
        Err(invalid(key, v.to_string(), format!("use {lo} to {hi} {unit}")))
    }
}

pub(super) fn invalid(
    key: impl Into<String>,
    value: impl Into<String>,
    fix: impl Into<String>,
) -> ConfigError {
    ConfigError::Invalid {
        key: key.into(),
        value: value.into(),
        fix: fix.into(),
    }
}
