//! The shop's own storefront (docs/feeds.md: storefront): sitemaps that list product pages, and the
//! product a page describes, parsed into [`crate::records::Product`]. Pure functions;
//! fetching, following nested sitemaps and storing belong to the sync layer.
//!
//! A page's product comes from a schema.org `Product` in JSON-LD when one is usable, else
//! from Open Graph product meta. A page with neither is refused, never guessed from its
//! visible text. Pages bring no orders, no marketplace id and no sales counts.
//!
//! Two choices worth knowing: a `Product` whose offers are priced in a currency other than
//! rupiah refuses the page outright (falling back to Open Graph, which often states no
//! currency, would read dollars as rupiah); any other unusable JSON-LD `Product` lets Open
//! Graph have its turn. JSON-LD text is entity-decoded because shop generators often
//! HTML-escape it (`Kopi &amp; Teh`).

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use scraper::{Html, Selector};
use serde_json::{Map, Value};
use url::Url;

use crate::domain::{PackSize, ProductId, Rupiah};
use crate::feeds::FeedError;
use crate::records::{Product, ProductStatus};

const SITEMAP_SHAPE: &str = "a sitemap is <urlset> holding <url><loc>page URL</loc></url> entries, \
     or <sitemapindex> holding <sitemap><loc>sitemap URL</loc></sitemap> entries (sitemaps.org)";

/// A sitemap's entries: page URLs (`<urlset><url><loc>`) and nested sitemaps
/// (`<sitemapindex><sitemap><loc>`), in document order, trimmed, deduplicated. Elements are
/// matched by local name, so the sitemaps.org namespace may be declared or not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sitemap {
    /// Product (or other) pages to fetch, from a `<urlset>`.
    pub pages: Vec<String>,
    /// Further sitemaps to fetch, from a `<sitemapindex>`.
    pub sitemaps: Vec<String>,
}

/// Reads a `sitemap.xml` (already decompressed). Text that is not XML, or XML whose root is
/// neither `<urlset>` nor `<sitemapindex>`, refuses the whole document with a
/// [`FeedError::Page`] saying what a sitemap must look like. `<loc>` values are kept as
/// written (sitemaps.org requires absolute URLs).
pub fn parse_sitemap(xml: &str) -> Result<Sitemap, FeedError> {
    // PHP generators often emit a newline before `<?xml`, which XML forbids.
    let xml = xml.trim_start_matches('\u{feff}').trim_start();
    let options = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    };
    let doc = roxmltree::Document::parse_with_options(xml, options)
        .map_err(|e| FeedError::Page(format!("the sitemap is not XML ({e}): {SITEMAP_SHAPE}")))?;
    let root = doc.root_element();
    let (entry, into_pages) = match root.tag_name().name() {
        "urlset" => ("url", true),
        "sitemapindex" => ("sitemap", false),
        other => {
            return Err(FeedError::Page(format!(
                "the sitemap's root element is <{other}>: {SITEMAP_SHAPE}"
            )))
        }
    };
    let mut seen = HashSet::new();
    let locs: Vec<String> = root
        .children()
        .filter(|n| n.is_element() && n.tag_name().name() == entry)
        .filter_map(|n| {
            n.children()
                .find(|c| c.is_element() && c.tag_name().name() == "loc")
        })
        .map(|loc| loc.text().unwrap_or("").trim().to_string())
        .filter(|loc| !loc.is_empty() && seen.insert(loc.clone()))
        .collect();
    Ok(if into_pages {
        Sitemap {
            pages: locs,
            sitemaps: Vec::new(),
        }
    } else {
        Sitemap {
            pages: Vec::new(),
            sitemaps: locs,
        }
    })
}

/// Where a page's product data came from, for sync reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// A schema.org `Product` in a `<script type="application/ld+json">`.
    JsonLd,
    /// `og:` and `product:` meta tags.
    OpenGraph,
}

/// The product a storefront page describes.
#[derive(Debug, Clone, PartialEq)]
pub struct PageProduct {
    pub product: Product,
    pub found: Found,
}

