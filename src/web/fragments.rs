//! HTML fragments of the recommendation slots and of the feedback form, rendered by
//! minijinja with autoescape: `GET /v1/shops/{shop}/fragments/{slot}` for servers that
//! include HTML directly, and the batched `GET /v1/shops/{shop}/fragments?slots=…` the widget
//! calls once per page. The feedback slot needs no product; the chat slot uses one when the
//! model knows it (its name goes into the question) and is empty without `[shops.chat]`;
//! the others need one.
//!
//! Fragments carry nothing personal: product data, reasons, and for a valid customer token
//! that customer's own tier. Item links carry `laris_src` (slot) and `laris_from` (viewed
//! product) so a later purchase can be attributed to a click.
//!
//! Root-relative links (pictures, the feedback form's action) are made absolute on the
//! shop's `public_url`; with none, on the request's `Host` when it is a valid host[:port],
//! and the answer then says `Vary: Host` so a cache keeps one copy per host.

use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};

use serde::Serialize;
use warp::http::{header, StatusCode};
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use crate::config::experiment::ControlShows;
use crate::config::ShopSettings;
use crate::domain::{CustomerId, ProductId, Rupiah, ShopId, Slot};
use crate::experiment::assign::Arm;
use crate::model::serve::{best_sellers, Item, Lang, Recommendations, Request};
use crate::web::cors::with_cors;
use crate::web::errors::{internal, reject};
use crate::web::experiment::{arm_name, arm_of, control_shows, visitor_id, ARM_HEADER};
use crate::web::links::link_base;
use crate::web::public::customer_from_query;
use crate::web::recommendations::{answer, hide_switched_off, parse_lang, RecQuery};
use crate::web::state::{known_shop, with_state, AppState};
use crate::web::{chat, feedback, templates};

#[derive(Serialize)]
struct FragmentItem {
    id: String,
    name: String,
    price_text: String,
    discounted_text: Option<String>,
    discount_pct: Option<String>,
    image: Option<String>,
    link: String,
    reason: String,
    /// Fixed offers: "2×", "1× gratis"; none for a single paid item.
    quantity_note: Option<String>,
}

fn tracked_link(url: Option<&str>, slot: &str, viewed: &ProductId) -> String {
    let base = url.unwrap_or("#");
    let sep = if base.contains('?') { '&' } else { '?' };
    let from: String = viewed
        .as_str()
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!("{base}{sep}laris_src={slot}&laris_from={from}")
}

/// Makes a root-relative URL (`/demo/images/x.svg`) absolute against this service, so
/// that it works on a shop page of another origin.
fn absolute(url: Option<&str>, base: &str) -> Option<String> {
    url.map(|u| {
        if u.starts_with('/') && !u.starts_with("//") {
            format!("{base}{u}")
        } else {
            u.to_string()
        }
    })
}

fn fragment_item(it: &Item, slot: &str, viewed: &ProductId, base: &str) -> FragmentItem {
    let url = absolute(it.url.as_deref(), base);
    FragmentItem {
        id: it.id.clone(),
        name: it.name.clone(),
        price_text: Rupiah(it.price).to_string(),
        discounted_text: it.discounted_price.map(|d| Rupiah(d).to_string()),
        discount_pct: it.discount_pct.map(|p| format!("{p}")),
        image: absolute(it.image.as_deref(), base),
        link: tracked_link(url.as_deref(), slot, viewed),
        reason: it.reason.clone(),
        quantity_note: match it.quantity {
            Some(q) if q > 1 || it.free => Some(it.reason.clone()),
            _ => None,
        },
    }
}

/// The slot's title: the one the owner set on the dashboard in `lang`, else the built-in one.
fn slot_title(state: &AppState, shop: &ShopId, slot: Slot, built_in: &str, lang: Lang) -> String {
    let owner = state.models.get(shop).and_then(|m| {
        let s = m.settings.as_ref()?.slots.get(&slot)?;
        match lang {
            Lang::Id => s.title.clone(),
            Lang::En => s.title_en.clone(),
        }
    });
    owner.unwrap_or_else(|| title(built_in, lang).to_string())
}

