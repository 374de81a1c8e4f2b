//! The dashboard's pages with forms, under `/admin/shops/{shop}`: sync (and "sync now"),
//! the install check, uploading an export, the feedback inbox (and a message's status), and
//! the shop's settings. Built on the page helpers of [`super::pages`]; forms carry the
//! session's CSRF token and answer `303` back to their page with a notice.

use std::collections::HashMap;

use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection};

use crate::admin::views::{self as data, PageError};
use crate::admin_auth::{csrf_ok, Session};
use crate::config::ShopSettings;
use crate::sync::agent::{SyncError, SyncOptions};
use crate::web::admin::i18n::{tr, tr_with, Lang};
use crate::web::admin::pages::{
    act_and_return, failed, no_params, open, open_form, query, render, show, Extras, Query, Spec,
    MAX_FORM_BYTES,
};
use crate::web::admin::upload::{self, Refusal};
use crate::web::admin::{error_page, page_data, see_other, viewer, Viewer};
use crate::web::rejections::CsrfMismatch;
use crate::web::state::AppState;

pub fn routes(state: AppState) -> BoxedFilter<(Response,)> {
    sync_page(state.clone())
        .or(install(state.clone()))
        .unify()
        .or(sync_now(state.clone()))
        .unify()
        .or(upload_page(state.clone()))
        .unify()
        .or(upload_post(state.clone()))
        .unify()
        .or(feedback(state.clone()))
        .unify()
        .or(feedback_status(state.clone()))
        .unify()
        .or(settings(state.clone()))
        .unify()
        .or(settings_save(state))
        .unify()
        .boxed()
}

/// What `?result=` on the sync page says after "Sync now", in `lang`.
fn sync_notice(q: &Query, lang: Lang) -> Result<Option<String>, PageError> {
    if let Some(k) = q.keys().find(|k| k.as_str() != "result") {
        return Err(PageError::BadQuery(data::msg(
            "unknown parameter {name}: use {choices}",
            &[("name", &format!("{k:?}")), ("choices", "result")],
        )));
    }
    Ok(match q.get("result").map(String::as_str) {
        None => None,
        Some("ok") => Some(tr(lang, "Sync finished: every source answered.").into_owned()),
        Some("failed") => Some(
            tr(
                lang,
                "Sync finished with errors: the newest reports below say which.",
            )
            .into_owned(),
        ),
        Some("busy") => Some(
            tr(
                lang,
                "This shop is syncing already: wait for that run to finish, then reload.",
            )
            .into_owned(),
        ),
        Some("none") => Some(
            tr(
                lang,
                "No sources are configured: add [[shops.sources]] to laris.toml.",
            )
            .into_owned(),
        ),
        Some(other) => {
            return Err(PageError::BadQuery(data::msg(
                "result={value} is not valid: use ok, failed, busy or none",
                &[("value", &format!("{other:?}"))],
            )))
        }
    })
}

/// GET /admin/shops/{shop}/sync
fn sync_page(state: AppState) -> BoxedFilter<(Response,)> {
    warp::path!("admin" / "shops" / String / "sync")
        .and(warp::get())
        .and(query())
        .and(viewer(state))
        .and_then(|shop: String, q: Query, v: Viewer| {
            let lang = v.lang;
            let notice = sync_notice(&q, lang);
            show(
                v,
                shop,
                Spec::new("sync", "admin/sync.html", tr(lang, "Sync")),
                move |store, shop, _| {
                    sync_notice(&q, lang)?;
                    data::sync_page(store, shop)
                },
                move |_: &data::SyncPage, _| Extras {
                    notice: notice.ok().flatten(),
                    ..Default::default()
                },
            )
        })
        .boxed()
}

/// GET /admin/shops/{shop}/install[?check=URL] — "Pasang widget": the snippet, the
/// origins, a check of a shop page and a preview of each slot.
fn install(state: AppState) -> BoxedFilter<(Response,)> {
    warp::path!("admin" / "shops" / String / "install")
        .and(warp::get())
        .and(query())
        .and(warp::header::optional::<String>("host"))
        .and(viewer(state))
        .and_then(
            |raw: String, q: Query, host: Option<String>, v: Viewer| async move {
                let (session, shop) = match open(&v, &raw) {
                    Ok(x) => x,
                    Err(resp) => return Ok::<_, Rejection>(*resp),
                };
                let page = crate::web::admin::install::install_page(
                    &v.state,
                    shop,
                    q.get("check").map(String::as_str),
                    host.as_deref(),
                    v.lang,
                )
                .await;
                let spec = Spec::new("install", "admin/install.html", tr(v.lang, "Install widget"));
                Ok(render(&v, session, shop, spec, &page, Extras::default()))
            },
        )
        .boxed()
}

