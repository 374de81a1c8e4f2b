//! The running service, as the commands reach it: they go through its admin API when its
//! address file is in the data directory (sled lets one process hold a store).

use std::path::Path;

use anyhow::{anyhow, bail};

use crate::app::{self, ServeFile};
use crate::config::Settings;

/// A client for the service that holds the store.
pub(super) struct ServiceClient {
    pub(super) base: String,
    token: String,
    http: reqwest::blocking::Client,
}

impl ServiceClient {
    /// The running service for `data_dir`, if there is one that answers.
    pub(super) fn find(settings: &Settings, data_dir: &Path) -> anyhow::Result<Option<ServiceClient>> {
        let Some(file) = ServeFile::find(data_dir) else {
            return Ok(None);
        };
        let token = app::admin_token(settings, data_dir, false)?.ok_or_else(|| {
            anyhow!(
                "a laris service (pid {}) holds the store in {}, but no admin token is known: set LARIS_ADMIN_TOKEN to the service's token",
                file.pid,
                data_dir.display()
            )
        })?;
        let http = reqwest::blocking::Client::builder()
            .timeout(std::time::Duration::from_secs(600))
            .build()?;
        let client = ServiceClient {
            base: format!("http://{}", file.addr),
            token,
            http,
        };
        match client.http.get(format!("{}/healthz", client.base)).send() {
            Ok(r) if r.status().is_success() => Ok(Some(client)),
            _ => Ok(None),
        }
    }

    pub(super) fn check(resp: reqwest::blocking::Response) -> anyhow::Result<reqwest::blocking::Response> {
        if resp.status().is_success() {
            return Ok(resp);
        }
        let status = resp.status();
        let body: serde_json::Value = resp.json().unwrap_or_default();
        let msg = body.get("error").and_then(|e| e.as_str()).unwrap_or("no details");
        bail!("the running service answered {status}: {msg}")
    }

    pub(super) fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> anyhow::Result<T> {
        let resp = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()?;
        Ok(Self::check(resp)?.json()?)
    }

    /// GET `path`; `None` when the service answers 404 Not Found.
    pub(super) fn get_optional<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
    ) -> anyhow::Result<Option<T>> {
        let resp = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()?;
        if resp.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        Ok(Some(Self::check(resp)?.json()?))
    }

    /// POST `bytes` as the body of `path` (an export file to import).
    pub(super) fn post_bytes<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        bytes: Vec<u8>,
    ) -> anyhow::Result<T> {
        let resp = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(bytes)
            .send()?;
        Ok(Self::check(resp)?.json()?)
    }

    pub(super) fn post<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> anyhow::Result<T> {
        let resp = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(body)
            .send()?;
        Ok(Self::check(resp)?.json()?)
    }
}