fn title(slot: &str, lang: Lang) -> &'static str {
    match (slot, lang) {
        ("similar", Lang::Id) => "Produk serupa",
        ("similar", Lang::En) => "Similar products",
        // The similar slot when nothing in it is alike: honest about what it shows.
        ("also", Lang::Id) => "Mungkin Anda juga suka",
        ("also", Lang::En) => "You may also like",
        ("for_you", Lang::Id) => "Untuk Anda",
        ("for_you", Lang::En) => "For you",
        ("upsell", Lang::Id) => "Naik kelas",
        ("upsell", Lang::En) => "Upgrade",
        ("bundle", Lang::Id) => "Sering dibeli bersama",
        ("bundle", Lang::En) => "Frequently bought together",
        // What a holdout experiment's control arm sees with `control = "best_sellers"`.
        ("best", Lang::Id) => "Produk terlaris",
        ("best", Lang::En) => "Best sellers",
        (_, Lang::Id) => "Pelanggan setia",
        (_, Lang::En) => "Loyal customers",
    }
}

/// Renders one slot; an empty string when there is nothing to show.
pub fn render_slot(
    state: &AppState,
    shop: &ShopId,
    slot: Slot,
    recs: &Recommendations,
    lang: Lang,
    base: &str,
) -> Result<String, Rejection> {
    render_slot_as(state, shop, slot, recs, lang, base, false)
}

/// Renders one slot; `best_sellers`: its list is the shop's best sellers shown to an
/// experiment's control arm, and its title says so.
fn render_slot_as(
    state: &AppState,
    shop: &ShopId,
    slot: Slot,
    recs: &Recommendations,
    lang: Lang,
    base: &str,
    best_sellers: bool,
) -> Result<String, Rejection> {
    let viewed = ProductId::parse(&recs.product.id).map_err(|e| internal("viewed id", e))?;
    let name = slot.as_str();
    let ctx = match slot {
        Slot::Similar | Slot::Upsell | Slot::ForYou => {
            let list = match slot {
                Slot::Similar => &recs.similar,
                Slot::Upsell => &recs.upsell,
                _ => &recs.for_you,
            };
            if list.is_empty() {
                return Ok(String::new());
            }
            let items: Vec<FragmentItem> = list
                .iter()
                .map(|i| fragment_item(i, name, &viewed, base))
                .collect();
            let alike = list.iter().any(|i| i.source == "similar" || i.source == "pin");
            let heading = if best_sellers {
                title("best", lang).to_string()
            } else if slot == Slot::Similar && !alike {
                title("also", lang).to_string()
            } else {
                slot_title(state, shop, slot, name, lang)
            };
            minijinja::context! { slot => name, title => heading, items => minijinja::Value::from(minijinja::value::Serde(&items)) }
        }
        Slot::Bundle => {
            if recs.bundles.is_empty() {
                return Ok(String::new());
            }
            let bundles: Vec<BTreeMap<&str, minijinja::Value>> = recs
                .bundles
                .iter()
                .map(|b| {
                    let items: Vec<FragmentItem> = b
                        .items
                        .iter()
                        .map(|i| fragment_item(i, "bundle", &viewed, base))
                        .collect();
                    let ids: Vec<&str> = b.items.iter().map(|i| i.id.as_str()).collect();
                    let quantities: Vec<String> = b
                        .items
                        .iter()
                        .map(|i| i.quantity.unwrap_or(1).to_string())
                        .collect();
                    BTreeMap::from([
                        ("items", minijinja::Value::from(minijinja::value::Serde(&items))),
                        ("reason", minijinja::Value::from(b.reason.clone())),
                        ("price", minijinja::Value::from(b.price)),
                        ("bundle_price", minijinja::Value::from(b.bundle_price)),
                        ("price_text", minijinja::Value::from(Rupiah(b.price).to_string())),
                        (
                            "bundle_price_text",
                            minijinja::Value::from(Rupiah(b.bundle_price).to_string()),
                        ),
                        ("add_ids", minijinja::Value::from(ids.join(","))),
                        ("add_quantities", minijinja::Value::from(quantities.join(","))),
                    ])
                })
                .collect();
            let add_label = match lang {
                Lang::Id => "Tambah paket ke keranjang",
                Lang::En => "Add bundle to cart",
            };
            minijinja::context! { title => slot_title(state, shop, slot, name, lang), bundles => bundles, add_label => add_label }
        }
        // The form and the chat button need no recommendations: `feedback_fragment` and
        // `web::chat::fragment` render them.
        Slot::Feedback | Slot::Chat => return Ok(String::new()),
        Slot::Loyalty => {
            let Some(loyalty) = &recs.loyalty else {
                return Ok(String::new());
            };
            let discount_label = match lang {
                Lang::Id => "diskon",
                Lang::En => "discount",
            };
            minijinja::context! {
                title => slot_title(state, shop, slot, name, lang),
                loyalty => minijinja::Value::from(minijinja::value::Serde(loyalty)),
                discount_label => discount_label,
            }
        }
    };
    templates::render_fragment(&state.templates, shop, name, ctx)
        .map_err(|e| internal("rendering a fragment", e))
}

