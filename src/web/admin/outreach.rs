//! The owner's side of the follow-up automations: the outbox page (messages that wait to be
//! sent by hand with a `wa.me` link, and the recent messages of every status), its CSV, the
//! opt-out page and their JSON API under `/admin/api/shops/{shop}/…`, including a preview
//! of what the automations would record now. Pages and API call the same functions of
//! [`crate::admin::views`], so the two never disagree.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use crate::admin::views::{self as data, PageError};
use crate::admin_auth::Access;
use crate::web::admin::api::answer;
use crate::web::admin::i18n::tr;
use crate::web::admin::pages::{
    act_and_return, csv_file, failed, no_params, open_form, query, render, show, Extras, Query, Spec,
    MAX_FORM_BYTES,
};
use crate::web::admin::{
    admin_access, admin_access_csrf, api_error, page_data, page_error_message, see_other, viewer, Viewer,
};
use crate::web::public::percent_decode;
use crate::web::state::{allowed_shop, with_state, AppState};

/// The outbox and opt-out pages and forms.
pub fn page_routes(state: AppState) -> BoxedFilter<(Response,)> {
    outbox_page(state.clone())
        .or(outbox_csv(state.clone()))
        .unify()
        .or(mark_sent_form(state.clone()))
        .unify()
        .or(opt_outs_page(state.clone()))
        .unify()
        .or(add_opt_out_form(state.clone()))
        .unify()
        .or(remove_opt_out_form(state))
        .unify()
        .boxed()
}

/// The outbox's and opt-outs' JSON API.
pub fn api_routes(state: AppState) -> BoxedFilter<(Response,)> {
    messages_api(state.clone())
        .or(mark_sent_api(state.clone()))
        .unify()
        .or(opt_outs_api(state.clone()))
        .unify()
        .or(add_opt_out_api(state.clone()))
        .unify()
        .or(remove_opt_out_api(state.clone()))
        .unify()
        .or(preview_api(state))
        .unify()
        .boxed()
}

// ---- pages --------------------------------------------------------------------------------

/// GET /admin/shops/{shop}/outbox
fn outbox_page(state: AppState) -> BoxedFilter<(Response,)> {
    warp::path!("admin" / "shops" / String / "outbox")
        .and(warp::get())
        .and(query())
        .and(viewer(state))
        .and_then(|shop: String, q: Query, v: Viewer| {
            let title = tr(v.lang, "Outbox").into_owned();
            show(
                v,
                shop,
                Spec::new("outbox", "admin/outbox.html", title),
                move |store, shop, _| {
                    no_params(&q)?;
                    data::outbox(store, shop, Utc::now())
                },
                |_: &data::OutboxPage, _| Extras::default(),
            )
        })
        .boxed()
}

/// GET /admin/shops/{shop}/outbox.csv — the due outbox messages with their WhatsApp links.
fn outbox_csv(state: AppState) -> BoxedFilter<(Response,)> {
    csv_file(state, "outbox", |store, shop, q, out| {
        no_params(q)?;
        let page = data::outbox(store, shop, Utc::now())?;
        data::outbox_csv(&page.due, shop.timezone.offset(), out)
    })
}

/// POST /admin/shops/{shop}/outbox/{key} — form `csrf`: the owner sent the message by hand.
fn mark_sent_form(state: AppState) -> BoxedFilter<(Response,)> {
    warp::path!("admin" / "shops" / String / "outbox" / String)
        .and(warp::post())
        .and(warp::body::content_length_limit(MAX_FORM_BYTES))
        .and(warp::body::form::<HashMap<String, String>>())
        .and(viewer(state))
        .and_then(
            |raw: String, key: String, form: HashMap<String, String>, v: Viewer| async move {
                let key = percent_decode(&key);
                Ok::<_, Rejection>(
                    act_and_return(&v, &raw, &form, "outbox", move |store, shop, _| {
                        data::mark_sent(store, shop, &key, Utc::now())
                    })
                    .await,
                )
            },
        )
        .boxed()
}

/// GET /admin/shops/{shop}/opt-outs
fn opt_outs_page(state: AppState) -> BoxedFilter<(Response,)> {
    warp::path!("admin" / "shops" / String / "opt-outs")
        .and(warp::get())
        .and(query())
        .and(viewer(state))
        .and_then(|shop: String, q: Query, v: Viewer| {
            let title = tr(v.lang, "Opt-outs").into_owned();
            show(
                v,
                shop,
                Spec::new("opt-outs", "admin/opt_outs.html", title),
                move |store, shop, _| {
                    no_params(&q)?;
                    data::opt_outs(store, shop)
                },
                |_: &data::OptOutsPage, _| Extras {
                    form: serde_json::json!({ "customer": "", "note": "" }),
                    ..Default::default()
                },
            )
        })
        .boxed()
}

