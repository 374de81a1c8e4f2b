//! The dashboard's HTML pages, one route per page under `/admin/shops/{shop}`, each
//! rendering a `templates/admin/*.html` template from the data of
//! [`crate::admin::views`] plus its charts. Without a session a page answers `303` to
//! `/admin/login`; another shop's user gets 403, a bad query 400, all as pages. Forms post
//! with the session's CSRF token in a hidden `csrf` field and answer `303` back to the page.
//! The pages with forms (sync, install check, upload, feedback, settings) are in
//! [`super::forms`], built on the helpers here.

use std::collections::HashMap;

use serde::Serialize;
use warp::filters::BoxedFilter;
use warp::http::{header, HeaderValue, StatusCode};
use warp::reply::Response;
use warp::{Filter, Rejection};

use crate::admin::analytics::Overview;
use crate::admin::charts::{bar_chart, histogram_chart, line_chart, ChartWords};
use crate::admin::views::{self as data, PageError};
use crate::admin_auth::{csrf_ok, Access, Session};
use crate::config::ShopSettings;
use crate::domain::Rupiah;
use crate::model::ShopModel;
use crate::store::ShopStore;
use crate::web::admin::i18n::{tr, tr_with, Lang};
use crate::web::admin::{
    charts, effective_shop, error_page, html, page_data, page_error_message, render_failed, see_other,
    status_of, viewer, without_session, Layout, Viewer,
};
use crate::web::public::percent_decode;
use crate::web::rejections::CsrfMismatch;
use crate::web::state::AppState;
use crate::web::templates;

pub(super) type Query = HashMap<String, String>;

/// Largest form a page posts.
pub(super) const MAX_FORM_BYTES: u64 = 16 * 1024;

pub fn routes(state: AppState) -> BoxedFilter<(Response,)> {
    overview(state.clone())
        .or(overview_csv(state.clone()))
        .unify()
        .or(products(state.clone()))
        .unify()
        .or(products_csv(state.clone()))
        .unify()
        .or(product(state.clone()))
        .unify()
        .or(customers(state.clone()))
        .unify()
        .or(customers_csv(state.clone()))
        .unify()
        .or(feedback_csv(state.clone()))
        .unify()
        .or(customer(state.clone()))
        .unify()
        .or(tiers(state.clone()))
        .unify()
        .or(bundles(state.clone()))
        .unify()
        .or(performance(state.clone()))
        .unify()
        .or(experiment(state))
        .unify()
        .boxed()
}

/// Which page: its navigation entry, template and title.
pub(super) struct Spec {
    nav: &'static str,
    template: &'static str,
    title: String,
}

impl Spec {
    pub(super) fn new(nav: &'static str, template: &'static str, title: impl Into<String>) -> Spec {
        Spec {
            nav,
            template,
            title: title.into(),
        }
    }
}

/// What a page shows beside its data: charts, the values of its filter form, a notice.
#[derive(Default)]
pub(super) struct Extras {
    pub(super) charts: Vec<(&'static str, String)>,
    pub(super) form: serde_json::Value,
    pub(super) notice: Option<String>,
}

/// The signed-in session and the shop of the path, or the answer for a request that may
/// not see it: the sign-in page, 403, 404.
pub(super) fn open<'a>(
    v: &'a Viewer,
    raw_shop: &str,
) -> Result<(&'a Session, &'a ShopSettings), Box<Response>> {
    let Some(session) = &v.session else {
        return Err(Box::new(without_session(v)));
    };
    let shop = v.state.settings.shops.iter().find(|s| s.id.as_str() == raw_shop);
    let may_see = match &session.access {
        Access::All => true,
        Access::Shop(own) => own.as_str() == raw_shop,
    };
    if !may_see {
        let user = session.access.user_name();
        return Err(Box::new(error_page(
            v,
            None,
            StatusCode::FORBIDDEN,
            &tr_with(v.lang, "User {user} may see shop {user} only.", &[("user", user)]),
        )));
    }
    match shop {
        Some(shop) => Ok((session, shop)),
        None => Err(Box::new(error_page(
            v,
            None,
            StatusCode::NOT_FOUND,
            &tr_with(
                v.lang,
                "Unknown shop {shop}: shops are configured as [[shops]] in laris.toml.",
                &[("shop", &format!("{raw_shop:?}"))],
            ),
        ))),
    }
}