/// The feedback form, in `lang`; a valid `product` goes into the form, an invalid one is
/// left out (the form is the same on every page).
fn feedback_fragment(
    state: &AppState,
    shop: &ShopSettings,
    q: &HashMap<String, String>,
    base: &str,
) -> Result<String, Rejection> {
    let lang = parse_lang(q)?;
    let product = q.get("product").and_then(|p| ProductId::parse(p).ok());
    feedback::render_fragment(state, shop, lang, product.as_ref(), base)
}

/// A fragment answer before its headers: what [`batched`] and [`single`] reply with, and
/// what `web::prepared` keeps ready for the next request that asks the same.
#[derive(Debug, Clone, PartialEq)]
pub struct FragmentAnswer {
    pub body: String,
    pub content_type: &'static str,
    /// `Cache-Control: private`: the request named a customer (valid token or not), or the
    /// answer holds a feedback form (its one-time token is for one visitor).
    pub private: bool,
    /// The links were built on the request's `Host`: the answer says `Vary: Host`.
    pub vary_host: bool,
}

/// The ETag of an answer's body: its hash, quoted.
pub fn etag_of(body: &str) -> String {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    body.hash(&mut h);
    format!("\"{:016x}\"", h.finish())
}

/// Whether an `If-None-Match` header names `etag`.
pub fn not_modified(if_none_match: Option<&str>, etag: &str) -> bool {
    if_none_match.is_some_and(|v| v.split(',').any(|t| t.trim() == etag))
}

/// The answer with its ETag and cache headers: `304 Not Modified` without a body when the
/// client has it already.
pub fn headed(
    body: bytes::Bytes,
    content_type: &'static str,
    etag: header::HeaderValue,
    private: bool,
    not_modified: bool,
) -> Response {
    let mut resp = if not_modified {
        let mut r = Response::new("".into());
        *r.status_mut() = StatusCode::NOT_MODIFIED;
        r
    } else {
        let mut r = Response::new(body.into());
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static(content_type),
        );
        r
    };
    let h = resp.headers_mut();
    h.insert(header::ETAG, etag);
    let cc = if private {
        "private, max-age=60"
    } else {
        "public, max-age=60"
    };
    h.insert(header::CACHE_CONTROL, header::HeaderValue::from_static(cc));
    resp
}

/// Replies with `answer`, an ETag, and `304 Not Modified` when the client has it already.
fn cached(answer: FragmentAnswer, if_none_match: Option<&str>) -> Result<Response, Rejection> {
    let etag = etag_of(&answer.body);
    let fresh = not_modified(if_none_match, &etag);
    let etag = header::HeaderValue::from_str(&etag).map_err(|e| internal("etag", e))?;
    Ok(headed(
        answer.body.into(),
        answer.content_type,
        etag,
        answer.private,
        fresh,
    ))
}

