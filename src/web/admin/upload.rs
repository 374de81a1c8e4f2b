//! Receiving an export file uploaded from the dashboard and importing it in the
//! running service, which holds the store: the page's form (`multipart/form-data`, used by
//! [`crate::web::admin::pages`]) and its JSON twin `POST /admin/api/shops/{shop}/imports`
//! (multipart with a `file` part, or the raw file as the body with `?kind=&name=`).
//!
//! The file is streamed into a temporary file under `DATA_DIR/uploads/`, at most
//! `server.max_upload_bytes` (413 beyond, and the partial file is removed), checked to be
//! CSV or XLSX (415 naming the file otherwise), then imported through the same pipeline as
//! `laris import` under the shop's sync claim (409 while a sync runs), which also rebuilds
//! the model when data changed. A crash mid-upload leaves at most a stray temporary file:
//! the import starts only once the file is whole, and each page of it is stored atomically.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use bytes::Buf;
use futures_util::{Stream, StreamExt};
use serde::Serialize;
use tokio::io::AsyncWriteExt;
use warp::filters::multipart::FormData;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use crate::admin::views::{msg, QuarantinedRow};
use crate::admin_auth::Access;
use crate::config::ShopSettings;
use crate::model::rebuild::ModelSummary;
use crate::records::SyncReport;
use crate::sync::agent::{SyncError, Upload, UploadRun};
use crate::sync::files::{check_upload, FileKind};
use crate::web::admin::admin_access_csrf;
use crate::web::errors::reject;
use crate::web::state::{allowed_shop, with_state, AppState};

/// Bytes read and dropped after the limit was passed, so that a client still sending reads
/// the 413 rather than a reset connection.
const DRAIN_BYTES: u64 = 8 << 20;
/// Room for the multipart headers and the small fields beside the file.
const FORM_OVERHEAD_BYTES: u64 = 64 << 10;
/// Longest text field (`csrf`, `kind`) read.
const FIELD_BYTES: usize = 1024;
/// Bytes of the file's start that tell CSV text from anything else.
const HEAD_BYTES: usize = 8192;
/// Longest file name kept (it shows in reports and quarantined rows' origins).
const NAME_CHARS: usize = 120;

/// Why an upload was not imported: the status and a message naming the file and the fix.
#[derive(Debug)]
pub struct Refusal {
    pub status: StatusCode,
    pub message: String,
}

impl Refusal {
    fn new(status: StatusCode, message: impl Into<String>) -> Refusal {
        Refusal {
            status,
            message: message.into(),
        }
    }

    fn too_large(what: &str, limit: u64) -> Refusal {
        Refusal::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            msg(
                "{what} is larger than {size}, the most an upload may be (server.max_upload_bytes = {limit}): nothing was imported. Split the export by period, or raise server.max_upload_bytes",
                &[
                    ("what", what),
                    ("size", &crate::admin::views::size_text(limit)),
                    ("limit", &limit.to_string()),
                ],
            ),
        )
    }

    fn internal(context: &str, e: impl std::fmt::Display) -> Refusal {
        tracing::error!(error = %e, "{context}");
        Refusal::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal error; the server log has the details.",
        )
    }

    /// The same refusal for the JSON API.
    pub fn rejection(self) -> Rejection {
        reject(self.status, self.message)
    }
}

/// The file while it is received and imported; removed when dropped.
pub struct TempFile {
    path: PathBuf,
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// A file received whole.
pub struct Received {
    pub name: String,
    temp: TempFile,
    pub bytes: u64,
    head: Vec<u8>,
}

/// A file name as uploaded, made safe to show: its last path part (old browsers send the
/// whole path), without control characters, at most [`NAME_CHARS`] characters.
pub fn clean_name(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or("");
    last.chars()
        .filter(|c| !c.is_control())
        .take(NAME_CHARS)
        .collect::<String>()
        .trim()
        .to_string()
}

/// A `Content-Length` already over the limit is refused before reading anything.
pub fn check_length(length: Option<u64>, limit: u64) -> Result<(), Refusal> {
    match length {
        Some(n) if n > limit + FORM_OVERHEAD_BYTES => Err(Refusal::too_large("The upload", limit)),
        _ => Ok(()),
    }
}

/// Temporary files older than this are left from a crash mid-upload and removed by the next
/// upload (one still being received has been written to within `server.body_timeout_secs`).
const STALE_SECS: u64 = 24 * 3600;

fn uploads_dir(state: &AppState) -> PathBuf {
    state.data_dir.join("uploads")
}

/// Removes the temporary files in `dir` that a crash left behind.
fn remove_stale(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let stale = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age.as_secs() > STALE_SECS);
        if stale && path.extension().is_some_and(|e| e == "part") && std::fs::remove_file(&path).is_ok() {
            tracing::info!(path = %path.display(), "removed a partial upload left by an earlier run");
        }
    }
}