/// Like [`open`], for a form post: the form must carry the session's CSRF token (403).
pub(super) fn open_form<'a>(
    v: &'a Viewer,
    raw_shop: &str,
    form: &HashMap<String, String>,
) -> Result<(&'a Session, &'a ShopSettings), Box<Response>> {
    let (session, shop) = open(v, raw_shop)?;
    if !csrf_ok(session, form.get("csrf").map_or("", String::as_str)) {
        return Err(Box::new(error_page(
            v,
            Some(shop),
            StatusCode::FORBIDDEN,
            &CsrfMismatch::page_message(v.lang),
        )));
    }
    Ok((session, shop))
}

/// A form that changes one thing and returns to a page of the shop: checks the session's
/// CSRF token, runs `work` off the async threads, then answers `303` to
/// `/admin/shops/{shop}/{back}` — or the error page (the CSRF refusal, a bad value).
pub(super) async fn act_and_return<T, F>(
    v: &Viewer,
    raw_shop: &str,
    form: &HashMap<String, String>,
    back: &str,
    work: F,
) -> Response
where
    T: Send + 'static,
    F: FnOnce(&dyn ShopStore, &ShopSettings, Option<&ShopModel>) -> Result<T, PageError> + Send + 'static,
{
    let shop = match open_form(v, raw_shop, form) {
        Ok((_, shop)) => shop,
        Err(resp) => return *resp,
    };
    match page_data(&v.state, shop, work).await {
        Ok(_) => see_other(&format!("/admin/shops/{}/{back}", shop.id)),
        Err(e) => failed(v, shop, e),
    }
}

pub(super) fn render<T: Serialize>(
    v: &Viewer,
    session: &Session,
    shop: &ShopSettings,
    spec: Spec,
    page: &T,
    extras: Extras,
) -> Response {
    let state = &v.state;
    let layout = Layout::new(state, session, Some(shop), spec.nav, spec.title);
    let ctx = minijinja::context! {
        lang => v.lang.code(),
        here => &v.here,
        layout => minijinja::Value::from(minijinja::value::Serde(&layout)),
        page => minijinja::Value::from(minijinja::value::Serde(page)),
        charts => charts(extras.charts),
        form => minijinja::Value::from(minijinja::value::Serde(&extras.form)),
        notice => extras.notice,
    };
    match templates::render(&state.templates, spec.template, ctx) {
        Ok(body) => html(StatusCode::OK, body),
        Err(e) => render_failed(e),
    }
}

/// Gathers a page's data and renders it, or renders why not.
pub(super) async fn show<T, F, X>(
    v: Viewer,
    raw_shop: String,
    spec: Spec,
    compute: F,
    extras: X,
) -> Result<Response, Rejection>
where
    T: Serialize + Send + 'static,
    F: FnOnce(&dyn ShopStore, &ShopSettings, Option<&ShopModel>) -> Result<T, PageError> + Send + 'static,
    X: FnOnce(&T, &ShopSettings) -> Extras,
{
    let (session, shop) = match open(&v, &raw_shop) {
        Ok(x) => x,
        Err(resp) => return Ok(*resp),
    };
    Ok(match page_data(&v.state, shop, compute).await {
        Ok(page) => {
            let model = v.state.models.get(&shop.id);
            let extras = extras(&page, &effective_shop(shop, model.as_deref()));
            render(&v, session, shop, spec, &page, extras)
        }
        Err(e) => failed(&v, shop, e),
    })
}

pub(super) fn failed(v: &Viewer, shop: &ShopSettings, e: PageError) -> Response {
    let status = status_of(&e);
    let message = if status == StatusCode::INTERNAL_SERVER_ERROR {
        tracing::error!(error = %e, shop = %shop.id, "admin page");
        tr(v.lang, "Internal error; the server log has the details.").into_owned()
    } else {
        page_error_message(v.lang, &e)
    };
    error_page(v, Some(shop), status, &message)
}