/// The slots a `slots=` parameter names, in its order; the four product slots when absent.
pub fn parse_slots(raw: Option<&String>) -> Result<Vec<Slot>, Rejection> {
    let raw = raw.map(String::as_str).unwrap_or("similar,upsell,bundle,loyalty");
    raw.split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| {
            Slot::parse(s.trim()).ok_or_else(|| {
                reject(
                    StatusCode::BAD_REQUEST,
                    format!("slot {s:?} is unknown: use {}", Slot::names(&Slot::ALL)),
                )
            })
        })
        .collect()
}

/// Origin, If-None-Match and Host.
type Headers = (Option<String>, Option<String>, Option<String>);

fn request_headers() -> impl Filter<Extract = (Headers,), Error = Rejection> + Clone {
    warp::header::optional::<String>("origin")
        .and(warp::header::optional::<String>("if-none-match"))
        .and(warp::header::optional::<String>("host"))
        .map(|o, e, h| (o, e, h))
}

/// The answer with its CORS headers, and `Vary: Host` when its links were built on the Host.
pub fn finish(shop: &ShopSettings, origin: Option<&str>, vary_host: bool, resp: Response) -> Response {
    let mut resp = with_cors(shop, origin, resp);
    if vary_host {
        resp.headers_mut()
            .append(header::VARY, header::HeaderValue::from_static("host"));
    }
    resp
}

/// Turns the recommendations into what an experiment's control arm sees (`shows`): no
/// recommendation slots, or the shop's best sellers in the list slots (similar, upsell,
/// for_you; no bundle). The loyalty part stays. Returns whether the lists are best sellers.
fn apply_control(
    state: &AppState,
    shop: &ShopSettings,
    parsed: &RecQuery,
    recs: &mut Recommendations,
    shows: Option<ControlShows>,
) -> bool {
    let Some(shows) = shows else {
        return false;
    };
    recs.similar.clear();
    recs.upsell.clear();
    recs.bundles.clear();
    recs.for_you.clear();
    if shows == ControlShows::Nothing {
        return false;
    }
    let Some(model) = state.models.get(&shop.id) else {
        return false;
    };
    let applied = model.settings.clone();
    let settings = applied.as_deref().unwrap_or(shop);
    let Ok(product) = ProductId::parse(&recs.product.id) else {
        return false;
    };
    let req = Request {
        product: &product,
        customer: None,
        cart: &parsed.cart,
        limit: parsed.limit.unwrap_or(settings.recommend.limit),
        lang: parsed.lang,
    };
    let best = best_sellers(&model, &settings.recommend, &req).unwrap_or_default();
    recs.similar = best.clone();
    recs.upsell = best.clone();
    recs.for_you = best;
    hide_switched_off(recs, settings);
    true
}

/// The batched answer for `shop`: every slot `slots=` names, as `{"fragments":{slot:html}}`.
/// `customer` is whom the request's token names (`None`: anonymous or invalid).
pub fn batched_answer(
    state: &AppState,
    shop: &ShopSettings,
    q: &HashMap<String, String>,
    customer: Option<&CustomerId>,
    host: Option<&str>,
    control: Option<ControlShows>,
) -> Result<FragmentAnswer, Rejection> {
    let links = link_base(state, shop, host);
    let base = &links.base;
    let slots = parse_slots(q.get("slots"))?;
    let mut fragments = BTreeMap::new();
    let from_model = |s: &&Slot| !matches!(**s, Slot::Feedback | Slot::Chat);
    if slots.iter().any(|s| from_model(&s)) {
        let parsed = RecQuery::parse(q)?;
        let mut recs = answer(state, shop, &parsed, customer)?;
        let best = apply_control(state, shop, &parsed, &mut recs, control);
        for slot in slots.iter().filter(from_model) {
            fragments.insert(
                slot.as_str(),
                render_slot_as(state, &shop.id, *slot, &recs, parsed.lang, base, best)?,
            );
        }
    }
    if slots.contains(&Slot::Feedback) {
        fragments.insert(Slot::Feedback.as_str(), feedback_fragment(state, shop, q, base)?);
    }
    if slots.contains(&Slot::Chat) {
        fragments.insert(
            Slot::Chat.as_str(),
            chat::fragment(state, shop, q, base, chrono::Utc::now())?,
        );
    }
    let body = serde_json::to_string(&serde_json::json!({ "fragments": fragments }))
        .map_err(|e| internal("fragments json", e))?;
    Ok(FragmentAnswer {
        body,
        content_type: "application/json",
        // A feedback form's token is taken once: a shared cache must not hand one to two people.
        private: q.contains_key("customer") || slots.contains(&Slot::Feedback),
        vary_host: links.from_host,
    })
}

