//! `GET /metrics`: Prometheus text exposition (version 0.0.4) behind the admin bearer
//! token (or user `admin`'s session) — a scraper sends it with `authorization: Bearer …` (`bearer_token` in a scrape
//! config). Per shop: records, quarantine, the last sync of each source, the model and its
//! blend fit (weights, mode, validation figures per list); for the
//! process: HTTP answers by status class, counted as they leave; whether the store answered
//! (`laris_store_up`), and the widget events held in memory, dropped, stored and the writes
//! they took ([`crate::web::event_writer`]). While the database is unreachable the per-shop
//! figures read from the store are left out and the rest is still answered.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

use warp::http::header;
use warp::{Filter, Rejection, Reply};

use crate::admin_auth::Access;
use crate::recommend::blend::{BlendMode, SIGNAL_NAMES};
use crate::web::admin::admin_access;
use crate::web::errors::{internal, reject};
use crate::web::state::{with_state, AppState};

/// HTTP answers by status class: 1xx … 5xx.
static ANSWERS: [AtomicU64; 5] = [
    AtomicU64::new(0),
    AtomicU64::new(0),
    AtomicU64::new(0),
    AtomicU64::new(0),
    AtomicU64::new(0),
];

/// Counts one answer (called for every response the service sends).
pub fn count_answer(status: u16) {
    if let Some(c) = (status / 100)
        .checked_sub(1)
        .and_then(|i| ANSWERS.get(usize::from(i)))
    {
        c.fetch_add(1, Ordering::Relaxed);
    }
}

pub fn metrics(state: AppState) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    warp::path!("metrics")
        .and(warp::get())
        .and(admin_access(&state))
        .and(with_state(state))
        .and_then(|access: Access, state: AppState| async move {
            if !matches!(access, Access::All) {
                return Err(reject(
                    warp::http::StatusCode::FORBIDDEN,
                    "metrics cover every shop: use the admin token or user admin",
                ));
            }
            let text = tokio::task::spawn_blocking(move || render(&state))
                .await
                .map_err(|e| internal("metrics task", e))?
                .map_err(|e| internal("metrics", e))?;
            Ok::<_, Rejection>(warp::reply::with_header(
                text,
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            ))
        })
}