/// Streams `body` into a new temporary file in `dir`, at most `limit` bytes.
async fn receive<S, B>(
    body: S,
    dir: &Path,
    shop: &ShopSettings,
    name: String,
    limit: u64,
) -> Result<Received, Refusal>
where
    S: Stream<Item = Result<B, warp::Error>>,
    B: Buf,
{
    let mut body = std::pin::pin!(body);
    tokio::fs::create_dir_all(dir)
        .await
        .map_err(|e| Refusal::internal(&format!("creating {}", dir.display()), e))?;
    let stale_dir = dir.to_path_buf();
    let _ = tokio::task::spawn_blocking(move || remove_stale(&stale_dir)).await;
    let temp = TempFile {
        path: dir.join(format!(
            "{}-{}-{:016x}.part",
            shop.id,
            chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ"),
            rand::random::<u64>()
        )),
    };
    let mut file = tokio::fs::File::create(&temp.path)
        .await
        .map_err(|e| Refusal::internal(&format!("creating {}", temp.path.display()), e))?;
    let mut written = 0u64;
    let mut head = Vec::new();
    while let Some(chunk) = body.next().await {
        let mut chunk = chunk.map_err(|e| {
            Refusal::new(
                StatusCode::BAD_REQUEST,
                msg(
                    "the upload of {file} broke off ({error}): nothing was imported, upload it again",
                    &[("file", &name), ("error", &e.to_string())],
                ),
            )
        })?;
        let bytes = chunk.copy_to_bytes(chunk.remaining());
        written += bytes.len() as u64;
        if written > limit {
            drop(file);
            drop(temp);
            let mut drained = 0u64;
            while drained < DRAIN_BYTES {
                match body.next().await {
                    Some(Ok(mut more)) => drained += more.copy_to_bytes(more.remaining()).len() as u64,
                    _ => break,
                }
            }
            return Err(Refusal::too_large(&name, limit));
        }
        if head.len() < HEAD_BYTES {
            let take = bytes.len().min(HEAD_BYTES - head.len());
            head.extend_from_slice(&bytes[..take]);
        }
        file.write_all(&bytes)
            .await
            .map_err(|e| Refusal::internal(&format!("writing {}", temp.path.display()), e))?;
    }
    file.flush()
        .await
        .map_err(|e| Refusal::internal(&format!("writing {}", temp.path.display()), e))?;
    Ok(Received {
        name,
        temp,
        bytes: written,
        head,
    })
}

/// A small text part, at most [`FIELD_BYTES`].
async fn text_part(part: warp::filters::multipart::Part) -> Result<String, Refusal> {
    let mut stream = std::pin::pin!(part.stream());
    let mut text = Vec::new();
    while let Some(chunk) = stream.next().await {
        let mut chunk = chunk.map_err(|e| {
            Refusal::new(
                StatusCode::BAD_REQUEST,
                format!("the form could not be read: {e}"),
            )
        })?;
        let bytes = chunk.copy_to_bytes(chunk.remaining());
        if text.len() + bytes.len() > FIELD_BYTES {
            return Err(Refusal::new(
                StatusCode::BAD_REQUEST,
                "a form field other than the file is too long: send the form of the upload page",
            ));
        }
        text.extend_from_slice(&bytes);
    }
    Ok(String::from_utf8_lossy(&text).into_owned())
}

/// What an upload form brought.
pub struct UploadForm {
    pub csrf: Option<String>,
    pub kind: Option<String>,
    pub file: Option<Received>,
}

