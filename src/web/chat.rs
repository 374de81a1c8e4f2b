//! The chat slot: a button that opens WhatsApp with the shop's number and a prefilled
//! question naming the product and its page (`templates/fragments/chat.html`). Without
//! `[shops.chat]` the slot is empty. Outside the opening hours the button still leads to
//! WhatsApp and says when the seller answers.
//!
//! The fragment holds the shop's number, the product's name and the page's address without
//! its query or fragment: nothing about the visitor.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::config::chat::{ChatSettings, ChatStatus, OpeningHours};
use crate::config::ShopSettings;
pub use crate::domain::wa_link;
use crate::domain::{ProductId, Slot};
use crate::model::serve::Lang;
use crate::web::errors::internal;
use crate::web::recommendations::parse_lang;
use crate::web::state::AppState;
use crate::web::templates;
use warp::Rejection;

/// The longest `page=` taken: a longer one is left out of the message.
const MAX_PAGE_BYTES: usize = 2048;

/// The page a `page=` parameter names when it is an http(s) address of at most 2 KB,
/// without user, password, query or fragment (which may say who the visitor is); `None`
/// for anything else, which is then left out of the message.
pub fn page_of(raw: Option<&String>) -> Option<String> {
    let mut url = checked_url(raw?)?;
    url.set_query(None);
    Some(url.to_string())
}

/// An http(s) address of at most 2 KB with a host and no user or password, its fragment
/// dropped.
fn checked_url(raw: &str) -> Option<url::Url> {
    if raw.len() > MAX_PAGE_BYTES {
        return None;
    }
    let mut url = url::Url::parse(raw).ok()?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return None;
    }
    if !url.username().is_empty() || url.password().is_some() {
        return None;
    }
    url.set_fragment(None);
    Some(url)
}

/// The prefilled question: "Halo, saya mau tanya tentang NAME (PAGE)".
pub fn message(name: Option<&str>, page: Option<&str>, lang: Lang) -> String {
    let about = match (name, lang) {
        (Some(n), Lang::Id) => format!("Halo, saya mau tanya tentang {n}"),
        (Some(n), Lang::En) => format!("Hello, I have a question about {n}"),
        (None, Lang::Id) => "Halo, saya mau tanya tentang produk ini".to_string(),
        (None, Lang::En) => "Hello, I have a question about this product".to_string(),
    };
    match page {
        Some(p) => format!("{about} ({p})"),
        None => about,
    }
}

/// What the button says when the seller does not answer now.
pub fn closed_note(status: ChatStatus, lang: Lang) -> Option<String> {
    const HARI: [&str; 7] = ["Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"];
    const DAYS: [&str; 7] = [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ];
    let ChatStatus::Closed {
        at,
        days_ahead,
        weekday,
    } = status
    else {
        return None;
    };
    let at = OpeningHours::clock(at);
    let day = weekday as usize;
    Some(match (days_ahead, lang) {
        (0, Lang::Id) => format!("Penjual membalas mulai {at}"),
        (0, Lang::En) => format!("The seller answers from {at}"),
        (1, Lang::Id) => format!("Penjual membalas besok mulai {at}"),
        (1, Lang::En) => format!("The seller answers tomorrow from {at}"),
        (_, Lang::Id) => format!("Penjual membalas hari {} mulai {at}", HARI[day]),
        (_, Lang::En) => format!("The seller answers on {} from {at}", DAYS[day]),
    })
}

/// The product's name and its own page (absolute on `base`; its query kept, as it may name
/// the product: `/demo?product=SRD-100`), when the shop's model knows it.
fn product_of(
    state: &AppState,
    shop: &ShopSettings,
    raw: Option<&String>,
    base: &str,
) -> (Option<String>, Option<String>) {
    let found = raw.and_then(|raw| {
        let model = state.models.get(&shop.id)?;
        let i = match ProductId::parse(raw).ok().and_then(|id| model.product_index(&id)) {
            Some(i) => i,
            None => model.find_product(raw)?,
        };
        let p = &model.products[i];
        Some((p.name.clone(), p.url.clone()))
    });
    match found {
        None => (None, None),
        Some((name, url)) => {
            let url = url.map(|u| {
                if u.starts_with('/') && !u.starts_with("//") {
                    format!("{base}{u}")
                } else {
                    u
                }
            });
            (
                Some(name),
                url.as_deref().and_then(checked_url).map(|u| u.to_string()),
            )
        }
    }
}