/// Reads the product a storefront page describes (docs/feeds.md: storefront).
///
/// `page_url` is the page's own URL: relative image and product URLs are resolved against it
/// (or against the page's `<base href>`), and its last path segment is the product's id when
/// the page names no SKU. `fetched_at` becomes the product's `updated_at`.
///
/// Our id is the first of `sku`, `productID`, `mpn` (JSON-LD) or `product:retailer_item_id`
/// (Open Graph), else the last non-empty path segment of the product's URL.
///
/// Errors: [`FeedError::Page`] when `page_url` is not an absolute URL; [`FeedError::Record`]
/// when the page has no usable product, naming the missing field, the refused currency, or
/// what was looked for (and mentioning JSON-LD scripts skipped as invalid JSON).
pub fn parse_page(html: &str, page_url: &str, fetched_at: DateTime<Utc>) -> Result<PageProduct, FeedError> {
    let page = Url::parse(page_url.trim()).map_err(|e| {
        FeedError::Page(format!(
            "the page URL {page_url:?} is not an absolute URL ({e}): give pages as https://…"
        ))
    })?;
    let doc = Html::parse_document(html);
    let base = base_href(&doc)
        .and_then(|href| page.join(&href).ok())
        .unwrap_or_else(|| page.clone());
    let ctx = Context {
        page,
        base,
        fetched_at,
    };

    let scripts = json_ld_scripts(&doc);
    let mut refusals = Vec::new();
    for candidate in scripts.values.iter().flat_map(product_objects) {
        match json_ld_fields(candidate, &ctx).and_then(|f| build_product(f, &ctx, "JSON-LD Product")) {
            Ok(product) => {
                return Ok(PageProduct {
                    product,
                    found: Found::JsonLd,
                })
            }
            Err(refusal) => refusals.push(refusal),
        }
    }
    if let Some(Refusal::ForeignCurrency(message)) =
        refusals.iter().find(|r| matches!(r, Refusal::ForeignCurrency(_)))
    {
        return Err(FeedError::invalid("priceCurrency", message.clone()));
    }

    let og = open_graph_fields(&doc, &ctx)
        .map(|r| r.and_then(|f| build_product(f, &ctx, "Open Graph product meta")));
    let refusal = match og {
        Some(Ok(product)) => {
            return Ok(PageProduct {
                product,
                found: Found::OpenGraph,
            })
        }
        Some(Err(og_refusal)) => refusals.into_iter().next().unwrap_or(og_refusal),
        None => match refusals.into_iter().next() {
            Some(ld_refusal) => ld_refusal,
            None => Refusal::Unusable(format!(
                "no schema.org Product in JSON-LD (<script type=\"application/ld+json\">) and no Open Graph \
                 product meta (og:title with product:price:amount) on {}",
                ctx.page
            )),
        },
    };
    let mut message = refusal.into_message();
    if let Some(first) = scripts.invalid.first() {
        let n = scripts.invalid.len();
        let s = if n == 1 { "" } else { "s" };
        message.push_str(&format!(
            "; {n} JSON-LD script{s} skipped as not valid JSON (first: {first})"
        ));
    }
    Err(FeedError::unreadable(message))
}

/// What a page's parse needs besides the document.
struct Context {
    page: Url,
    /// The page URL, or its `<base href>` resolved against it.
    base: Url,
    fetched_at: DateTime<Utc>,
}

/// Why a candidate product was not taken. A foreign currency is final for the whole page.
enum Refusal {
    ForeignCurrency(String),
    Unusable(String),
}

impl Refusal {
    fn into_message(self) -> String {
        match self {
            Refusal::ForeignCurrency(m) | Refusal::Unusable(m) => m,
        }
    }
}

/// Stock as offers state it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Availability {
    /// In stock, limited, pre-order, back-order, unknown or unstated.
    Available,
    OutOfStock,
    Discontinued,
}

impl Availability {
    /// Reads schema.org URLs (`https://schema.org/InStock`), bare names (`OutOfStock`) and
    /// Open Graph texts (`in stock`, `oos`). Unknown values count as available: they are
    /// mostly variants of "can be ordered".
    fn parse(raw: &str) -> Availability {
        let local = raw.trim().rsplit(['/', ':']).next().unwrap_or("");
        let key: String = local
            .chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect();
        match key.as_str() {
            "outofstock" | "oos" | "soldout" => Availability::OutOfStock,
            "discontinued" => Availability::Discontinued,
            _ => Availability::Available,
        }
    }

    fn status_and_stock(self) -> (ProductStatus, Option<i64>) {
        match self {
            Availability::Available => (ProductStatus::Active, None),
            Availability::OutOfStock => (ProductStatus::Active, Some(0)),
            Availability::Discontinued => (ProductStatus::Inactive, None),
        }
    }
}

/// What either source says about a product, before our id is chosen and URLs resolved.
struct Fields {
    name: String,
    /// The source's own identifier (`sku`, `productID`, `mpn`, `product:retailer_item_id`).
    sku: Option<String>,
    price: Rupiah,
    availability: Availability,
    category: Vec<String>,
    brand: Option<String>,
    description: String,
    image: Option<String>,
    url: Option<String>,
}

fn build_product(f: Fields, ctx: &Context, source: &str) -> Result<Product, Refusal> {
    let url = f
        .url
        .as_deref()
        .and_then(|u| ctx.base.join(u).ok())
        .unwrap_or_else(|| ctx.page.clone());
    let image = f
        .image
        .as_deref()
        .and_then(|i| ctx.base.join(i).ok())
        .map(String::from);
    let id_text = match &f.sku {
        Some(sku) => sku.clone(),
        None => url
            .path_segments()
            .and_then(|mut segments| segments.rfind(|s| !s.is_empty()))
            .map(str::to_string)
            .ok_or_else(|| {
                Refusal::Unusable(format!(
                    "{source} on {}: no sku, productID or product:retailer_item_id, and the product URL {url} \
                     has no path segment to name it by",
                    ctx.page
                ))
            })?,
    };
    let id = ProductId::parse(&id_text)
        .map_err(|e| Refusal::Unusable(format!("{source} on {}: {e}", ctx.page)))?;
    let (status, stock) = f.availability.status_and_stock();
    let mut attributes = BTreeMap::new();
    if let Some(brand) = f.brand {
        attributes.insert("brand".to_string(), brand);
    }
    Ok(Product {
        id,
        marketplace_id: None,
        pack: PackSize::find_in(&f.name),
        name: f.name,
        sku: f.sku,
        price: f.price,
        stock,
        status,
        category: f.category,
        weight_grams: None,
        attributes,
        description: f.description,
        image,
        url: Some(url.to_string()),
        sold_count: None,
        updated_at: ctx.fetched_at,
    })
}

