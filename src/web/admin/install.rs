//! The dashboard's "Pasang widget" page (`/admin/shops/{shop}/install`): the snippet to paste
//! with this service's real address, which origins may embed the widget and which were
//! refused, a check of a page the owner names (fetched here: is the script there, for this
//! shop, are the slots there and do their products exist, may that origin call us), and a
//! preview of each slot for one product.

use std::time::Duration;

use scraper::{Html, Selector};
use serde::Serialize;
use url::Url;

use crate::config::ShopSettings;
use crate::domain::Slot;
use crate::model::serve::Lang;
use crate::model::ShopModel;
use crate::web::admin::i18n::{self, tr, tr_with};
use crate::web::chat;
use crate::web::cors::{any_origin, refused_origins, Refusal};
use crate::web::fragments::render_slot;
use crate::web::links::link_base;
use crate::web::recommendations::{answer, RecQuery};
use crate::web::state::AppState;

/// Largest page the check reads.
const MAX_PAGE_BYTES: usize = 2 * 1024 * 1024;
/// How long the check waits for the page.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Serialize)]
pub struct InstallPage {
    /// Where this service answers, as a shop page must name it.
    pub base: String,
    /// The product the snippet and the previews show.
    pub product: Option<String>,
    pub snippet: String,
    /// No `allowed_origins`: any site may embed the widget.
    pub any_origin: bool,
    pub allowed_origins: Vec<String>,
    pub refused: Vec<Refusal>,
    pub refused_others: u64,
    /// The page the owner asked to check, and what was found.
    pub check: Option<PageCheck>,
    /// Each slot rendered for `product` as an anonymous visitor sees it (empty: nothing to show).
    pub previews: Vec<(String, String)>,
}

/// What a check of a shop page found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PageCheck {
    pub url: String,
    /// The page could not be fetched: why.
    pub fetch_error: Option<String>,
    /// `src` of the widget script, when the page has one.
    pub script: Option<String>,
    /// `data-shop` of the widget script.
    pub script_shop: Option<String>,
    pub slots: Vec<SlotFound>,
    /// What stops the widget on that page, each with its fix; empty: all is well.
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SlotFound {
    pub slot: String,
    pub product: Option<String>,
    /// The product is in the catalogue (by id or SKU).
    pub known_product: bool,
}

/// The page for `shop`; `check` is the URL the owner typed, if any; `host` the request's
/// `Host` (the address when the shop has no `public_url`).
pub async fn install_page(
    state: &AppState,
    shop: &ShopSettings,
    check: Option<&str>,
    host: Option<&str>,
    lang: i18n::Lang,
) -> InstallPage {
    let base = match link_base(state, shop, host).base {
        b if b.is_empty() => format!("http://{}", state.settings.server.addr),
        b => b,
    };
    let model = state.models.get(&shop.id);
    let product = model.as_deref().and_then(sample_product);
    let (refused, refused_others) = refused_origins(shop);
    let check = match check.map(str::trim).filter(|u| !u.is_empty()) {
        Some(raw) => Some(check_url(raw, shop, model.as_deref(), lang).await),
        None => None,
    };
    let previews = match &product {
        Some(p) => previews(state, shop, p, &base),
        None => Vec::new(),
    };
    InstallPage {
        snippet: snippet(&base, shop, product.as_deref().unwrap_or("ID-PRODUK")),
        base,
        product,
        any_origin: any_origin(shop),
        allowed_origins: shop.allowed_origins.clone(),
        refused,
        refused_others,
        check,
        previews,
    }
}

/// The best-selling available product, else the first available one.
fn sample_product(model: &ShopModel) -> Option<String> {
    model
        .best_sellers
        .iter()
        .map(|&(i, _)| i as usize)
        .chain(0..model.products.len())
        .find(|&i| model.products[i].is_available())
        .map(|i| model.products[i].id.to_string())
}

/// The script tag and one placeholder per slot, as a shop page embeds them.
pub fn snippet(base: &str, shop: &ShopSettings, product: &str) -> String {
    let mut out = format!(
        "<script async src=\"{base}/widget.js\" data-shop=\"{}\"></script>\n",
        shop.id
    );
    for slot in [Slot::Similar, Slot::Upsell, Slot::Bundle, Slot::Loyalty] {
        out.push_str(&format!(
            "<div data-laris-slot=\"{}\" data-product=\"{product}\"></div>\n",
            slot.as_str()
        ));
    }
    out
}

fn previews(state: &AppState, shop: &ShopSettings, product: &str, base: &str) -> Vec<(String, String)> {
    let query = std::collections::HashMap::from([("product".to_string(), product.to_string())]);
    let Ok(parsed) = RecQuery::parse(&query) else {
        return Vec::new();
    };
    let Ok(recs) = answer(state, shop, &parsed, None) else {
        return Vec::new();
    };
    let mut out: Vec<(String, String)> = [Slot::Similar, Slot::Upsell, Slot::Bundle, Slot::Loyalty]
        .into_iter()
        .map(|slot| {
            let html = render_slot(state, &shop.id, slot, &recs, Lang::Id, base).unwrap_or_default();
            (slot.as_str().to_string(), html)
        })
        .collect();
    // The chat button, when the shop has one, as a visitor would see it now.
    if shop.chat.is_some() {
        let html = chat::fragment(state, shop, &query, base, chrono::Utc::now()).unwrap_or_default();
        out.push((Slot::Chat.as_str().to_string(), html));
    }
    out
}