/// The answer of one slot (`slot` as the path names it) for `shop`: its HTML.
pub fn single_answer(
    state: &AppState,
    shop: &ShopSettings,
    slot: &str,
    q: &HashMap<String, String>,
    customer: Option<&CustomerId>,
    host: Option<&str>,
    control: Option<ControlShows>,
) -> Result<FragmentAnswer, Rejection> {
    let links = link_base(state, shop, host);
    let base = &links.base;
    let slot = parse_slots(Some(&slot.to_string()))?
        .into_iter()
        .next()
        .ok_or_else(|| reject(StatusCode::NOT_FOUND, "name a slot"))?;
    let html = if slot == Slot::Feedback {
        feedback_fragment(state, shop, q, base)?
    } else if slot == Slot::Chat {
        chat::fragment(state, shop, q, base, chrono::Utc::now())?
    } else {
        let parsed = RecQuery::parse(q)?;
        let mut recs = answer(state, shop, &parsed, customer)?;
        let best = apply_control(state, shop, &parsed, &mut recs, control);
        render_slot_as(state, &shop.id, slot, &recs, parsed.lang, base, best)?
    };
    Ok(FragmentAnswer {
        body: html,
        content_type: "text/html; charset=utf-8",
        private: q.contains_key("customer") || slot == Slot::Feedback,
        vary_host: links.from_host,
    })
}

/// The arm of the request's `visitor=` in the shop's experiment: `None` without a visitor
/// id or without an experiment; a 400 naming the value for an id the widget does not make.
pub fn visitor_arm(shop: &ShopSettings, q: &HashMap<String, String>) -> Result<Option<Arm>, Rejection> {
    match q.get("visitor") {
        None => Ok(None),
        Some(v) => {
            let v = visitor_id(v).map_err(|m| reject(StatusCode::BAD_REQUEST, m))?;
            Ok(arm_of(shop, v))
        }
    }
}

/// Notes the exposure of the request's visitor when they are in the shop's experiment.
fn note_exposure(state: &AppState, shop: &ShopSettings, q: &HashMap<String, String>, arm: Option<Arm>) {
    if let (Some(a), Some(v)) = (arm, q.get("visitor")) {
        state
            .exposures
            .note(&state.event_log, &state.event_writer, shop, v, a, || {
                q.get("product").cloned()
            });
    }
}

/// The answer with the `Laris-Arm` header (exposed to the widget's script) when the
/// visitor is in an experiment; unchanged otherwise.
pub fn with_arm(mut resp: Response, arm: Option<Arm>) -> Response {
    if let Some(a) = arm {
        let h = resp.headers_mut();
        h.insert(ARM_HEADER, header::HeaderValue::from_static(arm_name(a)));
        h.append(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            header::HeaderValue::from_static(ARM_HEADER),
        );
    }
    resp
}