fn selector(css: &str) -> Selector {
    Selector::parse(css).expect("a fixed, valid CSS selector")
}

fn base_href(doc: &Html) -> Option<String> {
    doc.select(&selector("base[href]"))
        .next()
        .and_then(|b| b.attr("href"))
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .map(str::to_string)
}

// ---------------------------------------------------------------- JSON-LD

/// The page's JSON-LD scripts: those that parsed, and the parse errors of those that did not.
struct JsonLdScripts {
    values: Vec<Value>,
    invalid: Vec<String>,
}

fn json_ld_scripts(doc: &Html) -> JsonLdScripts {
    let mut scripts = JsonLdScripts {
        values: Vec::new(),
        invalid: Vec::new(),
    };
    for script in doc.select(&selector("script[type]")) {
        let kind = script.attr("type").unwrap_or("");
        let kind = kind.split(';').next().unwrap_or("").trim();
        if !kind.eq_ignore_ascii_case("application/ld+json") {
            continue;
        }
        let body: String = script.text().collect();
        if body.trim().is_empty() {
            continue;
        }
        match lenient_json(&body) {
            Ok(value) => scripts.values.push(value),
            Err(e) => scripts.invalid.push(e.to_string()),
        }
    }
    scripts
}

/// Parses JSON, retrying once without the two faults shop templates commonly add: raw line
/// breaks inside strings (descriptions pasted as they are) and an HTML comment wrapper.
fn lenient_json(body: &str) -> Result<Value, serde_json::Error> {
    serde_json::from_str(body).or_else(|first| {
        let trimmed = body.trim();
        let unwrapped = trimmed
            .strip_prefix("<!--")
            .and_then(|s| s.strip_suffix("-->"))
            .unwrap_or(trimmed);
        let cleaned: String = unwrapped
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        serde_json::from_str(&cleaned).map_err(|_| first)
    })
}

/// The `Product` objects of one script, in document order: the top level, a top-level
/// array's items, `@graph` members, and a node's `mainEntity`.
fn product_objects(value: &Value) -> Vec<&Map<String, Value>> {
    fn walk<'a>(value: &'a Value, depth: usize, out: &mut Vec<&'a Map<String, Value>>) {
        if depth > 4 {
            return;
        }
        match value {
            Value::Array(items) => items.iter().for_each(|i| walk(i, depth + 1, out)),
            Value::Object(node) => {
                if is_product(node) {
                    out.push(node);
                    return;
                }
                for key in ["@graph", "mainEntity"] {
                    if let Some(inner) = node.get(key) {
                        walk(inner, depth + 1, out);
                    }
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(value, 0, &mut out);
    out
}

/// `@type` is `Product`, `schema:Product` or `https://schema.org/Product`, alone or in a list.
fn is_product(node: &Map<String, Value>) -> bool {
    let is = |t: &str| t.trim().rsplit(['/', ':']).next() == Some("Product");
    match node.get("@type") {
        Some(Value::String(t)) => is(t),
        Some(Value::Array(types)) => types.iter().filter_map(Value::as_str).any(is),
        _ => false,
    }
}

/// A text value: a string, a number, a `{"@value": …}`, or the first of a list; trimmed,
/// HTML entities decoded, `None` when empty.
fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(decode_entities(s)).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        Value::Object(o) => o.get("@value").and_then(text_of),
        Value::Array(items) => items.iter().find_map(text_of),
        _ => None,
    }
}

/// Decodes HTML character references (`&amp;`, `&#8211;`) the way a browser would in text,
/// leaving anything that looks like markup as it is.
fn decode_entities(raw: &str) -> String {
    let raw = raw.trim();
    if !raw.contains('&') {
        return raw.to_string();
    }
    let escaped = raw.replace('<', "&lt;");
    let fragment = Html::parse_fragment(&escaped);
    let text: String = fragment.root_element().text().collect();
    text.trim().to_string()
}

/// A name-bearing value: a string, or a `Thing` with a `name` (brands, categories).
fn name_of(value: &Value) -> Option<String> {
    match value {
        Value::Object(o) => o.get("name").and_then(text_of),
        Value::Array(items) => items.iter().find_map(name_of),
        other => text_of(other),
    }
}

/// An image value: a URL string, an `ImageObject` (`url` or `contentUrl`), or a list of either.
fn image_of(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        Value::Object(o) => o.get("url").or_else(|| o.get("contentUrl")).and_then(image_of),
        Value::Array(items) => items.iter().find_map(image_of),
        _ => None,
    }
}