/// Reads a multipart form: `csrf`, `kind` and the `file` (streamed to disk). `csrf_ok` is
/// asked as soon as the token is read, so that a forged form stops before its file.
pub async fn read_form(
    state: &AppState,
    shop: &ShopSettings,
    form: FormData,
    csrf_ok: impl Fn(&str) -> bool,
) -> Result<UploadForm, Refusal> {
    let limit = state.settings.server.max_upload_bytes;
    let mut form = std::pin::pin!(form);
    let mut out = UploadForm {
        csrf: None,
        kind: None,
        file: None,
    };
    while let Some(part) = form.next().await {
        let part = part.map_err(|e| {
            Refusal::new(
                StatusCode::BAD_REQUEST,
                format!("the form could not be read ({e}): send it again from the upload page"),
            )
        })?;
        match part.name() {
            "csrf" => {
                let token = text_part(part).await?;
                if !csrf_ok(&token) {
                    return Err(csrf_refusal());
                }
                out.csrf = Some(token);
            }
            "kind" => out.kind = Some(text_part(part).await?),
            "file" => {
                let name = clean_name(part.filename().unwrap_or(""));
                if name.is_empty() {
                    // No file chosen: browsers send an empty part without a name.
                    continue;
                }
                out.file = Some(receive(part.stream(), &uploads_dir(state), shop, name, limit).await?);
            }
            // Other parts are skipped (the parser drops what is left of them).
            _ => {}
        }
    }
    Ok(out)
}

fn csrf_refusal() -> Refusal {
    Refusal::new(
        StatusCode::FORBIDDEN,
        crate::web::rejections::CsrfMismatch::MESSAGE,
    )
}

/// The kind chosen, checked; the file checked to be CSV or XLSX; then the import.
pub async fn import(
    state: &AppState,
    shop: &ShopSettings,
    kind: Option<&str>,
    file: Option<Received>,
) -> Result<UploadRun, Refusal> {
    let kind = FileKind::parse_choice(kind).map_err(|e| Refusal::new(StatusCode::BAD_REQUEST, e))?;
    let Some(file) = file else {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            msg(
                "no file was uploaded: choose the export file (XLSX or CSV) and send the form again",
                &[],
            ),
        ));
    };
    if file.bytes == 0 {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            msg(
                "{file} is empty: export it from Seller Center again",
                &[("file", &file.name)],
            ),
        ));
    }
    check_upload(&file.name, &file.head)
        .map_err(|e| Refusal::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, e.to_string()))?;
    let upload = Upload {
        path: file.temp.path.clone(),
        name: file.name.clone(),
        kind,
    };
    let run = state.sync.import_upload(shop.id.as_str(), upload).await;
    drop(file);
    run.map_err(|e| match e {
        SyncError::Busy(_) | SyncError::Leased { .. } => Refusal::new(
            StatusCode::CONFLICT,
            msg(
                "a sync is running, try again in a minute: the upload was not imported",
                &[],
            ),
        ),
        e if e.unavailable().is_some() => {
            tracing::warn!(error = %e, "importing an upload: the database is unreachable");
            Refusal::new(
                StatusCode::SERVICE_UNAVAILABLE,
                msg(
                    "The database is unreachable right now. Laris retries by itself and recovers when it is back: the upload was not imported, send it again in a few seconds.",
                    &[],
                ),
            )
        }
        e => Refusal::internal("importing an upload", e),
    })
}

/// The JSON answer of `POST /admin/api/shops/{shop}/imports`.
#[derive(Debug, Serialize)]
struct ImportAnswer {
    shop: String,
    kind: Option<FileKind>,
    report: SyncReport,
    quarantined: Vec<QuarantinedRow>,
    model: Option<ModelSummary>,
}

fn answer(run: UploadRun) -> Response {
    warp::reply::json(&ImportAnswer {
        shop: run.shop,
        kind: run.kind,
        report: run.report,
        quarantined: run.quarantined.into_iter().map(QuarantinedRow::from).collect(),
        model: run.model,
    })
    .into_response()
}

type Query = HashMap<String, String>;

