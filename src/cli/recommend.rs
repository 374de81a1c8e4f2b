//! `laris recommend`, `laris token` and `laris customers`: what a shop serves, and to whom.

use std::path::Path;

use anyhow::{anyhow, bail};

use super::client::ServiceClient;
use super::{open_existing_store, shop_id, OutputFormat};
use crate::config::Settings;

pub(super) struct RecommendArgs<'a> {
    pub(super) shop: &'a str,
    pub(super) product: &'a str,
    pub(super) customer: Option<&'a str>,
    pub(super) cart: Option<&'a str>,
    pub(super) limit: Option<usize>,
    pub(super) lang: &'a str,
    pub(super) json: bool,
}

pub(super) fn recommend(settings: &Settings, data_dir: &Path, a: &RecommendArgs) -> anyhow::Result<()> {
    use crate::model::serve::{Lang, Recommendations, Request};
    let shop = shop_id(settings, a.shop)?;
    let lang = Lang::parse(a.lang).ok_or_else(|| anyhow!("--lang {:?}: use id or en", a.lang))?;
    crate::domain::ProductId::parse(a.product)?;
    let cart: Vec<crate::domain::ProductId> = a
        .cart
        .unwrap_or("")
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| crate::domain::ProductId::parse(s.trim()))
        .collect::<Result<_, _>>()?;
    let recs: Recommendations = match ServiceClient::find(settings, data_dir)? {
        Some(client) => {
            let mut path = format!(
                "/admin/api/shops/{shop}/recommendations?product={}&lang={}",
                crate::domain::url_component(a.product),
                a.lang
            );
            if let Some(c) = a.customer {
                path.push_str(&format!("&customer_id={}", crate::domain::url_component(c)));
            }
            if let Some(c) = a.cart {
                path.push_str(&format!("&cart={}", crate::domain::url_component(c)));
            }
            if let Some(l) = a.limit {
                path.push_str(&format!("&limit={l}"));
            }
            client.get(&path)?
        }
        None => {
            let store = open_existing_store(settings, data_dir)?;
            let shop_settings = settings.shop(&shop).expect("checked");
            let model = crate::model::rebuild::load_or_rebuild(&*store, shop_settings)?;
            let customer = a.customer.map(|c| crate::domain::CustomerId(c.to_string()));
            let found = model
                .find_product(a.product)
                .ok_or_else(|| anyhow!(model.unknown_product_message(a.product, shop.as_str())))?;
            let product = model.products[found].id.clone();
            let req = Request {
                product: &product,
                customer: customer.as_ref(),
                cart: &cart,
                limit: a.limit.unwrap_or(shop_settings.recommend.limit),
                lang,
            };
            crate::model::serve::recommend(
                &model,
                shop.as_str(),
                &shop_settings.recommend,
                &shop_settings.offers,
                &req,
            )
            .ok_or_else(|| anyhow!(model.unknown_product_message(a.product, shop.as_str())))?
        }
    };
    if a.json {
        println!("{}", serde_json::to_string_pretty(&recs)?);
    } else {
        print!("{}", crate::cli::analyst::recommendations_text(&recs));
    }
    Ok(())
}

pub(super) fn token(
    settings: &Settings,
    data_dir: &Path,
    shop: &str,
    customer: &str,
    ttl: i64,
) -> anyhow::Result<()> {
    let id = shop_id(settings, shop)?;
    let secret = settings.shop(&id).and_then(|s| s.customer_secret.clone()).ok_or_else(|| {
        anyhow!("shop {id} has no customer_secret: set customer_secret in its [[shops]] block or LARIS_SHOP_{}_CUSTOMER_SECRET", id.as_str().to_uppercase().replace('-', "_"))
    })?;
    if ttl <= 0 {
        bail!("--ttl {ttl}: use a lifetime in seconds above 0");
    }
    let exp = chrono::Utc::now().timestamp() + ttl;
    println!(
        "{}",
        crate::loyalty::token::make(customer, secret.as_bytes(), exp)
    );
    // The token is printed whatever the store says (a shop's backend may sign for a customer
    // whose first order has not been imported yet), but a mistyped id is said out loud: the
    // widget would quietly show the anonymous view for it.
    match customer_known(settings, data_dir, &id, customer) {
        Ok(true) => {}
        Ok(false) => eprintln!(
            "warning: shop {id} has no customer {customer:?} (yet): the widget shows the anonymous view for this token until one of their orders is imported; `laris customers --shop {id}` lists the ids"
        ),
        Err(e) => eprintln!("warning: could not check that customer {customer:?} exists: {e}"),
    }
    Ok(())
}

