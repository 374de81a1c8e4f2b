//! The dashboard's two languages: Indonesian (the default) and English. Every text a page
//! shows is written in English in the code and templates and looked up in the catalogue
//! `locales/id.toml` (`"English" = "Indonesia"`), compiled into the binary. Templates call
//! `{{ t("Customers") }}` (see [`template_function`]); Rust calls [`tr`] / [`tr_with`].
//! The owner picks the language with `GET /admin/language/{id|en}?back=PATH` (the switch in
//! the header), kept in the cookie `laris_lang` for a year.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::LazyLock;

use warp::filters::BoxedFilter;
use warp::http::{header, HeaderValue};
use warp::reply::Response;
use warp::Filter;

use crate::domain::text::fill_places;
use crate::records::Why;

/// The cookie holding the dashboard's language.
pub const COOKIE: &str = "laris_lang";

/// The catalogue's source: a flat TOML table, English text = Indonesian text.
pub const CATALOGUE_SOURCE: &str = include_str!("../../../locales/id.toml");

static CATALOGUE: LazyLock<HashMap<String, String>> = LazyLock::new(|| {
    toml::from_str(CATALOGUE_SOURCE)
        .unwrap_or_else(|e| panic!("locales/id.toml is not a flat table of strings: {e}"))
});

/// The dashboard's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Id,
    En,
}

impl Lang {
    /// `id` or `en`: the cookie's value and `<html lang>`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Id => "id",
            Lang::En => "en",
        }
    }

    pub fn parse(raw: &str) -> Option<Lang> {
        match raw {
            "id" => Some(Lang::Id),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The language of the cookie's value; Indonesian without one or with a bad one.
    pub fn from_cookie(value: Option<&str>) -> Lang {
        value.and_then(Lang::parse).unwrap_or_default()
    }

    /// The other language, which the header's switch offers.
    pub fn other(self) -> Lang {
        match self {
            Lang::Id => Lang::En,
            Lang::En => Lang::Id,
        }
    }
}

/// `english` in `lang`: the catalogue's Indonesian, or the English itself (for
/// [`Lang::En`], and for a text missing from the catalogue, which a test catches).
pub fn tr(lang: Lang, english: &str) -> Cow<'_, str> {
    match lang {
        Lang::En => Cow::Borrowed(english),
        Lang::Id => match CATALOGUE.get(english) {
            Some(id) => Cow::Borrowed(id.as_str()),
            None => Cow::Borrowed(english),
        },
    }
}

/// [`tr`], then each `{name}` replaced by its value: `tr_with(lang, "Product {id}", &[("id", "SRD-100")])`.
pub fn tr_with(lang: Lang, english: &str, args: &[(&str, &str)]) -> String {
    fill(&tr(lang, english), args.iter().map(|(k, v)| (*k, *v)))
}

/// Replaces each `{name}` of `text` by its value, in one pass
/// ([`crate::domain::text::fill_places`]); other braces stay as they are.
pub fn fill<'a>(text: &str, args: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let args: Vec<(&str, &str)> = args.into_iter().collect();
    fill_places(text, |name| {
        args.iter().find(|(k, _)| *k == name).map(|(_, v)| *v)
    })
}

/// A message built in English with `crate::admin::views::msg` (a catalogue entry with its
/// `{name}`s filled in), in `lang`: the entry whose English matches the whole message gives
/// the Indonesian, with the same values. A message no entry matches stays English.
pub fn translate_message(lang: Lang, message: &str) -> String {
    if lang == Lang::En {
        return message.to_string();
    }
    if let Some(id) = CATALOGUE.get(message) {
        return id.clone();
    }
    // Of the entries that match, the one with the most literal text (the most specific:
    // "unknown feedback message {id} in shop {shop}" over "unknown feedback message {id}").
    let literal_len = |t: &str| {
        pieces(t)
            .iter()
            .filter(|(hole, _)| !hole)
            .map(|(_, s)| s.len())
            .sum::<usize>()
    };
    CATALOGUE
        .iter()
        .filter(|(k, _)| k.contains('{'))
        .filter_map(|(english, id)| {
            match_template(english, message).map(|values| (literal_len(english), id, values))
        })
        .max_by_key(|(len, _, _)| *len)
        .map(|(_, id, values)| fill(id, values.iter().map(|(k, v)| (k.as_str(), *v))))
        .unwrap_or_else(|| message.to_string())
}