/// GET /v1/shops/{shop}/fragments?product=ID&slots=similar,upsell,…
pub fn batched(state: AppState) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    warp::path!("v1" / "shops" / String / "fragments")
        .and(warp::get())
        .and(warp::query::<HashMap<String, String>>())
        .and(request_headers())
        .and(with_state(state))
        .and_then(|shop: String, q: HashMap<String, String>, (origin, inm, host): Headers, state: AppState| async move {
            let shop = known_shop(&state, &shop)?;
            let customer = customer_from_query(shop, &q);
            let arm = visitor_arm(shop, &q)?;
            note_exposure(&state, shop, &q, arm);
            let control = control_shows(shop, arm);
            let answer = batched_answer(&state, shop, &q, customer.as_ref(), host.as_deref(), control)?;
            let vary_host = answer.vary_host;
            let resp = cached(answer, inm.as_deref())?;
            Ok::<_, Rejection>(with_arm(finish(shop, origin.as_deref(), vary_host, resp), arm))
        })
}

/// GET /v1/shops/{shop}/arm?visitor=ID: the visitor's arm in the shop's experiment
/// (`null` when it runs none) and whether the recommendation slots stay empty for them
/// (`held`: the control arm of an experiment whose control sees nothing). The widget asks
/// once, on a visitor's first page, before it holds space for any slot, so that a control
/// visitor's page never holds space it then gives back. Never cached: it is one visitor's.
pub fn arm(state: AppState) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    warp::path!("v1" / "shops" / String / "arm")
        .and(warp::get())
        .and(warp::query::<HashMap<String, String>>())
        .and(warp::header::optional::<String>("origin"))
        .and(with_state(state))
        .and_then(
            |shop: String, q: HashMap<String, String>, origin: Option<String>, state: AppState| async move {
                let shop = known_shop(&state, &shop)?;
                if !q.contains_key("visitor") {
                    return Err(reject(
                        StatusCode::BAD_REQUEST,
                        "visitor is missing: send the widget's visitor id as visitor=…",
                    ));
                }
                let arm = visitor_arm(shop, &q)?;
                note_exposure(&state, shop, &q, arm);
                let held = control_shows(shop, arm) == Some(ControlShows::Nothing);
                let body = serde_json::json!({ "arm": arm.map(arm_name), "held": held });
                let mut resp = warp::reply::json(&body).into_response();
                resp.headers_mut().insert(
                    header::CACHE_CONTROL,
                    header::HeaderValue::from_static("no-store"),
                );
                Ok::<_, Rejection>(finish(shop, origin.as_deref(), false, resp))
            },
        )
}

/// GET /v1/shops/{shop}/fragments/{slot}?product=ID[&customer=TOKEN][&lang=id|en]
pub fn single(state: AppState) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    warp::path!("v1" / "shops" / String / "fragments" / String)
        .and(warp::get())
        .and(warp::query::<HashMap<String, String>>())
        .and(request_headers())
        .and(with_state(state))
        .and_then(
            |shop: String,
             slot: String,
             q: HashMap<String, String>,
             (origin, inm, host): Headers,
             state: AppState| async move {
                let shop = known_shop(&state, &shop)?;
                let customer = customer_from_query(shop, &q);
                let arm = visitor_arm(shop, &q)?;
                note_exposure(&state, shop, &q, arm);
                let control = control_shows(shop, arm);
                let answer = single_answer(
                    &state,
                    shop,
                    &slot,
                    &q,
                    customer.as_ref(),
                    host.as_deref(),
                    control,
                )?;
                let vary_host = answer.vary_host;
                let resp = cached(answer, inm.as_deref())?;
                Ok::<_, Rejection>(with_arm(finish(shop, origin.as_deref(), vary_host, resp), arm))
            },
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_links_carry_the_slot_and_the_viewed_product() {
        let viewed = ProductId::parse("SRD-100").unwrap();
        assert_eq!(
            tracked_link(Some("/demo?product=TPG-100"), "similar", &viewed),
            "/demo?product=TPG-100&laris_src=similar&laris_from=SRD-100"
        );
        assert_eq!(
            tracked_link(Some("https://x.id/p"), "bundle", &viewed),
            "https://x.id/p?laris_src=bundle&laris_from=SRD-100"
        );
        let odd = ProductId::parse("A&B 1").unwrap();
        assert_eq!(
            tracked_link(None, "upsell", &odd),
            "#?laris_src=upsell&laris_from=A%26B%201"
        );
    }
}