async fn check_url(raw: &str, shop: &ShopSettings, model: Option<&ShopModel>, lang: i18n::Lang) -> PageCheck {
    let failed = |why: String| PageCheck {
        url: raw.to_string(),
        fetch_error: Some(why),
        script: None,
        script_shop: None,
        slots: Vec::new(),
        problems: Vec::new(),
    };
    let url = match Url::parse(raw) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => u,
        _ => {
            return failed(tr_with(
                lang,
                "{url} is not a page address: write the whole address, e.g. https://toko.example/produk/serundeng",
                &[("url", &format!("{raw:?}"))],
            ))
        }
    };
    match fetch(&url).await {
        Ok(html) => check_page(&html, &url, shop, model, lang),
        Err(why) => failed(why.explain(lang)),
    }
}

/// Why a page could not be read for the install check.
#[derive(Debug)]
enum FetchFailed {
    /// No HTTP client could be made (the system's TLS roots, say).
    Client(reqwest::Error),
    /// The request failed: name resolution, connection, timeout.
    Unreachable(reqwest::Error),
    /// The page answered with this status.
    Status(reqwest::StatusCode),
    /// The body broke off.
    BrokeOff(reqwest::Error),
    /// The body is larger than [`MAX_PAGE_BYTES`].
    TooLarge,
}

impl FetchFailed {
    /// In words for the owner, in the dashboard's language.
    fn explain(&self, lang: i18n::Lang) -> String {
        match self {
            FetchFailed::Client(e) => e.to_string(),
            FetchFailed::Unreachable(e) => tr_with(
                lang,
                "the page could not be fetched ({error}): check its address and that this server can reach it",
                &[("error", &e.to_string())],
            ),
            FetchFailed::Status(status) => tr_with(
                lang,
                "the page answered {status}: check its address",
                &[("status", &status.to_string())],
            ),
            FetchFailed::BrokeOff(e) => tr_with(lang, "the page broke off: {error}", &[("error", &e.to_string())]),
            FetchFailed::TooLarge => tr_with(
                lang,
                "the page is larger than {mb} MB: check a product page, not a file",
                &[("mb", &(MAX_PAGE_BYTES / 1024 / 1024).to_string())],
            ),
        }
    }
}