/// POST /admin/shops/{shop}/opt-outs — form `csrf`, `customer` (a customer id or a phone
/// number), `note`. Bad input shows the page again, the values kept, with why (400).
fn add_opt_out_form(state: AppState) -> BoxedFilter<(Response,)> {
    warp::path!("admin" / "shops" / String / "opt-outs")
        .and(warp::post())
        .and(warp::body::content_length_limit(MAX_FORM_BYTES))
        .and(warp::body::form::<HashMap<String, String>>())
        .and(viewer(state))
        .and_then(
            |raw: String, form: HashMap<String, String>, v: Viewer| async move {
                let (session, shop) = match open_form(&v, &raw, &form) {
                    Ok(x) => x,
                    Err(resp) => return Ok::<_, Rejection>(*resp),
                };
                let customer = form.get("customer").cloned().unwrap_or_default();
                let note = form.get("note").cloned().unwrap_or_default();
                let (c, n) = (customer.clone(), note.clone());
                let result = page_data(&v.state, shop, move |store, shop, _| {
                    data::add_opt_out(store, shop, &c, &n, Utc::now())
                })
                .await;
                let refused = match result {
                    Ok(_) => return Ok(see_other(&format!("/admin/shops/{}/opt-outs", shop.id))),
                    Err(e @ PageError::BadQuery(_)) => e,
                    Err(e) => return Ok(failed(&v, shop, e)),
                };
                // The page again, with the message and what was typed.
                let page = match page_data(&v.state, shop, |store, shop, _| data::opt_outs(store, shop)).await
                {
                    Ok(page) => page,
                    Err(e) => return Ok(failed(&v, shop, e)),
                };
                let extras = Extras {
                    notice: Some(page_error_message(v.lang, &refused)),
                    form: serde_json::json!({ "customer": customer, "note": note }),
                    ..Default::default()
                };
                let title = tr(v.lang, "Opt-outs").into_owned();
                let spec = Spec::new("opt-outs", "admin/opt_outs.html", title);
                let mut resp = render(&v, session, shop, spec, &page, extras);
                if resp.status() == StatusCode::OK {
                    *resp.status_mut() = StatusCode::BAD_REQUEST;
                }
                Ok(resp)
            },
        )
        .boxed()
}

/// POST /admin/shops/{shop}/opt-outs/{customer}/remove — form `csrf`.
fn remove_opt_out_form(state: AppState) -> BoxedFilter<(Response,)> {
    warp::path!("admin" / "shops" / String / "opt-outs" / String / "remove")
        .and(warp::post())
        .and(warp::body::content_length_limit(MAX_FORM_BYTES))
        .and(warp::body::form::<HashMap<String, String>>())
        .and(viewer(state))
        .and_then(
            |raw: String, customer: String, form: HashMap<String, String>, v: Viewer| async move {
                let customer = percent_decode(&customer);
                Ok::<_, Rejection>(
                    act_and_return(&v, &raw, &form, "opt-outs", move |store, shop, _| {
                        data::remove_opt_out(store, shop, &customer)
                    })
                    .await,
                )
            },
        )
        .boxed()
}

// ---- API ----------------------------------------------------------------------------------

/// GET /admin/api/shops/{shop}/messages[?status=due|sent|failed|cancelled] — newest first,
/// with the counts per status.
fn messages_api(state: AppState) -> BoxedFilter<(Response,)> {
    warp::path!("admin" / "api" / "shops" / String / "messages")
        .and(warp::get())
        .and(admin_access(&state))
        .and(warp::query::<Query>())
        .and(with_state(state))
        .and_then(|shop: String, access: Access, q: Query, state: AppState| {
            answer(state, access, shop, move |store, shop, _| {
                if let Some(k) = q.keys().find(|k| k.as_str() != "status") {
                    return Err(PageError::BadQuery(data::msg(
                        "unknown parameter {name}: use {choices}",
                        &[("name", &format!("{k:?}")), ("choices", "status")],
                    )));
                }
                let status = q
                    .get("status")
                    .map(|s| data::parse_message_status(s))
                    .transpose()?;
                data::messages(store, shop, status)
            })
        })
        .boxed()
}

/// POST /admin/api/shops/{shop}/messages/{key}/sent — the message as it now is.
fn mark_sent_api(state: AppState) -> BoxedFilter<(Response,)> {
    warp::path!("admin" / "api" / "shops" / String / "messages" / String / "sent")
        .and(warp::post())
        .and(admin_access_csrf(&state))
        .and(with_state(state))
        .and_then(|shop: String, key: String, access: Access, state: AppState| {
            let key = percent_decode(&key);
            answer(state, access, shop, move |store, shop, _| {
                data::mark_sent(store, shop, &key, Utc::now())
            })
        })
        .boxed()
}

