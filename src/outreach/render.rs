//! Writing a message from its automation's template (minijinja) in the shop's language.
//!
//! Variables: `customer.name` (first name; "Kak" in Indonesian, "there" in English when
//! unknown), `customer.full_name`, `shop.name`, `products` (each with `name`, `price` as
//! rupiah text "Rp15.000", `price_rupiah` as a number, `url`), `product` (the first of
//! them), `tier.name`, `tier.discount_pct`, `tier.previous`, `segment`,
//! `days_since_last_order`; the filter `rupiah` formats a number of rupiah
//! (`{{ 150000 | rupiah }}` → `Rp150.000`).

use minijinja::{context, Environment, Value};
use serde::Serialize;

use crate::config::outreach::Automation;
use crate::config::ShopSettings;
use crate::domain::Rupiah;
use crate::outreach::qualify::Candidate;
use crate::records::Customer;

#[derive(Serialize)]
struct ProductView<'a> {
    name: &'a str,
    price: String,
    price_rupiah: i64,
    url: Option<&'a str>,
}

fn value<T: Serialize>(x: &T) -> Value {
    Value::from(minijinja::value::Serde(x))
}

fn first_name(customer: &Customer, language: &str) -> String {
    customer
        .name
        .as_deref()
        .and_then(|n| n.split_whitespace().next())
        .map(str::to_string)
        .unwrap_or_else(|| if language == "en" { "there" } else { "Kak" }.to_string())
}

/// The message `automation` writes to `customer` for candidate `c`, in `language`.
pub fn render(
    automation: &Automation,
    language: &str,
    shop: &ShopSettings,
    customer: &Customer,
    c: &Candidate,
) -> Result<String, minijinja::Error> {
    let mut env = Environment::new();
    env.add_filter("rupiah", |v: i64| Rupiah(v).to_string());
    let template = env.template_from_str(automation.template(language))?;
    let products: Vec<ProductView> = c
        .products
        .iter()
        .map(|p| ProductView {
            name: &p.name,
            price: p.price.to_string(),
            price_rupiah: p.price.0,
            url: p.url.as_deref(),
        })
        .collect();
    let text = template.render(context! {
        customer => context! {
            name => first_name(customer, language),
            full_name => customer.name.as_deref(),
        },
        shop => context! { name => &shop.name },
        product => products.first().map(value),
        products => value(&products),
        tier => c.tier.as_ref().map(value),
        segment => c.segment.as_deref(),
        days_since_last_order => c.days_since_last_order,
    })?;
    Ok(text.trim().to_string())
}
