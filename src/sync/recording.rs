//! Recordings ("cassettes", docs/feeds.md: recordings): a directory with `index.jsonl`, one line per HTTP
//! exchange in the order made, and each body as its own file. Plain files a tester can
//! read and edit; secrets (Authorization headers, token bodies) are never written.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum RecordingError {
    #[error("cannot read recording {path}: {error}. A recording is a directory with index.jsonl and one file per body (see the README's section on recordings)")]
    Read { path: PathBuf, error: std::io::Error },
    #[error("{path} line {line}: {reason}")]
    Line {
        path: PathBuf,
        line: usize,
        reason: String,
    },
}

/// One recorded exchange, as a line of `index.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exchange {
    pub seq: u64,
    /// Index of the shop's source (`[[shops.sources]]`) that made the request.
    #[serde(default)]
    pub source: usize,
    pub method: String,
    pub url: String,
    pub status: u16,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// File name of the body within the recording; `null` when not recorded (token answers).
    #[serde(default)]
    pub body: Option<String>,
    pub at: String,
    /// What the answer is, written by `laris sync --record`: `token`, `products`,
    /// `products_full`, `orders`, `export_products`, `export_orders`, `sitemap`,
    /// `storefront_page`. Older recordings have none: replay then judges by the URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// File name of the request's body (`0007.request.json`), written whenever the request
    /// had one: a TikTok Shop search carries its update-time window there. Older
    /// recordings have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_body: Option<String>,
}

pub struct Recording {
    pub dir: PathBuf,
    pub exchanges: Vec<Exchange>,
}

impl Recording {
    pub fn open(dir: &Path) -> Result<Recording, RecordingError> {
        let index = dir.join("index.jsonl");
        let text = std::fs::read_to_string(&index).map_err(|error| RecordingError::Read {
            path: index.clone(),
            error,
        })?;
        let mut exchanges = Vec::new();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let line_err = |reason: String| RecordingError::Line {
                path: index.clone(),
                line: i + 1,
                reason,
            };
            let ex: Exchange =
                serde_json::from_str(line).map_err(|e| line_err(format!("not a recorded exchange: {e}")))?;
            for body in [&ex.body, &ex.request_body].into_iter().flatten() {
                let plain = Path::new(body)
                    .file_name()
                    .map(|f| f == body.as_str())
                    .unwrap_or(false);
                if !plain || body.starts_with('.') {
                    return Err(line_err(format!(
                        "body {body:?} must be a file name inside the recording directory"
                    )));
                }
            }
            exchanges.push(ex);
        }
        Ok(Recording {
            dir: dir.to_path_buf(),
            exchanges,
        })
    }

    /// The body of an exchange as text, or `None` when none was recorded.
    pub fn body(&self, ex: &Exchange) -> Result<Option<String>, RecordingError> {
        Ok(self
            .body_bytes(ex)?
            .map(|b| String::from_utf8_lossy(&b).into_owned()))
    }

    /// The body as recorded, bytes (an XLSX export is not text).
    pub fn body_bytes(&self, ex: &Exchange) -> Result<Option<Vec<u8>>, RecordingError> {
        self.file(&ex.body)
    }

    /// The request's body as recorded, as text; `None` when the request had none.
    pub fn request_body(&self, ex: &Exchange) -> Result<Option<String>, RecordingError> {
        Ok(self
            .file(&ex.request_body)?
            .map(|b| String::from_utf8_lossy(&b).into_owned()))
    }

    fn file(&self, name: &Option<String>) -> Result<Option<Vec<u8>>, RecordingError> {
        let Some(name) = name else { return Ok(None) };
        let path = self.dir.join(name);
        std::fs::read(&path)
            .map(Some)
            .map_err(|error| RecordingError::Read { path, error })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_outside_the_recording_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("index.jsonl"),
            r#"{"seq":1,"method":"GET","url":"http://x/","status":200,"body":"../secret","at":"2026-11-01T00:00:00Z"}"#,
        )
        .unwrap();
        let err = Recording::open(dir.path()).err().unwrap().to_string();
        assert!(err.contains("line 1") && err.contains("../secret"), "{err}");
    }

    #[test]
    fn a_request_body_outside_the_recording_directory_is_refused_and_old_lines_load() {
        let dir = tempfile::tempdir().unwrap();
        let old = r#"{"seq":1,"method":"GET","url":"http://x/","status":200,"body":null,"at":"2026-11-01T00:00:00Z"}"#;
        std::fs::write(dir.path().join("index.jsonl"), old).unwrap();
        let recording = Recording::open(dir.path()).unwrap();
        assert_eq!(recording.exchanges[0].request_body, None);
        assert_eq!(recording.request_body(&recording.exchanges[0]).unwrap(), None);
        std::fs::write(
            dir.path().join("index.jsonl"),
            r#"{"seq":2,"method":"POST","url":"http://x/","status":200,"request_body":"/etc/passwd","at":"2026-11-01T00:00:00Z"}"#,
        )
        .unwrap();
        let err = Recording::open(dir.path()).err().unwrap().to_string();
        assert!(err.contains("/etc/passwd"), "{err}");
    }

    #[test]
    fn a_missing_index_says_what_a_recording_is() {
        let dir = tempfile::tempdir().unwrap();
        let err = Recording::open(dir.path()).err().unwrap().to_string();
        assert!(
            err.contains("index.jsonl") && err.contains("section on recordings"),
            "{err}"
        );
    }
}