/// The page's HTML, at most [`MAX_PAGE_BYTES`].
async fn fetch(url: &Url) -> Result<String, FetchFailed> {
    let client = reqwest::Client::builder()
        .timeout(FETCH_TIMEOUT)
        .redirect(reqwest::redirect::Policy::limited(5))
        .user_agent("laris-install-check")
        .build()
        .map_err(FetchFailed::Client)?;
    let mut resp = client
        .get(url.clone())
        .send()
        .await
        .map_err(FetchFailed::Unreachable)?;
    if !resp.status().is_success() {
        return Err(FetchFailed::Status(resp.status()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(FetchFailed::BrokeOff)? {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_PAGE_BYTES {
            return Err(FetchFailed::TooLarge);
        }
    }
    Ok(String::from_utf8_lossy(&body).into_owned())
}

/// What `html` (fetched from `url`) holds of the widget, and what stops it there.
pub fn check_page(
    html: &str,
    url: &Url,
    shop: &ShopSettings,
    model: Option<&ShopModel>,
    lang: i18n::Lang,
) -> PageCheck {
    let doc = Html::parse_document(html);
    let scripts = Selector::parse("script[src]").expect("valid selector");
    let placeholders = Selector::parse("[data-laris-slot]").expect("valid selector");
    let widget = doc.select(&scripts).find(|s| {
        s.value()
            .attr("src")
            .is_some_and(|src| src.split(['?', '#']).next().unwrap_or("").ends_with("/widget.js"))
    });
    let script = widget.and_then(|s| s.value().attr("src")).map(str::to_string);
    let script_shop = widget
        .and_then(|s| s.value().attr("data-shop"))
        .map(str::to_string);
    let slots: Vec<SlotFound> = doc
        .select(&placeholders)
        .map(|el| {
            let product = el.value().attr("data-product").map(str::to_string);
            SlotFound {
                slot: el.value().attr("data-laris-slot").unwrap_or("").to_string(),
                known_product: product
                    .as_deref()
                    .is_some_and(|p| model.is_some_and(|m| m.find_product(p).is_some())),
                product,
            }
        })
        .collect();
    let mut problems = Vec::new();
    match (&script, &script_shop) {
        (None, _) => problems.push(
            tr(
                lang,
                "widget script not found: paste the <script … widget.js …> line of the snippet above into the page",
            )
            .into_owned(),
        ),
        (Some(_), None) => problems.push(tr_with(
            lang,
            "widget script without data-shop: add data-shop=\"{shop}\"",
            &[("shop", shop.id.as_str())],
        )),
        (Some(_), Some(s)) if s != shop.id.as_str() => problems.push(tr_with(
            lang,
            "widget script for shop {other}, not {this}: change data-shop to \"{shop}\"",
            &[
                ("other", &format!("{s:?}")),
                ("this", &format!("{:?}", shop.id.as_str())),
                ("shop", shop.id.as_str()),
            ],
        )),
        _ => {}
    }
    if slots.is_empty() {
        problems.push(
            tr(
                lang,
                "no widget slot (data-laris-slot): paste a <div data-laris-slot=…> line where a list should show",
            )
            .into_owned(),
        );
    }
    for s in &slots {
        if Slot::parse(&s.slot).is_none() {
            problems.push(tr_with(
                lang,
                "data-laris-slot={slot} is unknown: use {choices}",
                &[
                    ("slot", &format!("{:?}", s.slot)),
                    ("choices", &Slot::names(&Slot::ALL)),
                ],
            ));
        } else if s.slot != "feedback" {
            match &s.product {
                None => problems.push(tr_with(
                    lang,
                    "slot {slot} without data-product: fill in the id or SKU of this page's product",
                    &[("slot", &s.slot)],
                )),
                Some(p) if model.is_some() && !s.known_product => problems.push(tr_with(
                    lang,
                    "product {product} (slot {slot}) is not in the catalogue: use an id or SKU from the Products page",
                    &[("product", &format!("{p:?}")), ("slot", &s.slot)],
                )),
                Some(_) => {}
            }
        }
    }
    let origin = url.origin().ascii_serialization();
    if !any_origin(shop) && !shop.allowed_origins.contains(&origin) {
        problems.push(tr_with(
            lang,
            "origin {origin} is not in this shop's allowed_origins, so the browser refuses the widget's answers: add \"{origin}\" to allowed_origins (or remove allowed_origins so that every site may)",
            &[("origin", &origin)],
        ));
    }
    PageCheck {
        url: url.to_string(),
        fetch_error: None,
        script,
        script_shop,
        slots,
        problems,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;

    fn shop(allowed: &str) -> ShopSettings {
        let text = format!("[[shops]]\nid = \"lengkuas\"\nname = \"L\"\n{allowed}\n");
        Settings::from_toml(&text, std::path::Path::new("t.toml"), &[])
            .unwrap()
            .shops
            .remove(0)
    }

    fn url(u: &str) -> Url {
        Url::parse(u).unwrap()
    }

    #[test]
    fn a_page_with_the_snippet_for_this_shop_passes() {
        let shop = shop("");
        let page = format!(
            "<html><body>{}</body></html>",
            snippet("https://laris.example", &shop, "SRD-100")
        );
        let check = check_page(&page, &url("https://toko.example/p"), &shop, None, i18n::Lang::Id);
        assert_eq!(check.problems, Vec::<String>::new());
        assert_eq!(check.script.as_deref(), Some("https://laris.example/widget.js"));
        assert_eq!(check.script_shop.as_deref(), Some("lengkuas"));
        assert_eq!(check.slots.len(), 4);
    }

    #[test]
    fn each_thing_that_stops_the_widget_is_named_with_its_fix() {
        let shop = shop("allowed_origins = [\"https://toko.example\"]");
        let check = check_page(
            "<p>no widget</p>",
            &url("https://lain.example/"),
            &shop,
            None,
            i18n::Lang::Id,
        );
        assert_eq!(check.problems.len(), 3, "{:?}", check.problems);
        assert!(check.problems[0].contains("skrip widget tidak ditemukan"));
        assert!(check.problems[1].contains("data-laris-slot"));
        assert!(
            check.problems[2].contains("\"https://lain.example\""),
            "{:?}",
            check.problems
        );
        // The same problems in English when the dashboard is.
        let en = check_page(
            "<p>no widget</p>",
            &url("https://lain.example/"),
            &shop,
            None,
            i18n::Lang::En,
        );
        assert!(
            en.problems[0].starts_with("widget script not found"),
            "{:?}",
            en.problems
        );
        assert!(
            en.problems[2].starts_with("origin https://lain.example is not in"),
            "{:?}",
            en.problems
        );

        let page = r#"<script src="/widget.js?v=1" data-shop="toko-lain"></script>
            <div data-laris-slot="simlar" data-product="X"></div><div data-laris-slot="upsell"></div>"#;
        let check = check_page(page, &url("https://toko.example/"), &shop, None, i18n::Lang::Id);
        assert!(
            check.problems[0].contains("toko \"toko-lain\""),
            "{:?}",
            check.problems
        );
        assert!(
            check.problems[1].contains("\"simlar\" tidak dikenal"),
            "{:?}",
            check.problems
        );
        assert!(
            check.problems[2].contains("tanpa data-product"),
            "{:?}",
            check.problems
        );
        assert_eq!(check.problems.len(), 3);
    }
}