/// A label value escaped as the exposition format wants.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn render(state: &AppState) -> Result<String, crate::store::StoreError> {
    let mut out = String::new();
    let mut gauge = |name: &str, help: &str, rows: Vec<(String, f64)>| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
        for (labels, value) in rows {
            if labels.is_empty() {
                let _ = writeln!(out, "{name} {value}");
            } else {
                let _ = writeln!(out, "{name}{{{labels}}} {value}");
            }
        }
    };
    // While the database is unreachable the store's figures are left out; the rest (the
    // event queue above all) is still reported.
    let status = match crate::status::status(&state.settings, &*state.store, None, Some(&state.models)) {
        Ok(status) => Some(status),
        Err(e) if e.is_unavailable() => {
            tracing::warn!(error = %e, "metrics without the store's figures");
            None
        }
        Err(e) => return Err(e),
    };
    let store_up = status.is_some();
    let shops: &[crate::status::ShopStatus] = status.as_ref().map_or(&[], |s| &s.shops);
    let per_shop = |f: &dyn Fn(&crate::status::ShopStatus) -> f64| {
        shops
            .iter()
            .map(|s| (format!("shop=\"{}\"", label(&s.id)), f(s)))
            .collect::<Vec<_>>()
    };
    gauge(
        "laris_products",
        "Products stored.",
        per_shop(&|s| s.products as f64),
    );
    gauge(
        "laris_active_products",
        "Active products.",
        per_shop(&|s| s.active_products as f64),
    );
    gauge(
        "laris_orders",
        "Orders stored, any status.",
        per_shop(&|s| s.orders as f64),
    );
    gauge(
        "laris_paid_orders",
        "Orders that count as purchases.",
        per_shop(&|s| s.paid_orders as f64),
    );
    gauge(
        "laris_customers",
        "Customers derived from purchases.",
        per_shop(&|s| s.customers as f64),
    );
    gauge(
        "laris_quarantined_records",
        "Feed records kept in quarantine.",
        per_shop(&|s| s.quarantined as f64),
    );
    // The newest report of each source (reports are newest first).
    let mut last: Vec<(String, &crate::records::SyncReport)> = Vec::new();
    for s in shops {
        for r in &s.recent_syncs {
            let labels = format!(
                "shop=\"{}\",kind=\"{}\",source=\"{}\"",
                label(&s.id),
                label(r.kind.as_str()),
                label(&r.source)
            );
            if !last.iter().any(|(l, _)| l == &labels) {
                last.push((labels, r));
            }
        }
    }
    let rows = |f: &dyn Fn(&crate::records::SyncReport) -> f64| {
        last.iter().map(|(l, r)| (l.clone(), f(r))).collect()
    };
    gauge(
        "laris_sync_last_finished_timestamp_seconds",
        "When the last run of a source finished.",
        rows(&|r| r.finished_at.timestamp() as f64),
    );
    gauge(
        "laris_sync_last_ok",
        "1 when the last run of a source ended without an error.",
        rows(&|r| f64::from(u8::from(r.ok))),
    );
    gauge(
        "laris_sync_last_duration_seconds",
        "How long the last run of a source took.",
        rows(&|r| r.duration_ms as f64 / 1000.0),
    );
    gauge(
        "laris_sync_last_quarantined",
        "Records the last run of a source quarantined.",
        rows(&|r| r.quarantined as f64),
    );
    let models: Vec<_> = state
        .settings
        .shops
        .iter()
        .filter_map(|s| {
            state
                .models
                .get(&s.id)
                .map(|m| (format!("shop=\"{}\"", label(s.id.as_str())), m))
        })
        .collect();
    gauge(
        "laris_model_build_seconds",
        "Time of the last model rebuild.",
        models
            .iter()
            .map(|(l, m)| (l.clone(), m.build_ms as f64 / 1000.0))
            .collect(),
    );
    gauge(
        "laris_model_built_timestamp_seconds",
        "When the current model was built.",
        models
            .iter()
            .map(|(l, m)| (l.clone(), m.built_at.timestamp() as f64))
            .collect(),
    );
    gauge(
        "laris_model_bundle_rules",
        "Association rules in the current model.",
        models
            .iter()
            .map(|(l, m)| (l.clone(), m.bundles.rules.len() as f64))
            .collect(),
    );
    // The blended ranker's fit, per list: `item` (product pages), `personal` ("for you").
    let mut weights = Vec::new();
    let mut modes = Vec::new();
    let mut hit_rates = Vec::new();
    let mut ndcgs = Vec::new();
    for (l, m) in &models {
        for (list, fit) in [("item", &m.fit.item), ("personal", &m.fit.personal)] {
            for (signal, w) in SIGNAL_NAMES.iter().zip(fit.weights.as_array()) {
                // Through the f32's shortest text, so that 0.3 prints as 0.3.
                let w: f64 = w.to_string().parse().unwrap_or(f64::from(w));
                weights.push((format!("{l},list=\"{list}\",signal=\"{signal}\""), w));
            }
            for mode in BlendMode::ALL {
                modes.push((
                    format!("{l},list=\"{list}\",mode=\"{}\"", mode.as_str()),
                    f64::from(u8::from(fit.mode == mode)),
                ));
            }
            for (model, f) in [
                ("blend", fit.blend),
                ("best_sellers", fit.best_sellers),
                ("peer", fit.peer),
            ] {
                let labels = format!("{l},list=\"{list}\",model=\"{model}\"");
                hit_rates.push((labels.clone(), f.hit_rate));
                ndcgs.push((labels, f.ndcg));
            }
        }
    }
    gauge(
        "laris_blend_weight",
        "Weight the blended ranker serves per signal, fitted per shop at every rebuild.",
        weights,
    );
    gauge(
        "laris_blend_mode",
        "1 for the mode a list is served in (defaults, fitted, best_sellers), 0 for the others.",
        modes,
    );
    gauge(
        "laris_blend_validation_hit_rate",
        "Share of validation cases whose top 10 held a bought product: the served blend, best-sellers, the single-signal peer.",
        hit_rates,
    );
    gauge(
        "laris_blend_validation_ndcg",
        "Mean NDCG@10 on the validation cases: the served blend, best-sellers, the single-signal peer.",
        ndcgs,
    );
    gauge(
        "laris_blend_fitted_timestamp_seconds",
        "When the blend weights were fitted (0: never).",
        models
            .iter()
            .map(|(l, m)| (l.clone(), m.fit.fitted_at.timestamp() as f64))
            .collect(),
    );
    gauge(
        "laris_store_up",
        "1 when the store answered this scrape, 0 while the database is unreachable.",
        vec![(String::new(), f64::from(u8::from(store_up)))],
    );
    let events = state.event_writer.stats();
    gauge(
        "laris_events_buffered",
        "Widget events held in memory because the database is unreachable (written when it is back).",
        vec![(String::new(), events.buffered.load(Ordering::Relaxed) as f64)],
    );
    for (name, help, value) in [
        (
            "laris_events_dropped_total",
            "Widget events dropped because the database was unreachable and the event queue (server.event_buffer) was full.",
            events.dropped.load(Ordering::Relaxed),
        ),
        (
            "laris_events_stored_total",
            "Widget events written to the store by this process.",
            events.stored.load(Ordering::Relaxed),
        ),
        (
            "laris_event_writes_total",
            "Store writes of widget events (each holds every beacon that arrived during the previous one).",
            events.writes.load(Ordering::Relaxed),
        ),
    ] {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}");
    }
    let _ = writeln!(out, "# HELP laris_http_responses_total HTTP responses sent, by status class.\n# TYPE laris_http_responses_total counter");
    for (i, c) in ANSWERS.iter().enumerate() {
        let _ = writeln!(
            out,
            "laris_http_responses_total{{class=\"{}xx\"}} {}",
            i + 1,
            c.load(Ordering::Relaxed)
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }

    #[test]
    fn answers_are_counted_by_class() {
        let before = ANSWERS[3].load(Ordering::Relaxed);
        count_answer(404);
        count_answer(999);
        assert!(ANSWERS[3].load(Ordering::Relaxed) > before);
    }
}