/// Whether the shop's store (through the running service when it holds it) knows `customer`.
fn customer_known(
    settings: &Settings,
    data_dir: &Path,
    shop: &crate::domain::ShopId,
    customer: &str,
) -> anyhow::Result<bool> {
    if let Some(client) = ServiceClient::find(settings, data_dir)? {
        let path = format!(
            "/admin/api/shops/{shop}/customers/{}",
            crate::domain::url_component(customer)
        );
        return Ok(client.get_optional::<serde_json::Value>(&path)?.is_some());
    }
    let store = open_existing_store(settings, data_dir)?;
    Ok(store
        .customers(shop)?
        .iter()
        .any(|c| c.id.0 == customer || c.aliases.iter().any(|a| a.0 == customer)))
}

pub(super) fn products(
    settings: &Settings,
    data_dir: &Path,
    shop: &str,
    search: Option<&str>,
    format: OutputFormat,
) -> anyhow::Result<()> {
    let shop = shop_id(settings, shop)?;
    let all: Vec<crate::admin::views::ProductRow> = match ServiceClient::find(settings, data_dir)? {
        Some(client) => {
            let page: serde_json::Value = client.get(&format!("/admin/api/shops/{shop}/products"))?;
            serde_json::from_value(page["products"].clone())?
        }
        None => {
            let store = open_existing_store(settings, data_dir)?;
            crate::admin::views::products(&*store, settings.shop(&shop).expect("checked"))
                .map_err(|e| anyhow!("{e}"))?
                .products
        }
    };
    let wanted = search.map(str::to_lowercase);
    let rows: Vec<crate::admin::views::ProductRow> = all
        .into_iter()
        .filter(|p| {
            wanted.as_deref().is_none_or(|w| {
                [Some(p.id.as_str()), p.sku.as_deref(), Some(p.name.as_str())]
                    .into_iter()
                    .flatten()
                    .any(|text| text.to_lowercase().contains(w))
            })
        })
        .collect();
    match format {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&rows)?),
        OutputFormat::Csv => crate::admin::csv::products_csv(&rows, &mut std::io::stdout().lock())?,
    }
    Ok(())
}

pub(super) fn customers(
    settings: &Settings,
    data_dir: &Path,
    shop: &str,
    segment: Option<&str>,
    format: OutputFormat,
) -> anyhow::Result<()> {
    let shop = shop_id(settings, shop)?;
    let segment = match segment {
        None => None,
        Some(s) => Some(crate::loyalty::segments::canonical(s).ok_or_else(|| {
            anyhow!(
                "--segment {s:?} is not a segment: use one of {} (any case)",
                crate::loyalty::segments::SEGMENTS.join(", ")
            )
        })?),
    };
    // The dashboard's customer list, highest spend first, whether the service or the store
    // answers.
    let all: Vec<crate::records::Customer> = match ServiceClient::find(settings, data_dir)? {
        Some(client) => client.get(&match segment {
            Some(s) => format!(
                "/admin/api/shops/{shop}/customers?segment={}",
                crate::domain::url_component(s)
            ),
            None => format!("/admin/api/shops/{shop}/customers"),
        })?,
        None => {
            let query = crate::admin::views::CustomerQuery {
                segment: segment.map(str::to_string),
                tier: None,
            };
            let store = open_existing_store(settings, data_dir)?;
            crate::admin::views::customers(&*store, settings.shop(&shop).expect("checked"), &query)
                .map_err(|e| anyhow!("{e}"))?
        }
    };
    let rows: Vec<&crate::records::Customer> = all.iter().collect();
    match format {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&rows)?),
        OutputFormat::Csv => crate::admin::csv::customers_csv(
            &rows,
            settings.shop(&shop).expect("checked").timezone.offset(),
            &mut std::io::stdout().lock(),
        )?,
    }
    Ok(())
}