/// `POST /admin/api/shops/{shop}/imports`: multipart (`file`, optional `kind`) or the raw
/// file as the body with `?kind=products|orders|auto&name=FILE`. Answers the import's
/// report and quarantined rows as JSON.
pub fn api_import(state: AppState) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    // Two routes told apart by the Content-Type before either touches the body, so that a
    // refusal of one never hands a half-read body to the other.
    let route = move |multipart: bool| {
        warp::path!("admin" / "api" / "shops" / String / "imports")
            .and(warp::post())
            .and(content_type_is_multipart(multipart))
            .and(admin_access_csrf(&state))
            .and(warp::header::optional::<u64>("content-length"))
            .and(warp::query::<Query>())
            .and(with_state(state.clone()))
    };
    let multipart =
        route(true)
            .and(warp::multipart::form().max_length(None))
            .and_then(
                |raw: String,
                 access: Access,
                 length: Option<u64>,
                 q: Query,
                 state: AppState,
                 form: FormData| async move {
                    let shop = allowed_shop(&state, &access, &raw)?;
                    let limit = state.settings.server.max_upload_bytes;
                    check_length(length, limit).map_err(Refusal::rejection)?;
                    // The API proves itself with the bearer token or the X-CSRF-Token header.
                    let form = read_form(&state, shop, form, |_| true)
                        .await
                        .map_err(Refusal::rejection)?;
                    let kind = form.kind.or_else(|| q.get("kind").cloned());
                    let run = import(&state, shop, kind.as_deref(), form.file)
                        .await
                        .map_err(Refusal::rejection)?;
                    Ok::<_, Rejection>(answer(run))
                },
            );
    let raw_body = route(false).and(warp::body::stream()).and_then(
        |raw: String, access: Access, length: Option<u64>, q: Query, state: AppState, body| async move {
            let shop = allowed_shop(&state, &access, &raw)?;
            if let Some(k) = q.keys().find(|k| !matches!(k.as_str(), "kind" | "name")) {
                return Err(reject(
                    StatusCode::BAD_REQUEST,
                    format!("unknown parameter {k:?}: use kind and name"),
                ));
            }
            let limit = state.settings.server.max_upload_bytes;
            check_length(length, limit).map_err(Refusal::rejection)?;
            let name = clean_name(q.get("name").map_or("", String::as_str));
            let name = if name.is_empty() {
                "upload".to_string()
            } else {
                name
            };
            let file = receive(body, &uploads_dir(&state), shop, name, limit)
                .await
                .map_err(Refusal::rejection)?;
            let run = import(&state, shop, q.get("kind").map(String::as_str), Some(file))
                .await
                .map_err(Refusal::rejection)?;
            Ok::<_, Rejection>(answer(run))
        },
    );
    multipart.or(raw_body).unify()
}

/// Passes when the request's Content-Type is (`want`) or is not (`!want`)
/// `multipart/form-data`.
fn content_type_is_multipart(want: bool) -> impl Filter<Extract = (), Error = Rejection> + Clone {
    warp::header::optional::<String>("content-type")
        .and_then(move |ct: Option<String>| async move {
            let multipart = ct.as_deref().is_some_and(|c| {
                c.trim_start()
                    .to_ascii_lowercase()
                    .starts_with("multipart/form-data")
            });
            if multipart == want {
                Ok(())
            } else {
                Err(warp::reject::not_found())
            }
        })
        .untuple_one()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_keep_their_last_part_without_control_characters() {
        assert_eq!(clean_name("C:\\Users\\dewi\\produk.xlsx"), "produk.xlsx");
        assert_eq!(clean_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_name(" laporan\n.csv "), "laporan.csv");
        assert_eq!(clean_name(&"a".repeat(500)).len(), NAME_CHARS);
    }

    #[test]
    fn partial_uploads_a_crash_left_a_day_ago_are_removed_and_others_kept() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, age_secs: u64| {
            let path = dir.path().join(name);
            let file = std::fs::File::create(&path).unwrap();
            let at = std::time::SystemTime::now() - std::time::Duration::from_secs(age_secs);
            file.set_modified(at).unwrap();
            path
        };
        let old = write("toko-old.part", STALE_SECS + 60);
        let fresh = write("toko-fresh.part", 60);
        let other = write("notes.txt", STALE_SECS + 60);
        remove_stale(dir.path());
        assert!(!old.exists());
        assert!(fresh.exists() && other.exists());
    }

    #[test]
    fn a_declared_length_over_the_limit_is_refused_before_reading() {
        assert!(check_length(None, 1000).is_ok());
        assert!(check_length(Some(1000 + FORM_OVERHEAD_BYTES), 1000).is_ok());
        let refused = check_length(Some(10 << 20), 1 << 20).unwrap_err();
        assert_eq!(refused.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(refused.message.contains("1 MiB"), "{}", refused.message);
    }
}