/// The chat fragment for a request: empty when the shop has no `[shops.chat]`. `now` is
/// the moment the opening hours are read at.
pub fn fragment(
    state: &AppState,
    shop: &ShopSettings,
    q: &HashMap<String, String>,
    base: &str,
    now: DateTime<Utc>,
) -> Result<String, Rejection> {
    let Some(chat) = &shop.chat else {
        return Ok(String::new());
    };
    let lang = parse_lang(q)?;
    let (name, own_page) = product_of(state, shop, q.get("product"), base);
    let page = page_of(q.get("page")).or(own_page);
    let ctx = context(chat, shop, name.as_deref(), page.as_deref(), lang, now);
    templates::render_fragment(&state.templates, &shop.id, Slot::Chat.as_str(), ctx)
        .map_err(|e| internal("rendering the chat fragment", e))
}

/// The template's variables: `href`, `label`, `note` (none while the seller answers), `lang`.
fn context(
    chat: &ChatSettings,
    shop: &ShopSettings,
    name: Option<&str>,
    page: Option<&str>,
    lang: Lang,
    now: DateTime<Utc>,
) -> minijinja::Value {
    let href = wa_link(&chat.whatsapp, &message(name, page, lang));
    let label = match lang {
        Lang::Id => "Tanya penjual via WhatsApp",
        Lang::En => "Ask the seller on WhatsApp",
    };
    let note = chat
        .hours
        .and_then(|h| closed_note(h.status(now, shop.timezone.offset()), lang));
    let lang = match lang {
        Lang::Id => "id",
        Lang::En => "en",
    };
    minijinja::context! { href => href, label => label, note => note, lang => lang }
}

/// Whether a chat fragment of `shop` changes with the clock (it has opening hours).
pub fn depends_on_clock(shop: &ShopSettings) -> bool {
    shop.chat.as_ref().is_some_and(|c| c.hours.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use percent_encoding::percent_decode_str;

    fn text_of(link: &str) -> String {
        let (head, text) = link.split_once("?text=").unwrap();
        assert_eq!(head, "https://wa.me/62812000000");
        // Nothing in it that a URL reads as a separator or a space.
        assert!(!text.contains(['&', '#', '?', '+', ' ', '\n']), "{text}");
        percent_decode_str(text).decode_utf8().unwrap().into_owned()
    }

    #[test]
    fn the_link_carries_any_name_intact() {
        let name = "Sambal & Bawang #1? 100+ 🌶️\nbaris dua";
        let text = message(Some(name), Some("https://toko.example/p/sambal"), Lang::Id);
        let link = wa_link("62812000000", &text);
        assert_eq!(
            text_of(&link),
            "Halo, saya mau tanya tentang Sambal & Bawang #1? 100+ 🌶️\nbaris dua (https://toko.example/p/sambal)"
        );
        // The link parses as a URL whose one parameter is the whole text.
        let url = url::Url::parse(&link).unwrap();
        let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        assert_eq!(pairs.len(), 1);
        assert_eq!(pairs[0].1, text);
        assert_eq!(
            text_of(&wa_link("62812000000", &message(Some("Kopi"), None, Lang::En))),
            "Hello, I have a question about Kopi"
        );
    }

    #[test]
    fn only_plain_http_pages_are_named() {
        let page = |s: &str| page_of(Some(&s.to_string()));
        assert_eq!(
            page("https://toko.example/p/sambal?utm=x&email=a@b.c#top").as_deref(),
            Some("https://toko.example/p/sambal")
        );
        assert_eq!(
            page("http://toko.example/").as_deref(),
            Some("http://toko.example/")
        );
        assert_eq!(page("javascript:alert(1)"), None);
        assert_eq!(page("ftp://toko.example/x"), None);
        assert_eq!(page("/p/sambal"), None);
        assert_eq!(page("https://user:pw@toko.example/"), None);
        assert_eq!(page(&format!("https://toko.example/{}", "a".repeat(2100))), None);
    }

    #[test]
    fn the_closed_note_names_the_day() {
        let closed = |days_ahead, weekday| ChatStatus::Closed {
            at: 480,
            days_ahead,
            weekday,
        };
        assert_eq!(closed_note(ChatStatus::Open, Lang::Id), None);
        assert_eq!(
            closed_note(closed(0, 2), Lang::Id).unwrap(),
            "Penjual membalas mulai 08:00"
        );
        assert_eq!(
            closed_note(closed(0, 2), Lang::En).unwrap(),
            "The seller answers from 08:00"
        );
        assert_eq!(
            closed_note(closed(1, 3), Lang::Id).unwrap(),
            "Penjual membalas besok mulai 08:00"
        );
        assert_eq!(
            closed_note(closed(2, 0), Lang::En).unwrap(),
            "The seller answers on Monday from 08:00"
        );
        assert_eq!(
            closed_note(closed(2, 0), Lang::Id).unwrap(),
            "Penjual membalas hari Senin mulai 08:00"
        );
    }
}
