//! `GET /demo` and `/demo/images/…`: a shop product page that embeds the widget exactly as
//! a shop owner would, and its pictures.

use std::path::PathBuf;

use serde::Deserialize;
use warp::http::StatusCode;
use warp::{Filter, Rejection, Reply};

use crate::domain::ProductId;
use crate::store::ShopStore;
use crate::web::errors::{internal, quoted, reject};
use crate::web::public::PublicProduct;
use crate::web::state::{with_state, AppState};
use crate::web::templates;

#[derive(Deserialize)]
struct DemoQuery {
    product: Option<String>,
}

/// GET /demo[?product=ID] — a shop product page that embeds the widget exactly as a shop
/// owner would (README "HTTP"), for the first configured shop.
pub fn demo_page(state: AppState) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    warp::path!("demo")
        .and(warp::get())
        .and(warp::query::<DemoQuery>())
        .and(with_state(state))
        .and_then(|q: DemoQuery, state: AppState| async move {
            let shop = state.settings.shops.first().ok_or_else(|| {
                reject(
                    StatusCode::NOT_FOUND,
                    "no shop is configured: add a [[shops]] block to laris.toml",
                )
            })?;
            let wanted = q.product.unwrap_or_else(|| "SRD-100".to_string());
            let id = ProductId::parse(&wanted).map_err(|e| reject(StatusCode::BAD_REQUEST, e.to_string()))?;
            let product = state
                .store
                .product(&shop.id, &id)
                .map_err(|e| internal("reading demo product", e))?
                .ok_or_else(|| {
                    reject(
                        StatusCode::NOT_FOUND,
                        format!("unknown product {wanted:?} in shop {}", shop.id),
                    )
                })?;
            let others: Vec<PublicProduct> = state
                .store
                .products(&shop.id)
                .map_err(|e| internal("reading demo products", e))?
                .iter()
                .filter(|p| p.id != product.id)
                .map(PublicProduct::from)
                .collect();
            let html = templates::render(
                &state.templates,
                "demo.html",
                minijinja::context! {
                    shop => minijinja::context! { id => shop.id.as_str(), name => &shop.name },
                    product => minijinja::Value::from(minijinja::value::Serde(PublicProduct::from(&product))),
                    others => minijinja::Value::from(minijinja::value::Serde(&others)),
                },
            )
            .map_err(|e| internal("rendering demo page", e))?;
            Ok::<_, Rejection>(warp::reply::html(html))
        })
}

/// GET /demo/images/{file} — the demo shop's product pictures. A name that cannot be a
/// picture there (a sub-path, NUL, a name longer than a file system takes) is a 404 before
/// the file system is asked, which would call it an open error.
pub fn demo_images(dir: PathBuf) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    warp::path!("demo" / "images" / ..)
        .and(warp::path::peek())
        .and_then(|name: warp::path::Peek| async move {
            let name = name.as_str();
            let plain = (1..=255).contains(&name.len())
                && !name.starts_with('.')
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
            if plain {
                Ok(())
            } else {
                Err(reject(
                    StatusCode::NOT_FOUND,
                    format!(
                        "no picture {} in /demo/images/: picture names are letters, digits, '-', '_' and '.', e.g. /demo/images/SRD-100.svg",
                        quoted(name.as_bytes())
                    ),
                ))
            }
        })
        .untuple_one()
        .and(warp::fs::dir(dir))
}