/// POST /admin/shops/{shop}/sync — form `csrf`: "Sync now", then back to the sync page.
fn sync_now(state: AppState) -> BoxedFilter<(Response,)> {
    warp::path!("admin" / "shops" / String / "sync")
        .and(warp::post())
        .and(warp::body::content_length_limit(MAX_FORM_BYTES))
        .and(warp::body::form::<HashMap<String, String>>())
        .and(viewer(state))
        .and_then(|raw: String, form: HashMap<String, String>, v: Viewer| async move {
            let (session, shop) = match open_form(&v, &raw, &form) {
                Ok(x) => x,
                Err(resp) => return Ok::<_, Rejection>(*resp),
            };
            let back = |result: &str| see_other(&format!("/admin/shops/{}/sync?result={result}", shop.id));
            if shop.sources.is_empty() {
                return Ok(back("none"));
            }
            tracing::info!(shop = %shop.id, user = %session.access.user_name(), "sync started from the admin page");
            Ok(match v.state.sync.sync_shop(shop.id.as_str(), &SyncOptions::default()).await {
                Ok(run) if run.ok => back("ok"),
                Ok(_) => back("failed"),
                Err(SyncError::Busy(_) | SyncError::Leased { .. }) => back("busy"),
                Err(e) => {
                    tracing::error!(error = %e, shop = %shop.id, "sync from the admin page");
                    back("failed")
                }
            })
        })
        .boxed()
}

/// GET /admin/shops/{shop}/upload[?report=ID] — "Upload exports": the form, the newest
/// imports and, with `report`, one import's report in full.
fn upload_page(state: AppState) -> BoxedFilter<(Response,)> {
    warp::path!("admin" / "shops" / String / "upload")
        .and(warp::get())
        .and(query())
        .and(viewer(state))
        .and_then(|shop: String, q: Query, v: Viewer| {
            let max = v.state.settings.server.max_upload_bytes;
            let lang = v.lang;
            show(
                v,
                shop,
                Spec::new("upload", "admin/upload.html", tr(lang, "Upload exports")),
                move |store, shop, _| data::upload_page(store, shop, data::parse_upload_query(&q)?, max),
                |_: &data::UploadPage, _| Extras::default(),
            )
        })
        .boxed()
}

/// The upload page again, with why the upload was refused, under the refusal's status.
async fn upload_refused(
    v: &Viewer,
    session: &Session,
    shop: &ShopSettings,
    mut refusal: Refusal,
) -> Response {
    refusal.message = crate::web::admin::i18n::translate_message(v.lang, &refusal.message);
    if refusal.status == StatusCode::FORBIDDEN {
        return error_page(v, Some(shop), refusal.status, &refusal.message);
    }
    let max = v.state.settings.server.max_upload_bytes;
    match page_data(&v.state, shop, move |store, shop, _| {
        data::upload_page(store, shop, None, max)
    })
    .await
    {
        Ok(page) => {
            let spec = Spec::new("upload", "admin/upload.html", tr(v.lang, "Upload exports"));
            let extras = Extras {
                notice: Some(refusal.message),
                ..Default::default()
            };
            let mut resp = render(v, session, shop, spec, &page, extras);
            if resp.status() == StatusCode::OK {
                *resp.status_mut() = refusal.status;
            }
            resp
        }
        Err(e) => failed(v, shop, e),
    }
}