/// The pieces of a template: (is a hole, text), literals joined, so a hole is always
/// followed by a literal (possibly empty).
fn pieces(template: &str) -> Vec<(bool, String)> {
    let mut out = Vec::new();
    let mut literal = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        literal.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close)
                if close > 0
                    && after[..close]
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_') =>
            {
                out.push((false, std::mem::take(&mut literal)));
                out.push((true, after[..close].to_string()));
                rest = &after[close + 1..];
            }
            _ => {
                literal.push('{');
                rest = after;
            }
        }
    }
    literal.push_str(rest);
    out.push((false, literal));
    out
}

/// The values of `template`'s holes that make it `text`, if any (each value non-empty, the
/// shortest that lets the rest match).
fn match_template<'a>(template: &str, text: &'a str) -> Option<Vec<(String, &'a str)>> {
    fn go<'a>(p: &[(bool, String)], text: &'a str, out: &mut Vec<(String, &'a str)>) -> bool {
        match p.split_first() {
            None => text.is_empty(),
            Some(((false, lit), rest)) => text.strip_prefix(lit.as_str()).is_some_and(|t| go(rest, t, out)),
            Some(((true, name), rest)) => {
                let ends = text
                    .char_indices()
                    .skip(1)
                    .map(|(i, _)| i)
                    .chain(std::iter::once(text.len()));
                for end in ends.filter(|&end| end > 0) {
                    out.push((name.clone(), &text[..end]));
                    if go(rest, &text[end..], out) {
                        return true;
                    }
                    out.pop();
                }
                false
            }
        }
    }
    let p = pieces(template);
    let mut out = Vec::new();
    go(&p, text, &mut out).then_some(out)
}

/// The template's `lang` variable (`id` or `en`; Indonesian without one).
fn page_lang(state: &minijinja::State) -> Lang {
    state
        .lookup("lang")
        .and_then(|v| v.as_str().and_then(Lang::parse))
        .unwrap_or_default()
}

/// The template function `t`: `{{ t("Customers") }}`, `{{ t("{n} customers", n=3) }}`.
/// The language is the template's `lang` variable (`id` or `en`; Indonesian without one).
pub fn template_function(
    state: &minijinja::State,
    english: &str,
    kwargs: minijinja::value::Kwargs,
) -> Result<String, minijinja::Error> {
    let lang = page_lang(state);
    let mut values = Vec::new();
    for name in kwargs.args() {
        let value: minijinja::Value = kwargs.get(name)?;
        values.push((name.to_string(), value.to_string()));
    }
    kwargs.assert_all_used()?;
    Ok(fill(
        &tr(lang, english),
        values.iter().map(|(k, v)| (k.as_str(), v.as_str())),
    ))
}

/// The template function `why`: a message's [`Why`] in the page's language,
/// `{{ why(m.why) }}`: each sentence translated, then its places filled.
pub fn why_function(state: &minijinja::State, why: minijinja::Value) -> Result<String, minijinja::Error> {
    let why: Why = serde_json::to_value(&why)
        .and_then(serde_json::from_value)
        .map_err(|e| minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, format!("why(): {e}")))?;
    let lang = page_lang(state);
    Ok(why.render(&|text| tr(lang, text).into_owned()))
}

/// Where the switch may send the browser back to: a path of the dashboard, else `/admin`.
pub fn safe_back(back: Option<&str>) -> &str {
    match back {
        Some(b)
            if (b == "/admin" || b.starts_with("/admin/") || b.starts_with("/admin?"))
                && !b.contains('\\')
                && !b.chars().any(char::is_control) =>
        {
            b
        }
        _ => "/admin",
    }
}

/// The `Set-Cookie` value choosing `lang` for a year.
pub fn cookie(lang: Lang) -> String {
    format!(
        "{COOKIE}={}; Path=/admin; SameSite=Lax; Max-Age=31536000",
        lang.code()
    )
}