pub(super) fn query() -> impl Filter<Extract = (Query,), Error = Rejection> + Clone {
    warp::query::<Query>()
}

fn money(v: i64) -> String {
    Rupiah(v).to_string()
}

/// The texts the charts draw themselves, in `lang`.
fn chart_words(lang: Lang) -> ChartWords {
    ChartWords {
        no_data: tr(lang, "no data").into_owned(),
        from: tr(lang, "from").into_owned(),
    }
}

/// "day", "week" or "month" in `lang`.
fn period_word(lang: Lang, period: &str) -> String {
    match period {
        "day" => tr(lang, "day"),
        "week" => tr(lang, "week"),
        _ => tr(lang, "month"),
    }
    .into_owned()
}

fn overview_charts(o: &Overview, lang: Lang) -> Vec<(&'static str, String)> {
    let labels: Vec<String> = o.buckets.iter().map(|b| b.label.clone()).collect();
    let per = period_word(lang, o.period.as_str());
    let words = chart_words(lang);
    vec![
        (
            "revenue",
            line_chart(
                &tr_with(lang, "Paid revenue per {period}", &[("period", &per)]),
                &labels,
                &[(
                    &tr(lang, "Revenue"),
                    o.buckets.iter().map(|b| b.revenue.0).collect(),
                )],
                money,
                &words,
            ),
        ),
        (
            "customers",
            line_chart(
                &tr_with(
                    lang,
                    "New and returning customers per {period}",
                    &[("period", &per)],
                ),
                &labels,
                &[
                    (
                        &tr(lang, "New"),
                        o.buckets.iter().map(|b| b.new_customers as i64).collect(),
                    ),
                    (
                        &tr(lang, "Returning"),
                        o.buckets.iter().map(|b| b.returning_customers as i64).collect(),
                    ),
                ],
                |v| v.to_string(),
                &words,
            ),
        ),
    ]
}

/// GET /admin/shops/{shop}[?period=day|week|month&from=YYYY-MM-DD&to=YYYY-MM-DD]
fn overview(state: AppState) -> BoxedFilter<(Response,)> {
    warp::path!("admin" / "shops" / String)
        .and(warp::get())
        .and(query())
        .and(viewer(state))
        .and_then(|shop: String, q: Query, v: Viewer| {
            let cache = v.state.overviews.clone();
            let lang = v.lang;
            show(
                v,
                shop,
                Spec::new("overview", "admin/overview.html", tr(lang, "Overview")),
                move |store, shop, _| cache.overview(store, shop, &data::OverviewQuery::parse(&q)?),
                move |o: &Overview, _| Extras {
                    charts: overview_charts(o, lang),
                    form: serde_json::json!({"period": o.period.as_str(), "from": o.from, "to": o.to}),
                    notice: None,
                },
            )
        })
        .boxed()
}

/// A CSV download.
fn csv(filename: &str, body: String) -> Response {
    let mut resp = Response::new(body.into());
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    resp
}

/// GET /admin/shops/{shop}/overview.csv[?period=…&from=…&to=…] — the overview's table.
fn overview_csv(state: AppState) -> BoxedFilter<(Response,)> {
    warp::path!("admin" / "shops" / String / "overview.csv")
        .and(warp::get())
        .and(query())
        .and(viewer(state))
        .and_then(|raw: String, q: Query, v: Viewer| async move {
            let shop = match open(&v, &raw) {
                Ok((_, shop)) => shop,
                Err(resp) => return Ok::<_, Rejection>(*resp),
            };
            let cache = v.state.overviews.clone();
            let result = page_data(&v.state, shop, move |store, shop, _| {
                cache.overview(store, shop, &data::OverviewQuery::parse(&q)?)
            })
            .await;
            Ok(match result {
                Ok(o) => csv(
                    &format!(
                        "{}-overview-{}-{}-{}.csv",
                        shop.id,
                        o.period.as_str(),
                        o.from,
                        o.to
                    ),
                    crate::admin::csv::overview_csv(&o),
                ),
                Err(e) => failed(&v, shop, e),
            })
        })
        .boxed()
}

