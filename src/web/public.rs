//! The public product API (`/v1/shops/{shop}/products[/{id}]`): products as the public may
//! see them, and what a request's customer token says about who is asking.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use warp::http::StatusCode;
use warp::{Filter, Rejection, Reply};

use crate::config::ShopSettings;
use crate::domain::{CustomerId, ProductId};
use crate::records::Product;
use crate::web::errors::{reject, store_failed};
use crate::web::state::{known_shop, with_state, AppState};

/// A product as the public may see it: no stock counts beyond availability, nothing personal.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PublicProduct {
    pub id: String,
    pub name: String,
    pub price: i64,
    pub price_text: String,
    pub url: Option<String>,
    pub image: Option<String>,
    pub category: Vec<String>,
    pub description: String,
    pub available: bool,
}

impl From<&Product> for PublicProduct {
    fn from(p: &Product) -> Self {
        PublicProduct {
            id: p.id.to_string(),
            name: p.name.clone(),
            price: p.price.0,
            price_text: p.price.to_string(),
            url: p.url.clone(),
            image: p.image.clone(),
            category: p.category.clone(),
            description: p.description.clone(),
            available: p.is_available(),
        }
    }
}

pub(crate) fn parse_limit(raw: Option<&String>, default: usize, max: usize) -> Result<usize, Rejection> {
    match raw {
        None => Ok(default),
        Some(s) => match s.parse::<usize>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(reject(
                StatusCode::BAD_REQUEST,
                format!("limit={s:?} is not valid: use a whole number from 1 to {max}"),
            )),
        },
    }
}

/// GET /v1/shops/{shop}/products[?limit=N] — the shop's available products, public fields.
pub fn products_list(state: AppState) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    warp::path!("v1" / "shops" / String / "products")
        .and(warp::get())
        .and(warp::query::<HashMap<String, String>>())
        .and(with_state(state))
        .and_then(
            |shop: String, q: HashMap<String, String>, state: AppState| async move {
                let shop = known_shop(&state, &shop)?;
                let limit = parse_limit(q.get("limit"), 50, 500)?;
                let products: Vec<PublicProduct> = state
                    .store
                    .products(&shop.id)
                    .map_err(|e| store_failed("listing products", &e))?
                    .iter()
                    .filter(|p| p.is_available())
                    .take(limit)
                    .map(PublicProduct::from)
                    .collect();
                Ok::<_, Rejection>(warp::reply::json(
                    &serde_json::json!({"shop": shop.id, "products": products}),
                ))
            },
        )
}

/// GET /v1/shops/{shop}/products/{id}
pub fn product_detail(state: AppState) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    warp::path!("v1" / "shops" / String / "products" / String)
        .and(warp::get())
        .and(with_state(state))
        .and_then(|shop: String, id: String, state: AppState| async move {
            let shop = known_shop(&state, &shop)?;
            let id = percent_decode(&id);
            let pid = ProductId::parse(&id)
                .map_err(|e| reject(StatusCode::NOT_FOUND, format!("unknown product: {e}")))?;
            let product = state
                .store
                .product(&shop.id, &pid)
                .map_err(|e| store_failed("reading product", &e))?
                .ok_or_else(|| {
                    reject(
                        StatusCode::NOT_FOUND,
                        format!("unknown product {id:?} in shop {}", shop.id),
                    )
                })?;
            Ok::<_, Rejection>(warp::reply::json(&PublicProduct::from(&product)))
        })
}

/// `raw` with its `%XX` escapes decoded (invalid UTF-8 replaced, a stray `%` kept).
pub(crate) fn percent_decode(raw: &str) -> String {
    percent_encoding::percent_decode_str(raw)
        .decode_utf8_lossy()
        .into_owned()
}

/// The customer a request names with `customer=TOKEN`, when the token is valid; anonymous
/// otherwise (a forged, expired or malformed token never gets an error, nor anyone's data).
pub fn customer_from_query(shop: &ShopSettings, q: &HashMap<String, String>) -> Option<CustomerId> {
    customer_from_token(shop, q.get("customer")?)
}

/// The customer a customer token names, when it is valid for the shop; `None` otherwise.
pub fn customer_from_token(shop: &ShopSettings, token: &str) -> Option<CustomerId> {
    let secret = shop.customer_secret.as_deref()?;
    crate::loyalty::token::verify(token, secret.as_bytes(), chrono::Utc::now().timestamp()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_encoded_product_ids_are_decoded() {
        assert_eq!(percent_decode("SRD%2D100"), "SRD-100");
        assert_eq!(percent_decode("A%20B"), "A B");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("plain"), "plain");
    }
}