/// POST /admin/shops/{shop}/upload — multipart form `csrf`, `kind` (auto, products,
/// orders), `file`: imports the file, then `303` to its report on the upload page.
fn upload_post(state: AppState) -> BoxedFilter<(Response,)> {
    warp::path!("admin" / "shops" / String / "upload")
        .and(warp::post())
        .and(warp::header::optional::<u64>("content-length"))
        .and(
            warp::multipart::form()
                .max_length(None)
                .map(Some)
                .or(warp::any().map(|| None))
                .unify(),
        )
        .and(viewer(state))
        .and_then(
            |raw: String, length: Option<u64>, form: Option<warp::multipart::FormData>, v: Viewer| async move {
                let (session, shop) = match open(&v, &raw) {
                    Ok(x) => x,
                    Err(resp) => return Ok::<_, Rejection>(*resp),
                };
                let limit = v.state.settings.server.max_upload_bytes;
                if let Err(refusal) = upload::check_length(length, limit) {
                    return Ok(upload_refused(&v, session, shop, refusal).await);
                }
                let Some(form) = form else {
                    let refusal = Refusal {
                        status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
                        message: "send the file with the form of this page (multipart/form-data)".into(),
                    };
                    return Ok(upload_refused(&v, session, shop, refusal).await);
                };
                let read = upload::read_form(&v.state, shop, form, |token| csrf_ok(session, token)).await;
                let form = match read {
                    Ok(form) if form.csrf.is_some() => form,
                    Ok(_) => {
                        let refusal = Refusal {
                            status: StatusCode::FORBIDDEN,
                            message: CsrfMismatch::MESSAGE.into(),
                        };
                        return Ok(upload_refused(&v, session, shop, refusal).await);
                    }
                    Err(refusal) => return Ok(upload_refused(&v, session, shop, refusal).await),
                };
                tracing::info!(shop = %shop.id, user = %session.access.user_name(), "export uploaded from the admin page");
                Ok(match upload::import(&v.state, shop, form.kind.as_deref(), form.file).await {
                    Ok(run) => see_other(&format!(
                        "/admin/shops/{}/upload?report={}#report",
                        shop.id,
                        run.report.started_at.timestamp_millis()
                    )),
                    Err(refusal) => upload_refused(&v, session, shop, refusal).await,
                })
            },
        )
        .boxed()
}

/// GET /admin/shops/{shop}/feedback
fn feedback(state: AppState) -> BoxedFilter<(Response,)> {
    warp::path!("admin" / "shops" / String / "feedback")
        .and(warp::get())
        .and(query())
        .and(viewer(state))
        .and_then(|shop: String, q: Query, v: Viewer| {
            let title = tr(v.lang, "Feedback").into_owned();
            show(
                v,
                shop,
                Spec::new("feedback", "admin/feedback.html", title),
                move |store, shop, _| {
                    no_params(&q)?;
                    data::feedback(store, shop)
                },
                |_: &data::FeedbackPage, _| Extras::default(),
            )
        })
        .boxed()
}

/// POST /admin/shops/{shop}/feedback/{id} — form `csrf`, `status` (new, read, answered).
fn feedback_status(state: AppState) -> BoxedFilter<(Response,)> {
    warp::path!("admin" / "shops" / String / "feedback" / String)
        .and(warp::post())
        .and(warp::body::content_length_limit(MAX_FORM_BYTES))
        .and(warp::body::form::<HashMap<String, String>>())
        .and(viewer(state))
        .and_then(
            |raw: String, id: String, form: HashMap<String, String>, v: Viewer| async move {
                let status = form.get("status").cloned();
                Ok::<_, Rejection>(
                    act_and_return(&v, &raw, &form, "feedback", move |store, shop, _| {
                        let id = data::parse_feedback_id(&id)?;
                        let status = data::parse_feedback_status(status.as_deref())?;
                        data::set_feedback_status(store, shop, id, status)
                    })
                    .await,
                )
            },
        )
        .boxed()
}

/// What `?saved=` on the settings page says after a change.
fn settings_notice(q: &Query, lang: Lang) -> Result<Option<String>, PageError> {
    if let Some(k) = q.keys().find(|k| !matches!(k.as_str(), "saved" | "rebuild")) {
        return Err(PageError::BadQuery(data::msg(
            "unknown parameter {name}: use {choices}",
            &[("name", &format!("{k:?}")), ("choices", "saved")],
        )));
    }
    let Some(section) = q.get("saved") else {
        return Ok(None);
    };
    if !crate::admin::settings::SECTIONS.contains(&section.as_str()) {
        return Err(PageError::BadQuery(data::msg(
            "saved={value} is not a section: use {choices}",
            &[
                ("value", &format!("{section:?}")),
                ("choices", &crate::admin::settings::SECTIONS.join(", ")),
            ],
        )));
    }
    // Named as the page's headings name them.
    let heading = match section.as_str() {
        "offers" => tr(lang, "Fixed offers"),
        "pins" => tr(lang, "Pins"),
        "exclusions" => tr(lang, "Exclusions"),
        "tiers" => tr(lang, "Loyalty tiers"),
        _ => tr(lang, "Widget slots"),
    };
    let section = [("section", heading.as_ref())];
    Ok(Some(match q.get("rebuild").map(String::as_str) {
        Some("failed") => tr_with(
            lang,
            "{section} saved, but the rebuild failed: the server log says why; the widget shows the change after the next sync.",
            &section,
        ),
        _ => tr_with(lang, "{section} saved: the widget shows the change now.", &section),
    }))
}