/// GET /admin/shops/{shop}/products
fn products(state: AppState) -> BoxedFilter<(Response,)> {
    warp::path!("admin" / "shops" / String / "products")
        .and(warp::get())
        .and(query())
        .and(viewer(state))
        .and_then(|shop: String, q: Query, v: Viewer| {
            let lang = v.lang;
            show(
                v,
                shop,
                Spec::new("products", "admin/products.html", tr(lang, "Products")),
                move |store, shop, _| {
                    data::ProductQuery::parse(&q)?;
                    data::products(store, shop)
                },
                move |p: &data::ProductsPage, _| Extras {
                    charts: vec![(
                        "best_sellers",
                        bar_chart(
                            &tr(lang, "Best-sellers: units sold"),
                            &p.best_sellers
                                .iter()
                                .map(|b| (b.name.clone(), b.quantity as i64))
                                .collect::<Vec<_>>(),
                            |v| v.to_string(),
                            &chart_words(lang),
                        ),
                    )],
                    ..Default::default()
                },
            )
        })
        .boxed()
}

/// GET /admin/shops/{shop}/products/{id}[?lang=id|en] — what the widget shows on its page.
fn product(state: AppState) -> BoxedFilter<(Response,)> {
    warp::path!("admin" / "shops" / String / "products" / String)
        .and(warp::get())
        .and(query())
        .and(viewer(state))
        .and_then(|shop: String, id: String, mut q: Query, v: Viewer| {
            let id = percent_decode(&id);
            let title = tr_with(v.lang, "Product {id}", &[("id", &id)]);
            // The reasons and the fit panel follow the dashboard's language unless ?lang= asks.
            q.entry("lang".to_string())
                .or_insert_with(|| v.lang.code().to_string());
            show(
                v,
                shop,
                Spec::new("products", "admin/product.html", title),
                move |store, shop, model| {
                    data::product(store, shop, model, &id, &data::ProductQuery::parse(&q)?)
                },
                |_: &data::ProductPage, _| Extras::default(),
            )
        })
        .boxed()
}

/// The filter form's values and choices on the customers page.
fn customer_form(q: &Query, shop: &ShopSettings) -> serde_json::Value {
    serde_json::json!({
        "segment": q.get("segment").cloned().unwrap_or_default(),
        "tier": q.get("tier").cloned().unwrap_or_default(),
        "segments": crate::loyalty::segments::SEGMENTS,
        "tiers": shop.loyalty.tiers.iter().map(|t| t.name.clone()).collect::<Vec<_>>(),
        "query": url_query(q, &["segment", "tier"]),
    })
}

