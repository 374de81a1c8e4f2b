//! `GET /v1/shops/{shop}/recommendations`: the JSON contract in the README ("HTTP"), read from the
//! shop's current model snapshot (no store access, no model work on the request path).

use std::collections::HashMap;

use warp::http::StatusCode;
use warp::{Filter, Rejection, Reply};

use crate::admin_auth::Access;
use crate::config::ShopSettings;
use crate::domain::{CustomerId, ProductId, Slot};
use crate::model::serve::{recommend, Lang, Recommendations, Request};
use crate::web::admin::admin_access;
use crate::web::cors::with_cors;
use crate::web::errors::reject;
use crate::web::public::{customer_from_query, parse_limit};
use crate::web::state::{allowed_shop, known_shop, with_state, AppState};

/// Query parameters shared by the recommendation and fragment endpoints, parsed once.
pub struct RecQuery {
    pub product: ProductId,
    pub cart: Vec<ProductId>,
    pub limit: Option<usize>,
    pub lang: Lang,
}

impl RecQuery {
    pub fn parse(q: &HashMap<String, String>) -> Result<RecQuery, Rejection> {
        let bad = |m: String| reject(StatusCode::BAD_REQUEST, m);
        let raw = q.get("product").ok_or_else(|| {
            bad("missing product=ID: name the product the page shows, e.g. ?product=SRD-100".into())
        })?;
        let product = ProductId::parse(raw).map_err(|e| bad(e.to_string()))?;
        let cart = match q.get("cart") {
            Some(c) if !c.trim().is_empty() => c
                .split(',')
                .map(|s| ProductId::parse(s.trim()).map_err(|e| bad(format!("cart: {e}"))))
                .collect::<Result<Vec<_>, _>>()?,
            _ => Vec::new(),
        };
        if cart.len() > 100 {
            return Err(bad(format!("cart has {} items: send at most 100", cart.len())));
        }
        let limit = q
            .get("limit")
            .map(|_| parse_limit(q.get("limit"), 4, 20))
            .transpose()?;
        let lang = parse_lang(q)?;
        Ok(RecQuery {
            product,
            cart,
            limit,
            lang,
        })
    }
}

/// `lang=id|en`; Indonesian when absent.
pub fn parse_lang(q: &HashMap<String, String>) -> Result<Lang, Rejection> {
    match q.get("lang") {
        None => Ok(Lang::Id),
        Some(l) => Lang::parse(l).ok_or_else(|| {
            reject(
                StatusCode::BAD_REQUEST,
                format!("lang={l:?} is not supported: use id or en"),
            )
        }),
    }
}

/// Recommendations for a parsed query; 404 when the shop has no model or no such product.
pub fn answer(
    state: &AppState,
    shop: &ShopSettings,
    q: &RecQuery,
    customer: Option<&CustomerId>,
) -> Result<Recommendations, Rejection> {
    let model = state.models.get(&shop.id).ok_or_else(|| {
        reject(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "the model of shop {} is still being built: retry shortly",
                shop.id
            ),
        )
    })?;
    // Our id, or else the SKU or marketplace id the shop owner knows the product by.
    let product = match model.product_index(&q.product) {
        Some(_) => q.product.clone(),
        None => match model.find_product(q.product.as_str()) {
            Some(i) => model.products[i].id.clone(),
            None => {
                return Err(reject(
                    StatusCode::NOT_FOUND,
                    model.unknown_product_message(q.product.as_str(), shop.id.as_str()),
                ))
            }
        },
    };
    // The settings the model was built with: the config's and the owner's dashboard changes.
    let applied = model.settings.clone();
    let shop = applied.as_deref().unwrap_or(shop);
    let req = Request {
        product: &product,
        customer,
        cart: &q.cart,
        limit: q.limit.unwrap_or(shop.recommend.limit),
        lang: q.lang,
    };
    let mut recs =
        recommend(&model, shop.id.as_str(), &shop.recommend, &shop.offers, &req).ok_or_else(|| {
            reject(
                StatusCode::NOT_FOUND,
                model.unknown_product_message(q.product.as_str(), shop.id.as_str()),
            )
        })?;
    hide_switched_off(&mut recs, shop);
    Ok(recs)
}

/// Empties the parts of the answer whose slot the owner switched off on the dashboard, so
/// neither the JSON nor the widget's fragments show them.
pub fn hide_switched_off(recs: &mut Recommendations, shop: &ShopSettings) {
    for (slot, setting) in &shop.slots {
        if !setting.off {
            continue;
        }
        match slot {
            Slot::Similar => recs.similar.clear(),
            Slot::Upsell => recs.upsell.clear(),
            Slot::Bundle => recs.bundles.clear(),
            Slot::ForYou => recs.for_you.clear(),
            Slot::Loyalty => recs.loyalty = None,
            Slot::Feedback | Slot::Chat => {}
        }
    }
}

/// GET /v1/shops/{shop}/recommendations?product=ID[&customer=TOKEN][&cart=ID,ID][&limit=N][&lang=id|en]
pub fn recommendations(state: AppState) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    warp::path!("v1" / "shops" / String / "recommendations")
        .and(warp::get())
        .and(warp::query::<HashMap<String, String>>())
        .and(warp::header::optional::<String>("origin"))
        .and(with_state(state))
        .and_then(
            |shop: String, q: HashMap<String, String>, origin: Option<String>, state: AppState| async move {
                let shop = known_shop(&state, &shop)?;
                let parsed = RecQuery::parse(&q)?;
                let customer = customer_from_query(shop, &q);
                let recs = answer(&state, shop, &parsed, customer.as_ref())?;
                let reply = warp::reply::json(&recs);
                Ok::<_, Rejection>(with_cors(shop, origin.as_deref(), reply))
            },
        )
}

/// GET /admin/api/shops/{shop}/recommendations?product=ID[&customer_id=ID] — what
/// `laris recommend` prints, for a raw customer id (admin only: no token needed).
pub fn admin_recommendations(
    state: AppState,
) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    warp::path!("admin" / "api" / "shops" / String / "recommendations")
        .and(warp::get())
        .and(admin_access(&state))
        .and(warp::query::<HashMap<String, String>>())
        .and(with_state(state))
        .and_then(
            |shop: String, access: Access, q: HashMap<String, String>, state: AppState| async move {
                let shop = allowed_shop(&state, &access, &shop)?;
                let parsed = RecQuery::parse(&q)?;
                let customer = q.get("customer_id").map(|c| CustomerId(c.clone()));
                let recs = answer(&state, shop, &parsed, customer.as_ref())?;
                Ok::<_, Rejection>(warp::reply::json(&recs))
            },
        )
}