/// The shop as the config file sets it: what the owner's changes are laid over (pages get
/// the effective settings).
fn config_shop<'a>(
    settings: &'a crate::config::Settings,
    shop: &ShopSettings,
) -> Result<&'a ShopSettings, PageError> {
    settings
        .shop(&shop.id)
        .ok_or_else(|| PageError::NotFound(data::msg("unknown shop {shop}", &[("shop", shop.id.as_str())])))
}

/// GET /admin/shops/{shop}/settings — "Pengaturan": offers, pins, exclusions, tiers and
/// slots the owner may change, and the log of changes.
fn settings(state: AppState) -> BoxedFilter<(Response,)> {
    warp::path!("admin" / "shops" / String / "settings")
        .and(warp::get())
        .and(query())
        .and(viewer(state))
        .and_then(|shop: String, q: Query, v: Viewer| {
            let lang = v.lang;
            let notice = settings_notice(&q, lang);
            let configured = v.state.settings.clone();
            show(
                v,
                shop,
                Spec::new("settings", "admin/settings.html", tr(lang, "Settings")),
                move |store, shop, _| {
                    settings_notice(&q, lang)?;
                    crate::admin::settings::settings_page(store, config_shop(&configured, shop)?)
                },
                move |_: &crate::admin::settings::SettingsPage, _| Extras {
                    notice: notice.ok().flatten(),
                    ..Default::default()
                },
            )
        })
        .boxed()
}

/// POST /admin/shops/{shop}/settings/{section} — form `csrf`, `action` (`add`, `edit`,
/// `remove`, `set`, `reset`) and the section's fields: saves the change with who made it,
/// rebuilds the shop's model so the widget shows it, and goes back to the page.
fn settings_save(state: AppState) -> BoxedFilter<(Response,)> {
    warp::path!("admin" / "shops" / String / "settings" / String)
        .and(warp::post())
        .and(warp::body::content_length_limit(MAX_FORM_BYTES))
        .and(warp::body::form::<HashMap<String, String>>())
        .and(viewer(state))
        .and_then(
            |raw: String, section: String, form: HashMap<String, String>, v: Viewer| async move {
                let (session, shop) = match open_form(&v, &raw, &form) {
                    Ok(x) => x,
                    Err(resp) => return Ok::<_, Rejection>(*resp),
                };
                let user = session.access.user_name().to_string();
                let saved_section = section.clone();
                let configured = v.state.settings.clone();
                let saved = page_data(&v.state, shop, move |store, shop, model| {
                    let shop = config_shop(&configured, shop)?;
                    crate::admin::settings::save(store, shop, model, &user, &section, &form)
                })
                .await;
                if let Err(e) = saved {
                    return Ok(failed(&v, shop, e));
                }
                let back = format!("/admin/shops/{}/settings?saved={saved_section}", shop.id);
                Ok(match v.state.sync.rebuild(shop).await {
                    Ok(_) => see_other(&back),
                    Err(e) => {
                        tracing::error!(error = %e, shop = %shop.id, "rebuild after a settings change");
                        see_other(&format!("{back}&rebuild=failed"))
                    }
                })
            },
        )
        .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> Query {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_sync_notice_is_one_of_four_and_nothing_else() {
        assert_eq!(sync_notice(&q(&[]), Lang::En).unwrap(), None);
        assert!(sync_notice(&q(&[("result", "busy")]), Lang::En)
            .unwrap()
            .unwrap()
            .contains("syncing already"));
        assert!(sync_notice(&q(&[("result", "busy")]), Lang::Id)
            .unwrap()
            .unwrap()
            .contains("sedang sinkronisasi"));
        let err = sync_notice(&q(&[("result", "great")]), Lang::En)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("\"great\"") && err.contains("ok, failed, busy or none"),
            "{err}"
        );
        assert!(sync_notice(&q(&[("x", "1")]), Lang::En).is_err());
    }
}