/// `?a=1&b=2` of the given keys that are set, for links that keep the filter.
fn url_query(q: &Query, keys: &[&str]) -> String {
    let parts: Vec<String> = keys
        .iter()
        .filter_map(|k| {
            q.get(*k)
                .filter(|v| !v.is_empty())
                .map(|v| format!("{k}={}", crate::domain::url_component(v)))
        })
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

/// GET /admin/shops/{shop}/customers[?segment=NAME&tier=NAME]
fn customers(state: AppState) -> BoxedFilter<(Response,)> {
    warp::path!("admin" / "shops" / String / "customers")
        .and(warp::get())
        .and(query())
        .and(viewer(state))
        .and_then(|shop: String, q: Query, v: Viewer| {
            let form_q = q.clone();
            let title = tr(v.lang, "Customers").into_owned();
            show(
                v,
                shop,
                Spec::new("customers", "admin/customers.html", title),
                move |store, shop, _| data::customers(store, shop, &data::CustomerQuery::parse(&q, shop)?),
                move |_: &Vec<crate::records::Customer>, shop| Extras {
                    form: customer_form(&form_q, shop),
                    ..Default::default()
                },
            )
        })
        .boxed()
}

/// A CSV file computed by `make` from the store for one shop, with the page's query:
/// `/admin/shops/{shop}/{name}.csv`, an attachment named `{shop}-{name}.csv`.
pub(super) type MakeCsv = fn(&dyn ShopStore, &ShopSettings, &Query, &mut Vec<u8>) -> Result<(), PageError>;

pub(super) fn csv_file(state: AppState, name: &'static str, make: MakeCsv) -> BoxedFilter<(Response,)> {
    warp::path!("admin" / "shops" / String / String)
        .and_then(move |raw: String, file: String| async move {
            if file == format!("{name}.csv") {
                Ok(raw)
            } else {
                Err(warp::reject::not_found())
            }
        })
        .and(warp::get())
        .and(query())
        .and(viewer(state))
        .and_then(move |raw: String, q: Query, v: Viewer| async move {
            let shop = match open(&v, &raw) {
                Ok((_, shop)) => shop,
                Err(resp) => return Ok::<_, Rejection>(*resp),
            };
            let result = page_data(&v.state, shop, move |store, shop, _| {
                let mut out = Vec::new();
                make(store, shop, &q, &mut out)?;
                String::from_utf8(out).map_err(|e| PageError::Internal(e.to_string()))
            })
            .await;
            Ok(match result {
                Ok(body) => csv(&format!("{}-{name}.csv", shop.id), body),
                Err(e) => failed(&v, shop, e),
            })
        })
        .boxed()
}

fn written(result: anyhow::Result<()>) -> Result<(), PageError> {
    result.map_err(|e| PageError::Internal(e.to_string()))
}

/// GET /admin/shops/{shop}/products.csv — the catalogue with units sold and revenue.
fn products_csv(state: AppState) -> BoxedFilter<(Response,)> {
    csv_file(state, "products", |store, shop, _, out| {
        written(crate::admin::csv::products_csv(
            &data::products(store, shop)?.products,
            out,
        ))
    })
}

/// GET /admin/shops/{shop}/customers.csv[?segment=NAME&tier=NAME] — customers with tier,
/// segment and RFM scores (names included: the owner's own export).
fn customers_csv(state: AppState) -> BoxedFilter<(Response,)> {
    csv_file(state, "customers", |store, shop, q, out| {
        let rows = data::customers(store, shop, &data::CustomerQuery::parse(q, shop)?)?;
        let refs: Vec<&crate::records::Customer> = rows.iter().collect();
        written(crate::admin::csv::customers_csv(
            &refs,
            shop.timezone.offset(),
            out,
        ))
    })
}

/// GET /admin/shops/{shop}/feedback.csv — every message with its contact (the owner's own
/// export), newest first.
fn feedback_csv(state: AppState) -> BoxedFilter<(Response,)> {
    csv_file(state, "feedback", |store, shop, _, out| {
        let page = data::feedback(store, shop)?;
        written(crate::admin::csv::feedback_csv(
            &page.messages,
            shop.timezone.offset(),
            out,
        ))
    })
}

/// GET /admin/shops/{shop}/customers/{id} — one customer's orders and tier history.
fn customer(state: AppState) -> BoxedFilter<(Response,)> {
    warp::path!("admin" / "shops" / String / "customers" / String)
        .and(warp::get())
        .and(query())
        .and(viewer(state))
        .and_then(|shop: String, id: String, q: Query, v: Viewer| {
            let id = percent_decode(&id);
            let title = tr_with(v.lang, "Customer {id}", &[("id", &id)]);
            show(
                v,
                shop,
                Spec::new("customers", "admin/customer.html", title),
                move |store, shop, _| {
                    no_params(&q)?;
                    data::customer(store, shop, &id)
                },
                |_: &data::CustomerPage, _| Extras::default(),
            )
        })
        .boxed()
}

pub(super) fn no_params(q: &Query) -> Result<(), PageError> {
    match q.keys().next() {
        None => Ok(()),
        Some(k) => Err(PageError::BadQuery(data::msg(
            "unknown parameter {name}: this page takes none",
            &[("name", &format!("{k:?}"))],
        ))),
    }
}

/// GET /admin/shops/{shop}/tiers
fn tiers(state: AppState) -> BoxedFilter<(Response,)> {
    warp::path!("admin" / "shops" / String / "tiers")
        .and(warp::get())
        .and(query())
        .and(viewer(state))
        .and_then(|shop: String, q: Query, v: Viewer| {
            let lang = v.lang;
            show(
                v,
                shop,
                Spec::new("tiers", "admin/tiers.html", tr(lang, "Loyalty tiers")),
                move |_, shop, model| {
                    no_params(&q)?;
                    data::tiers(shop, model)
                },
                move |t: &data::TiersPage, _| Extras {
                    charts: vec![(
                        "histogram",
                        histogram_chart(
                            &tr(lang, "Customers by spend, with the tiers' lower bounds"),
                            &t.histogram,
                            &chart_words(lang),
                        ),
                    )],
                    ..Default::default()
                },
            )
        })
        .boxed()
}

/// GET /admin/shops/{shop}/bundles
fn bundles(state: AppState) -> BoxedFilter<(Response,)> {
    warp::path!("admin" / "shops" / String / "bundles")
        .and(warp::get())
        .and(query())
        .and(viewer(state))
        .and_then(|shop: String, q: Query, v: Viewer| {
            let title = tr(v.lang, "Bundles").into_owned();
            show(
                v,
                shop,
                Spec::new("bundles", "admin/bundles.html", title),
                move |_, shop, model| {
                    no_params(&q)?;
                    data::bundles(shop, model)
                },
                |_: &data::BundlesPage, _| Extras::default(),
            )
        })
        .boxed()
}

/// GET /admin/shops/{shop}/performance
fn performance(state: AppState) -> BoxedFilter<(Response,)> {
    warp::path!("admin" / "shops" / String / "performance")
        .and(warp::get())
        .and(query())
        .and(viewer(state))
        .and_then(|shop: String, q: Query, v: Viewer| {
            let log = v.state.event_log.clone();
            let lang = v.lang;
            show(
                v,
                shop,
                Spec::new(
                    "performance",
                    "admin/performance.html",
                    tr(lang, "Recommendation performance"),
                ),
                move |store, shop, _| {
                    no_params(&q)?;
                    data::performance_page(store, shop, &log.summary(&shop.id))
                },
                move |p: &data::PerformancePage, _| Extras {
                    charts: vec![(
                        "ctr",
                        bar_chart(
                            &tr(lang, "Click-through rate per slot"),
                            &p.performance
                                .slots
                                .iter()
                                .map(|s| (s.slot.clone(), (s.ctr * 10_000.0).round() as i64))
                                .collect::<Vec<_>>(),
                            crate::admin::charts::basis_points_as_percent,
                            &chart_words(lang),
                        ),
                    )],
                    ..Default::default()
                },
            )
        })
        .boxed()
}

/// The experiment's report for a page or the admin API: a store or analysis failure is a
/// page error; no experiment and too few visitors are states of the report.
pub(super) fn experiment_report(
    store: &dyn ShopStore,
    shop: &ShopSettings,
) -> Result<crate::experiment::report::Report, PageError> {
    use crate::experiment::report::{report, ReportError};
    report(store, shop, chrono::Utc::now(), None).map_err(|e| match e {
        ReportError::Store(e) => PageError::Store(e),
        ReportError::Analysis(e) => PageError::Internal(e.to_string()),
    })
}

/// GET /admin/shops/{shop}/experiment
fn experiment(state: AppState) -> BoxedFilter<(Response,)> {
    warp::path!("admin" / "shops" / String / "experiment")
        .and(warp::get())
        .and(query())
        .and(viewer(state))
        .and_then(|shop: String, q: Query, v: Viewer| {
            let title = tr(v.lang, "Experiment").into_owned();
            show(
                v,
                shop,
                Spec::new("experiment", "admin/experiment.html", title),
                move |store, shop, _| {
                    no_params(&q)?;
                    experiment_report(store, shop)
                },
                |_: &crate::experiment::report::Report, _| Extras::default(),
            )
        })
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
    fn filter_links_keep_only_the_set_values_encoded() {
        assert_eq!(
            url_query(&q(&[("segment", "At risk"), ("tier", "")]), &["segment", "tier"]),
            "?segment=At%20risk"
        );
        assert_eq!(url_query(&q(&[]), &["segment"]), "");
    }
}