/// A category path: `"A > B"` split on `>`, or a list of levels.
fn category_of(value: &Value) -> Vec<String> {
    match value {
        Value::Array(levels) => levels.iter().filter_map(name_of).collect(),
        other => name_of(other)
            .map(|path| {
                path.split('>')
                    .map(str::trim)
                    .filter(|level| !level.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// Why a page's price cannot be used.
#[derive(Debug, thiserror::Error)]
enum PriceError {
    #[error(transparent)]
    Unreadable(#[from] crate::domain::DomainError),
    #[error("{0} is negative")]
    Negative(i64),
}

/// A price: a JSON number, or a string in any format [`Rupiah::parse`] accepts, or a plain
/// decimal with a zero fraction (`"20000.0"`, as schema.org's decimal-point convention allows).
fn price_of(value: &Value) -> Result<Rupiah, PriceError> {
    let price = match value {
        Value::String(s) => Rupiah::parse(s).or_else(|e| {
            let s = s.trim();
            match s.split_once('.') {
                Some((whole, fraction))
                    if !whole.is_empty()
                        && whole.bytes().all(|b| b.is_ascii_digit())
                        && !fraction.is_empty()
                        && fraction.bytes().all(|b| b == b'0') =>
                {
                    whole.parse().map(Rupiah).map_err(|_| e)
                }
                _ => Err(e),
            }
        }),
        other => Rupiah::from_json(other),
    }?;
    if price.0 < 0 {
        return Err(PriceError::Negative(price.0));
    }
    Ok(price)
}

/// The offers of a product in document order, with the offers an `AggregateOffer` nests.
fn offer_objects(value: &Value) -> Vec<&Map<String, Value>> {
    fn walk<'a>(value: &'a Value, depth: usize, out: &mut Vec<&'a Map<String, Value>>) {
        if depth > 3 {
            return;
        }
        match value {
            Value::Array(items) => items.iter().for_each(|i| walk(i, depth + 1, out)),
            Value::Object(offer) => {
                out.push(offer);
                if let Some(nested) = offer.get("offers") {
                    walk(nested, depth + 1, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(value, 0, &mut out);
    out
}

/// An offer's price: `lowPrice` (an `AggregateOffer`), else `price`, else
/// `priceSpecification.price`; with the currency stated beside it.
fn offer_price(offer: &Map<String, Value>) -> (Option<(&'static str, &Value)>, Option<String>) {
    let spec = match offer.get("priceSpecification") {
        Some(Value::Array(specs)) => specs.first().and_then(Value::as_object),
        Some(Value::Object(spec)) => Some(spec),
        _ => None,
    };
    let present = |v: &&Value| !v.is_null() && v.as_str().is_none_or(|s| !s.trim().is_empty());
    let price = offer
        .get("lowPrice")
        .filter(present)
        .map(|v| ("offers.lowPrice", v))
        .or_else(|| offer.get("price").filter(present).map(|v| ("offers.price", v)))
        .or_else(|| {
            spec.and_then(|s| s.get("price"))
                .filter(present)
                .map(|v| ("offers.priceSpecification.price", v))
        });
    let currency = offer
        .get("priceCurrency")
        .or_else(|| spec.and_then(|s| s.get("priceCurrency")))
        .and_then(text_of);
    (price, currency)
}

fn is_rupiah(currency: &str) -> bool {
    currency.trim().eq_ignore_ascii_case("IDR")
}

fn foreign_currency(source: &str, field: &str, currency: &str, ctx: &Context) -> Refusal {
    Refusal::ForeignCurrency(format!(
        "{source} on {}: {field} is {currency:?}, but Laris reads prices in rupiah only (IDR); \
         publish the rupiah price or leave the currency out",
        ctx.page
    ))
}

fn json_ld_fields(p: &Map<String, Value>, ctx: &Context) -> Result<Fields, Refusal> {
    let source = "JSON-LD Product";
    let refuse = |what: String| Refusal::Unusable(format!("{source} on {}: {what}", ctx.page));
    let name = p
        .get("name")
        .and_then(text_of)
        .ok_or_else(|| refuse("missing required field name".into()))?;
    let sku = ["sku", "productID", "mpn"]
        .iter()
        .find_map(|k| p.get(*k).and_then(text_of));

    let offers = p.get("offers").map(offer_objects).unwrap_or_default();
    let mut lowest: Option<(Rupiah, &Map<String, Value>)> = None;
    for offer in &offers {
        let (price, currency) = offer_price(offer);
        let Some((field, price)) = price else { continue };
        if let Some(currency) = currency.filter(|c| !is_rupiah(c)) {
            return Err(foreign_currency(source, "offers.priceCurrency", &currency, ctx));
        }
        let price = price_of(price).map_err(|e| refuse(format!("{field}: {e}")))?;
        if lowest.is_none_or(|(low, _)| price < low) {
            lowest = Some((price, offer));
        }
    }
    let Some((price, cheapest)) = lowest else {
        return Err(refuse(
            "missing required field offers.price (an Offer with a price, or an AggregateOffer with lowPrice)"
                .into(),
        ));
    };

    let states: Vec<Availability> = offers
        .iter()
        .map(|o| {
            o.get("availability")
                .and_then(text_of)
                .map_or(Availability::Available, |a| Availability::parse(&a))
        })
        .collect();
    let availability = if states.is_empty() || states.contains(&Availability::Available) {
        Availability::Available
    } else if states.contains(&Availability::OutOfStock) {
        Availability::OutOfStock
    } else {
        Availability::Discontinued
    };

    // The product's own URL is canonical; an offer's may carry a variant query.
    let url = p
        .get("url")
        .and_then(text_of)
        .or_else(|| cheapest.get("url").and_then(text_of))
        .or_else(|| offers.iter().find_map(|o| o.get("url").and_then(text_of)));

    Ok(Fields {
        name,
        sku,
        price,
        availability,
        category: p.get("category").map(category_of).unwrap_or_default(),
        brand: p.get("brand").and_then(name_of),
        description: p.get("description").and_then(text_of).unwrap_or_default(),
        image: p.get("image").and_then(image_of),
        url,
    })
}

// ---------------------------------------------------------------- Open Graph

/// The page's `<meta property|name=… content=…>` pairs, keys lower-cased, first non-empty
/// value of each key (the first `og:image` is the main one).
fn meta_tags(doc: &Html) -> HashMap<String, String> {
    let mut tags = HashMap::new();
    for meta in doc.select(&selector("meta[content]")) {
        let key = [meta.attr("property"), meta.attr("name")]
            .into_iter()
            .flatten()
            .map(str::trim)
            .find(|k| !k.is_empty());
        let content = meta.attr("content").unwrap_or("").trim();
        if let Some(key) = key.filter(|_| !content.is_empty()) {
            tags.entry(key.to_ascii_lowercase())
                .or_insert_with(|| content.to_string());
        }
    }
    tags
}

/// Open Graph product fields, or `None` when the page carries no product meta at all
/// (`og:type` other than `product` and no `product:` or price tags).
fn open_graph_fields(doc: &Html, ctx: &Context) -> Option<Result<Fields, Refusal>> {
    let tags = meta_tags(doc);
    let is_product_page = tags
        .get("og:type")
        .is_some_and(|t| t.eq_ignore_ascii_case("product"))
        || tags
            .keys()
            .any(|k| k.starts_with("product:") || k.starts_with("og:price:"));
    is_product_page.then(|| og_fields(&tags, ctx))
}

fn og_fields(tags: &HashMap<String, String>, ctx: &Context) -> Result<Fields, Refusal> {
    let source = "Open Graph product meta";
    let get = |keys: &[&str]| keys.iter().find_map(|k| tags.get(*k).cloned());
    let refuse = |what: &str| Refusal::Unusable(format!("{source} on {}: {what}", ctx.page));
    let name = get(&["og:title"]).ok_or_else(|| refuse("missing required field og:title"))?;
    // Shopify themes write `og:price:*` where the Open Graph product type says `product:price:*`.
    let (amount, field) = match get(&["product:price:amount"]) {
        Some(amount) => (amount, "product:price:amount"),
        None => (
            get(&["og:price:amount"]).ok_or_else(|| refuse("missing required field product:price:amount"))?,
            "og:price:amount",
        ),
    };
    if let Some(currency) = get(&["product:price:currency", "og:price:currency"]).filter(|c| !is_rupiah(c)) {
        return Err(foreign_currency(source, "product:price:currency", &currency, ctx));
    }
    let price = price_of(&Value::String(amount)).map_err(|e| refuse(&format!("{field}: {e}")))?;
    Ok(Fields {
        name,
        sku: get(&["product:retailer_item_id"]),
        price,
        availability: get(&["product:availability", "og:availability"])
            .map_or(Availability::Available, |a| Availability::parse(&a)),
        category: Vec::new(),
        brand: get(&["product:brand", "og:brand"]),
        description: get(&["og:description"]).unwrap_or_default(),
        image: get(&["og:image", "og:image:url", "og:image:secure_url"]),
        url: get(&["og:url"]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const PAGE: &str = "https://lengkuas.example/produk/serundeng-100g";

    fn fetched() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 10, 1, 8, 0, 0).unwrap()
    }

    /// A page whose head holds `head` (scripts, meta tags).
    fn page(head: &str) -> String {
        format!(
            "<!doctype html><html><head><title>Lengkuas</title>{head}</head>\
             <body><h1>Produk</h1></body></html>"
        )
    }

    fn ld(json: &str) -> String {
        format!("<script type=\"application/ld+json\">{json}</script>")
    }

    fn parse(head: &str) -> Result<PageProduct, FeedError> {
        parse_page(&page(head), PAGE, fetched())
    }

    fn record_error(head: &str) -> String {
        match parse(head) {
            Err(FeedError::Record(m)) => m.to_string(),
            other => panic!("expected a record error, got {other:?}"),
        }
    }

    const SERUNDENG: &str = r#"{
        "@context": "https://schema.org/",
        "@type": "Product",
        "name": "Serundeng Lengkuas 100 g",
        "sku": "SRD-100",
        "image": "https://lengkuas.example/img/srd-100.jpg",
        "description": "Serundeng lengkuas gurih &amp; renyah",
        "category": "Makanan & Minuman > Bumbu & Rempah",
        "brand": {"@type": "Brand", "name": "Lengkuas Nusantara"},
        "offers": {
            "@type": "Offer",
            "url": "https://lengkuas.example/produk/serundeng-100g?varian=1",
            "priceCurrency": "IDR",
            "price": 20000,
            "availability": "https://schema.org/InStock"
        }
    }"#;

    #[test]
    fn a_json_ld_product_with_one_offer_becomes_a_product() {
        let got = parse(&ld(SERUNDENG)).unwrap();
        assert_eq!(got.found, Found::JsonLd);
        let p = got.product;
        assert_eq!(p.id.as_str(), "SRD-100");
        assert_eq!(p.sku.as_deref(), Some("SRD-100"));
        assert_eq!(p.marketplace_id, None);
        assert_eq!(p.name, "Serundeng Lengkuas 100 g");
        assert_eq!(p.price, Rupiah(20000));
        assert_eq!(p.status, ProductStatus::Active);
        assert_eq!(p.stock, None);
        assert_eq!(p.category, vec!["Makanan & Minuman", "Bumbu & Rempah"]);
        assert_eq!(
            p.attributes.get("brand").map(String::as_str),
            Some("Lengkuas Nusantara")
        );
        assert_eq!(p.description, "Serundeng lengkuas gurih & renyah");
        assert_eq!(
            p.image.as_deref(),
            Some("https://lengkuas.example/img/srd-100.jpg")
        );
        assert_eq!(
            p.url.as_deref(),
            Some("https://lengkuas.example/produk/serundeng-100g?varian=1")
        );
        assert_eq!(p.pack.map(|s| s.amount), Some(100));
        assert_eq!(p.weight_grams, None);
        assert_eq!(p.updated_at, fetched());
    }

    #[test]
    fn a_product_is_found_in_a_top_level_array_beside_a_breadcrumb_list() {
        let json = format!(
            r#"[{{"@context": "https://schema.org", "@type": "BreadcrumbList", "itemListElement": [
                  {{"@type": "ListItem", "position": 1, "name": "Bumbu"}}]}},
               {SERUNDENG}]"#
        );
        let got = parse(&ld(&json)).unwrap();
        assert_eq!(got.found, Found::JsonLd);
        assert_eq!(got.product.id.as_str(), "SRD-100");
        assert_eq!(got.product.price, Rupiah(20000));
    }

    #[test]
    fn a_product_is_found_in_a_graph_beside_a_web_page() {
        let json = r#"{"@context": "https://schema.org", "@graph": [
            {"@type": "WebPage", "@id": "https://lengkuas.example/produk/kopi#webpage", "name": "Kopi"},
            {"@type": "Product", "name": "Kopi Robusta 250 gr", "productID": "KOPI-250",
             "offers": {"@type": "Offer", "price": "45000", "priceCurrency": "IDR"}}
        ]}"#;
        let p = parse(&ld(json)).unwrap().product;
        assert_eq!(p.id.as_str(), "KOPI-250");
        assert_eq!(p.sku.as_deref(), Some("KOPI-250"));
        assert_eq!(p.price, Rupiah(45000));
        assert_eq!(p.pack.map(|s| s.amount), Some(250));
        // No url anywhere: the page's own URL.
        assert_eq!(p.url.as_deref(), Some(PAGE));
    }

    #[test]
    fn an_aggregate_offer_gives_its_low_price_written_as_rupiah_text() {
        let json = r#"{"@context": "https://schema.org", "@type": "Product", "name": "Sambal Matah",
            "sku": "SMB-01",
            "offers": {"@type": "AggregateOffer", "lowPrice": "Rp 18.500", "highPrice": "Rp 32.000",
                       "priceCurrency": "IDR", "offerCount": 3}}"#;
        let p = parse(&ld(json)).unwrap().product;
        assert_eq!(p.price, Rupiah(18500));
        assert_eq!(p.status, ProductStatus::Active);
        assert_eq!(p.stock, None);
    }

    #[test]
    fn the_lowest_of_several_offers_is_the_price() {
        let json = r#"{"@type": "Product", "name": "Kopi Gayo", "sku": "GAYO",
            "offers": [
                {"@type": "Offer", "price": 65000, "priceCurrency": "IDR", "availability": "InStock"},
                {"@type": "Offer", "price": "38.000", "priceCurrency": "IDR", "availability": "OutOfStock"},
                {"@type": "Offer", "price": 41000.0, "priceCurrency": "IDR"}
            ]}"#;
        let p = parse(&ld(json)).unwrap().product;
        assert_eq!(p.price, Rupiah(38000));
        // One offer is in stock: the product is available.
        assert_eq!(p.stock, None);
        assert_eq!(p.status, ProductStatus::Active);
    }

    #[test]
    fn a_type_given_as_a_list_or_a_full_url_still_names_a_product() {
        for kind in [r#"["Product", "Food"]"#, r#""https://schema.org/Product""#] {
            let json = format!(
                r#"{{"@type": {kind}, "name": "Keripik Tempe", "sku": "KRP-1", "offers": {{"price": 12000}}}}"#
            );
            let p = parse(&ld(&json)).unwrap().product;
            assert_eq!(p.id.as_str(), "KRP-1", "@type {kind}");
            assert_eq!(p.price, Rupiah(12000));
        }
    }

    #[test]
    fn an_image_may_be_a_list_or_an_image_object_and_relative_urls_are_resolved() {
        let cases = [
            (
                r#"["https://cdn.example/a.jpg", "https://cdn.example/b.jpg"]"#,
                "https://cdn.example/a.jpg",
            ),
            (
                r#"{"@type": "ImageObject", "url": "/img/c.jpg", "width": 800}"#,
                "https://lengkuas.example/img/c.jpg",
            ),
        ];
        for (image, want) in cases {
            let json = format!(
                r#"{{"@type": "Product", "name": "Tempe", "sku": "T", "image": {image}, "offers": {{"price": 5000}}}}"#
            );
            let p = parse(&ld(&json)).unwrap().product;
            assert_eq!(p.image.as_deref(), Some(want), "image {image}");
        }
    }

    #[test]
    fn out_of_stock_offers_give_stock_zero() {
        let json = r#"{"@type": "Product", "name": "Rendang 500 g", "sku": "RDG-500",
            "offers": {"@type": "Offer", "price": 85000, "availability": "http://schema.org/OutOfStock"}}"#;
        let p = parse(&ld(json)).unwrap().product;
        assert_eq!(p.status, ProductStatus::Active);
        assert_eq!(p.stock, Some(0));
        assert!(!p.is_available());
    }

    #[test]
    fn a_discontinued_product_is_inactive() {
        let json = r#"{"@type": "Product", "name": "Dodol", "sku": "DDL",
            "offers": {"@type": "Offer", "price": 15000, "availability": "https://schema.org/Discontinued"}}"#;
        let p = parse(&ld(json)).unwrap().product;
        assert_eq!(p.status, ProductStatus::Inactive);
        assert_eq!(p.stock, None);
    }

    #[test]
    fn an_invalid_json_ld_script_is_skipped_in_favour_of_a_valid_one() {
        let head = format!(
            "<script type=\"application/ld+json\">{{\"@type\": \"Organization\", </script>\
             <script type=\" Application/LD+JSON \">{SERUNDENG}</script>"
        );
        let p = parse(&head).unwrap().product;
        assert_eq!(p.id.as_str(), "SRD-100");
    }

    #[test]
    fn raw_line_breaks_inside_json_ld_strings_are_tolerated() {
        let json = "{\"@type\": \"Product\", \"name\": \"Kopi\", \"sku\": \"K\",\n\
                    \"description\": \"baris satu\nbaris dua\", \"offers\": {\"price\": 1000}}";
        let p = parse(&ld(json)).unwrap().product;
        assert_eq!(p.description, "baris satu baris dua");
    }

    const OG: &str = r#"
        <meta property="og:type" content="product">
        <meta property="og:title" content="Kopi Susu Gula Aren 1 L">
        <meta property="og:image" content="/img/kopi-susu.jpg">
        <meta property="og:image" content="/img/kopi-susu-2.jpg">
        <meta property="og:description" content="Kopi &amp; gula aren">
        <meta property="product:price:amount" content="55000">
        <meta name="product:price:currency" content="IDR">
        <meta property="product:availability" content="in stock">"#;

    #[test]
    fn open_graph_meta_alone_gives_a_product_named_by_its_url_and_with_a_resolved_image() {
        let got = parse(OG).unwrap();
        assert_eq!(got.found, Found::OpenGraph);
        let p = got.product;
        assert_eq!(p.name, "Kopi Susu Gula Aren 1 L");
        assert_eq!(p.price, Rupiah(55000));
        // No retailer id: the last path segment of the page URL.
        assert_eq!(p.id.as_str(), "serundeng-100g");
        assert_eq!(p.sku, None);
        assert_eq!(
            p.image.as_deref(),
            Some("https://lengkuas.example/img/kopi-susu.jpg")
        );
        assert_eq!(p.description, "Kopi & gula aren");
        assert_eq!(p.url.as_deref(), Some(PAGE));
        assert_eq!(p.status, ProductStatus::Active);
        assert_eq!(p.stock, None);
        assert_eq!(p.pack.map(|s| s.amount), Some(1000));
        assert_eq!(p.category, Vec::<String>::new());
    }

    #[test]
    fn open_graph_retailer_id_url_and_availability_are_read() {
        let head = OG.replace("content=\"in stock\"", "content=\"oos\"")
            + "<meta property=\"product:retailer_item_id\" content=\"KS-1L\">\
               <meta property=\"og:url\" content=\"https://lengkuas.example/p/kopi-susu/\">";
        let p = parse(&head).unwrap().product;
        assert_eq!(p.id.as_str(), "KS-1L");
        assert_eq!(p.sku.as_deref(), Some("KS-1L"));
        assert_eq!(p.url.as_deref(), Some("https://lengkuas.example/p/kopi-susu/"));
        assert_eq!(p.stock, Some(0));
    }

    #[test]
    fn an_id_from_the_url_uses_its_last_non_empty_segment() {
        let head =
            OG.to_string() + r#"<meta property="og:url" content="https://lengkuas.example/p/kopi-susu/">"#;
        assert_eq!(parse(&head).unwrap().product.id.as_str(), "kopi-susu");
    }

    #[test]
    fn a_price_in_another_currency_is_refused_naming_the_currency() {
        let json = r#"{"@type": "Product", "name": "Kopi", "sku": "K",
            "offers": {"@type": "Offer", "price": 12.5, "priceCurrency": "USD"}}"#;
        // Open Graph without a currency must not rescue a dollar price.
        let head = ld(json)
            + r#"<meta property="og:title" content="Kopi"><meta property="product:price:amount" content="12">"#;
        let message = record_error(&head);
        assert!(message.contains("\"USD\""), "{message}");
        assert!(message.contains("IDR"), "{message}");

        let og = OG.replace("content=\"IDR\"", "content=\"SGD\"");
        let message = record_error(&og);
        assert!(message.contains("product:price:currency is \"SGD\""), "{message}");
    }

    #[test]
    fn a_missing_price_is_refused_naming_the_field() {
        let json = r#"{"@type": "Product", "name": "Kopi", "sku": "K"}"#;
        let message = record_error(&ld(json));
        assert!(message.contains("offers.price"), "{message}");

        let og = r#"<meta property="og:type" content="product"><meta property="og:title" content="Kopi">"#;
        let message = record_error(og);
        assert!(message.contains("product:price:amount"), "{message}");
    }

    #[test]
    fn json_ld_without_a_usable_price_falls_back_to_open_graph() {
        let json = r#"{"@type": "Product", "name": "Kopi", "sku": "K"}"#;
        let got = parse(&(ld(json) + OG)).unwrap();
        assert_eq!(got.found, Found::OpenGraph);
        assert_eq!(got.product.price, Rupiah(55000));
    }

    #[test]
    fn a_page_with_neither_is_refused_saying_what_was_looked_for() {
        let head =
            r#"<meta property="og:title" content="Tentang kami"><meta property="og:type" content="website">"#
                .to_string()
                + &ld(r#"{"@type": "Organization", "name": "Lengkuas"}"#)
                + "<script type=\"application/ld+json\">{not json</script>";
        let message = record_error(&head);
        assert!(
            message.starts_with("no schema.org Product in JSON-LD"),
            "{message}"
        );
        assert!(message.contains("Open Graph product meta"), "{message}");
        assert!(message.contains(PAGE), "{message}");
        assert!(
            message.contains("1 JSON-LD script skipped as not valid JSON"),
            "{message}"
        );
    }

    #[test]
    fn a_page_url_that_is_not_absolute_refuses_the_page() {
        let err = parse_page(&page(&ld(SERUNDENG)), "/produk/x", fetched()).unwrap_err();
        assert!(
            matches!(err, FeedError::Page(ref m) if m.contains("\"/produk/x\"")),
            "{err}"
        );
    }

    #[test]
    fn a_namespaced_urlset_lists_its_pages_trimmed_and_once() {
        let xml = r#"
<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">
  <url><loc> https://lengkuas.example/produk/serundeng-100g </loc><lastmod>2026-09-30</lastmod></url>
  <url><loc>https://lengkuas.example/produk/kopi?a=1&amp;b=2</loc>
       <image:image><image:loc>https://lengkuas.example/img/kopi.jpg</image:loc></image:image></url>
  <url><loc>https://lengkuas.example/produk/serundeng-100g</loc></url>
  <url><loc>  </loc></url>
</urlset>"#;
        let sitemap = parse_sitemap(xml).unwrap();
        assert_eq!(
            sitemap.pages,
            vec![
                "https://lengkuas.example/produk/serundeng-100g",
                "https://lengkuas.example/produk/kopi?a=1&b=2",
            ]
        );
        assert!(sitemap.sitemaps.is_empty());
    }

    #[test]
    fn a_sitemap_index_lists_nested_sitemaps() {
        let xml = r#"<sitemapindex>
            <sitemap><loc>https://lengkuas.example/sitemap-produk.xml</loc></sitemap>
            <sitemap><loc>https://lengkuas.example/sitemap-halaman.xml</loc><lastmod>2026-09-30</lastmod></sitemap>
        </sitemapindex>"#;
        let sitemap = parse_sitemap(xml).unwrap();
        assert_eq!(
            sitemap.sitemaps,
            vec![
                "https://lengkuas.example/sitemap-produk.xml",
                "https://lengkuas.example/sitemap-halaman.xml",
            ]
        );
        assert!(sitemap.pages.is_empty());
    }

    #[test]
    fn text_that_is_not_a_sitemap_refuses_the_document_saying_what_one_looks_like() {
        for text in [
            "<html><body>Not found</body></html",
            "{\"urls\": []}",
            "<rss><channel/></rss>",
        ] {
            match parse_sitemap(text) {
                Err(FeedError::Page(m)) => {
                    assert!(m.contains("<urlset>") && m.contains("<sitemapindex>"), "{m}")
                }
                other => panic!("{text:?} gave {other:?}"),
            }
        }
    }
}