/// GET /admin/api/shops/{shop}/opt-outs — newest first.
fn opt_outs_api(state: AppState) -> BoxedFilter<(Response,)> {
    warp::path!("admin" / "api" / "shops" / String / "opt-outs")
        .and(warp::get())
        .and(admin_access(&state))
        .and(warp::query::<Query>())
        .and(with_state(state))
        .and_then(|shop: String, access: Access, q: Query, state: AppState| {
            answer(state, access, shop, move |store, shop, _| {
                no_params(&q)?;
                data::opt_outs(store, shop)
            })
        })
        .boxed()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OptOutBody {
    customer: String,
    #[serde(default)]
    note: String,
}

/// POST /admin/api/shops/{shop}/opt-outs `{"customer": "0812-3456-789", "note": "…"}` —
/// `201` with the opt-out kept and how many due messages it cancelled.
fn add_opt_out_api(state: AppState) -> BoxedFilter<(Response,)> {
    let max_body = state.settings.server.max_body_bytes;
    warp::path!("admin" / "api" / "shops" / String / "opt-outs")
        .and(warp::post())
        .and(admin_access_csrf(&state))
        .and(warp::body::content_length_limit(max_body))
        .and(warp::body::json::<OptOutBody>())
        .and(with_state(state))
        .and_then(
            |shop: String, access: Access, body: OptOutBody, state: AppState| async move {
                let mut resp = answer(state, access, shop, move |store, shop, _| {
                    data::add_opt_out(store, shop, &body.customer, &body.note, Utc::now())
                })
                .await?;
                *resp.status_mut() = StatusCode::CREATED;
                Ok::<_, Rejection>(resp)
            },
        )
        .boxed()
}

/// DELETE /admin/api/shops/{shop}/opt-outs/{customer} — `{"removed": "<customer>"}`; 404
/// when the customer has no opt-out.
fn remove_opt_out_api(state: AppState) -> BoxedFilter<(Response,)> {
    warp::path!("admin" / "api" / "shops" / String / "opt-outs" / String)
        .and(warp::delete())
        .and(admin_access_csrf(&state))
        .and(with_state(state))
        .and_then(
            |shop: String, customer: String, access: Access, state: AppState| {
                let customer = percent_decode(&customer);
                answer(state, access, shop, move |store, shop, _| {
                    data::remove_opt_out(store, shop, &customer)?;
                    Ok(serde_json::json!({ "removed": customer }))
                })
            },
        )
        .boxed()
}

/// `?at=` of the preview: an RFC 3339 time; now without one.
fn preview_at(q: &Query) -> Result<DateTime<Utc>, PageError> {
    if let Some(k) = q.keys().find(|k| k.as_str() != "at") {
        return Err(PageError::BadQuery(data::msg(
            "unknown parameter {name}: use {choices}",
            &[("name", &format!("{k:?}")), ("choices", "at")],
        )));
    }
    match q.get("at") {
        None => Ok(Utc::now()),
        Some(raw) => DateTime::parse_from_rfc3339(raw.trim())
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| {
                PageError::BadQuery(data::msg(
                    "at={value} is not a time: write it in RFC 3339, like 2026-12-06T09:00:00+07:00",
                    &[("value", &format!("{raw:?}"))],
                ))
            }),
    }
}

/// GET /admin/api/shops/{shop}/automations/preview[?at=RFC3339] — what a run of the shop's
/// automations would record at `at` (now without it) and whom it holds back, recording
/// nothing; 503 while the shop has no model yet.
fn preview_api(state: AppState) -> BoxedFilter<(Response,)> {
    warp::path!("admin" / "api" / "shops" / String / "automations" / "preview")
        .and(warp::get())
        .and(admin_access(&state))
        .and(warp::query::<Query>())
        .and(with_state(state))
        .and_then(
            |raw: String, access: Access, q: Query, state: AppState| async move {
                let shop = allowed_shop(&state, &access, &raw)?;
                let at = preview_at(&q).map_err(api_error)?;
                let plan = page_data(&state, shop, move |store, shop, model| {
                    let Some(model) = model else {
                        return Err(PageError::NotReady(shop.id.to_string()));
                    };
                    crate::outreach::preview(store, shop, model, at).map_err(PageError::from)
                })
                .await
                .map_err(api_error)?;
                Ok::<_, Rejection>(warp::reply::json(&plan).into_response())
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
    fn the_preview_time_is_rfc_3339_or_an_error_naming_the_value() {
        let at = preview_at(&q(&[("at", "2026-12-06T09:00:00+07:00")])).unwrap();
        assert_eq!(at.to_rfc3339(), "2026-12-06T02:00:00+00:00");
        let e = preview_at(&q(&[("at", "tomorrow")])).unwrap_err().to_string();
        assert!(e.contains("\"tomorrow\"") && e.contains("RFC 3339"), "{e}");
        let e = preview_at(&q(&[("when", "x")])).unwrap_err().to_string();
        assert!(e.contains("\"when\"") && e.contains("at"), "{e}");
    }
}