/// GET /admin/language/{id|en}[?back=/admin/…] — sets the language cookie and answers `303`
/// back to the page (a dashboard path only; anything else goes to `/admin`).
pub fn routes() -> BoxedFilter<(Response,)> {
    warp::path!("admin" / "language" / String)
        .and(warp::get())
        .and(warp::query::<HashMap<String, String>>())
        .and_then(|raw: String, q: HashMap<String, String>| async move {
            let Some(lang) = Lang::parse(&raw) else {
                return Err(warp::reject::not_found());
            };
            let mut resp = super::see_other(safe_back(q.get("back").map(String::as_str)));
            if let Ok(v) = HeaderValue::from_str(&cookie(lang)) {
                resp.headers_mut().append(header::SET_COOKIE, v);
            }
            Ok(resp)
        })
        .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use std::path::Path;

    #[test]
    fn indonesian_is_the_default_and_english_stays_english() {
        assert_eq!(Lang::default(), Lang::Id);
        assert_eq!(Lang::from_cookie(None), Lang::Id);
        assert_eq!(Lang::from_cookie(Some("fr")), Lang::Id);
        assert_eq!(Lang::from_cookie(Some("en")), Lang::En);
        assert_eq!(tr(Lang::Id, "Customers"), "Pelanggan");
        assert_eq!(tr(Lang::En, "Customers"), "Customers");
        assert_eq!(tr(Lang::Id, "no such text"), "no such text");
        assert_eq!(
            tr_with(Lang::Id, "Product {id}", &[("id", "SRD-100")]),
            "Produk SRD-100"
        );
    }

    #[test]
    fn a_message_s_reason_reads_in_the_owner_s_language_with_its_values_as_they_are() {
        use crate::outreach::qualify::why;
        let item = |name: &str, every: u32| {
            Why::new(why::DUE_ITEM)
                .arg("product", name)
                .arg("every", every)
                .arg("date", "2026-11-20")
                .arg("ago", 10)
        };
        let due = Why::new(why::DUE).items(vec![item("Kopi {date} Robusta", 10), item("Gula Aren", 14)]);
        assert_eq!(
            due.english(),
            "buys again and is due: Kopi {date} Robusta about every 10 days, last on 2026-11-20 (10 days ago); \
             Gula Aren about every 14 days, last on 2026-11-20 (10 days ago)"
        );
        assert_eq!(
            due.render(&|t| tr(Lang::Id, t).into_owned()),
            "membeli lagi dan sudah waktunya: Kopi {date} Robusta kira-kira tiap 10 hari, terakhir pada 2026-11-20 (10 hari lalu); \
             Gula Aren kira-kira tiap 14 hari, terakhir pada 2026-11-20 (10 hari lalu)"
        );
    }

    #[test]
    fn messages_built_from_an_entry_come_back_in_indonesian_with_their_values() {
        let en = "unknown customer \"C-9\" in shop lengkuas";
        assert_eq!(
            translate_message(Lang::Id, en),
            "pelanggan \"C-9\" tidak ada di toko lengkuas"
        );
        assert_eq!(translate_message(Lang::En, en), en);
        assert_eq!(translate_message(Lang::Id, "something else"), "something else");
        assert_eq!(
            translate_message(Lang::Id, "unknown feedback message 3 in shop lengkuas"),
            "pesan masukan 3 tidak ada di toko lengkuas"
        );
        assert_eq!(
            match_template("a {x} b {y}", "a 1 b 2 b 3"),
            Some(vec![("x".to_string(), "1"), ("y".to_string(), "2 b 3")])
        );
        assert_eq!(match_template("a {x}", "a "), None);
    }

    #[test]
    fn the_switch_goes_back_to_dashboard_paths_only() {
        assert_eq!(
            safe_back(Some("/admin/shops/x/customers?tier=Gold")),
            "/admin/shops/x/customers?tier=Gold"
        );
        assert_eq!(safe_back(Some("/admin")), "/admin");
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/administrator",
            "/demo",
            "/admin/\\evil",
            "",
        ] {
            assert_eq!(safe_back(Some(bad)), "/admin", "{bad}");
        }
        assert_eq!(safe_back(None), "/admin");
        assert!(cookie(Lang::En).starts_with("laris_lang=en; Path=/admin; SameSite=Lax; Max-Age="));
    }

    #[test]
    fn the_template_function_translates_and_fills_placeholders() {
        let mut env = crate::web::templates::environment();
        env.add_template("x.html", r#"{{ t("Orders ({n})", n=3) }}|{{ t("Customers") }}"#)
            .unwrap();
        let id = crate::web::templates::render(&env, "x.html", minijinja::context! { lang => "id" }).unwrap();
        let en = crate::web::templates::render(&env, "x.html", minijinja::context! { lang => "en" }).unwrap();
        assert_eq!(id, "Pesanan (3)|Pelanggan");
        assert_eq!(en, "Orders (3)|Customers");
    }

    /// The string literals following each `marker` in `text` (`t("` → the text up to the
    /// closing unescaped quote).
    fn literals_after(text: &str, marker: &str, out: &mut BTreeSet<String>) {
        let mut rest = text;
        while let Some(at) = rest.find(marker) {
            rest = &rest[at + marker.len()..];
            let mut lit = String::new();
            let mut chars = rest.char_indices();
            let mut end = rest.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, n)) = chars.next() {
                            lit.push(n);
                        }
                    }
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    c => lit.push(c),
                }
            }
            out.insert(lit);
            rest = &rest[end..];
        }
    }

    fn files(dir: &Path, ext: &str, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                files(&path, ext, out);
            } else if path.extension().is_some_and(|e| e == ext) {
                out.push(path);
            }
        }
    }

    /// Every text the code asks to translate: `t("…")` in the templates; `tr(lang, "…")`,
    /// `tr_with(lang, "…"` and `msg("…"` in the Rust sources (`lang` being any expression
    /// without a comma).
    fn used_texts() -> BTreeSet<String> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut used = BTreeSet::new();
        let mut templates = Vec::new();
        files(&root.join("templates"), "html", &mut templates);
        for path in templates {
            let text = std::fs::read_to_string(&path).unwrap();
            literals_after(&text, "t(\"", &mut used);
        }
        let mut sources = Vec::new();
        files(&root.join("src"), "rs", &mut sources);
        for path in sources.iter().filter(|p| !p.ends_with("web/admin/i18n.rs")) {
            let text = std::fs::read_to_string(path).unwrap();
            // Calls written across lines by rustfmt: join the whitespace first.
            let flat: String = text
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .replace("( \"", "(\"");
            for call in ["tr(", "tr_with("] {
                let mut rest = flat.as_str();
                while let Some(at) = rest.find(call) {
                    let before = rest[..at].chars().last();
                    rest = &rest[at + call.len()..];
                    if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                        continue;
                    }
                    // The language argument, then the English literal.
                    let Some(quote) = rest.find('"') else { break };
                    let lang_arg = &rest[..quote];
                    if lang_arg.ends_with(", ") && !lang_arg.contains([';', '{', '"']) {
                        if let Some(text) = first_literal(&rest[quote + 1..]) {
                            used.insert(text);
                        }
                    }
                }
            }
            literals_after(&flat, "msg(\"", &mut used);
        }
        // The sentences of the automations' reasons, which `why()` translates.
        used.extend(crate::outreach::qualify::why::ALL.iter().map(|s| s.to_string()));
        used.retain(|s| !s.is_empty() && !s.contains("{{"));
        used
    }

    fn first_literal(after_quote: &str) -> Option<String> {
        let mut lit = String::new();
        let mut chars = after_quote.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => lit.push(chars.next()?),
                '"' => return Some(lit),
                c => lit.push(c),
            }
        }
        None
    }

    fn placeholders(text: &str) -> BTreeSet<String> {
        let mut names = BTreeSet::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            rest = &rest[open + 1..];
            if let Some(close) = rest.find('}') {
                let name = &rest[..close];
                if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    names.insert(name.to_string());
                }
            }
        }
        names
    }

    #[test]
    fn every_text_has_an_indonesian_entry_and_every_entry_is_used() {
        let used = used_texts();
        assert!(used.contains("Customers") && used.len() > 100, "{used:?}");
        let missing: Vec<&String> = used.iter().filter(|s| !CATALOGUE.contains_key(*s)).collect();
        assert!(missing.is_empty(), "add these to locales/id.toml: {missing:#?}");
        let orphans: Vec<&String> = CATALOGUE.keys().filter(|k| !used.contains(*k)).collect();
        assert!(
            orphans.is_empty(),
            "no code uses these entries of locales/id.toml: {orphans:#?}"
        );
        for (en, id) in CATALOGUE.iter() {
            assert_eq!(
                placeholders(en),
                placeholders(id),
                "locales/id.toml: {en:?} and {id:?} name different placeholders"
            );
            assert!(
                !id.trim().is_empty(),
                "locales/id.toml: {en:?} has an empty translation"
            );
        }
    }
}
