//! `GET /demo` and `/demo/images/…`: a shop product page that embeds the widget exactly as
//! a shop owner would, and its pictures.

use std::path::PathBuf;

use serde::Deserialize;
use warp::http::StatusCode;
use warp::{Filter, Rejection, Reply};

use crate::records::Product;
use crate::web::errors::{internal, quoted, reject, store_failed};
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
            let products = state
                .store
                .products(&shop.id)
                .map_err(|e| store_failed("reading demo products", &e))?;
            let index = demo_product(&products, q.product.as_deref()).ok_or_else(|| {
                let message = match &q.product {
                    Some(wanted) => format!(
                        "unknown product {wanted:?} in shop {}: give an id or SKU of its catalogue, or leave product= out",
                        shop.id
                    ),
                    None => format!(
                        "shop {} has no products yet: run `laris import` or `laris sync` first",
                        shop.id
                    ),
                };
                reject(StatusCode::NOT_FOUND, message)
            })?;
            let product = &products[index];
            let others: Vec<PublicProduct> = products
                .iter()
                .filter(|p| p.id != product.id)
                .map(PublicProduct::from)
                .collect();
            let html = templates::render(
                &state.templates,
                "demo.html",
                minijinja::context! {
                    shop => minijinja::context! { id => shop.id.as_str(), name => &shop.name },
                    product => minijinja::Value::from(minijinja::value::Serde(PublicProduct::from(product))),
                    others => minijinja::Value::from(minijinja::value::Serde(&others)),
                },
            )
            .map_err(|e| internal("rendering demo page", e))?;
            Ok::<_, Rejection>(warp::reply::html(html))
        })
}

/// The product the demo page shows: the one `wanted` names by id or SKU (any case), or
/// with none asked for, the demo shop's serundeng or else the first product.
fn demo_product(products: &[Product], wanted: Option<&str>) -> Option<usize> {
    match wanted.map(str::trim) {
        Some(wanted) => products.iter().position(|p| p.id.as_str() == wanted).or_else(|| {
            products.iter().position(|p| {
                p.sku
                    .as_deref()
                    .is_some_and(|sku| sku.trim().eq_ignore_ascii_case(wanted))
            })
        }),
        None => products
            .iter()
            .position(|p| p.id.as_str() == "SRD-100")
            .or((!products.is_empty()).then_some(0)),
    }
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

#[cfg(test)]
mod tests {
    use super::demo_product;
    use crate::domain::{ProductId, Rupiah};
    use crate::records::Product;

    fn products(ids: &[(&str, Option<&str>)]) -> Vec<Product> {
        ids.iter()
            .map(|(id, sku)| {
                let mut p = Product::new(ProductId::parse(id).unwrap(), id, Rupiah(1000), vec![]);
                p.sku = sku.map(str::to_string);
                p
            })
            .collect()
    }

    #[test]
    fn the_demo_page_shows_the_asked_product_by_id_or_sku_else_a_default() {
        let demo = products(&[("TPG-100", None), ("SRD-100", None)]);
        assert_eq!(demo_product(&demo, None), Some(1), "the demo shop's serundeng");
        let other = products(&[("15001006", Some("MM-021")), ("15001007", Some("MM-022"))]);
        assert_eq!(demo_product(&other, None), Some(0), "a shop without SRD-100");
        assert_eq!(demo_product(&other, Some("mm-022")), Some(1));
        assert_eq!(demo_product(&other, Some("15001006")), Some(0));
        assert_eq!(demo_product(&other, Some("MM-023")), None);
        assert_eq!(demo_product(&[], None), None);
    }
}
