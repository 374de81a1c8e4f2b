//! The minijinja environment: templates compiled into the binary, autoescape by file
//! extension (`.html` escapes), strict undefined so that a typo in a template is an error
//! rather than an empty string on a shop's page.

use minijinja::{Environment, UndefinedBehavior};

/// Built-in templates: (name, source).
const BUILTIN: &[(&str, &str)] = &[
    ("demo.html", include_str!("../../templates/demo.html")),
    (
        "fragments/list.html",
        include_str!("../../templates/fragments/list.html"),
    ),
    (
        "fragments/similar.html",
        include_str!("../../templates/fragments/similar.html"),
    ),
    (
        "fragments/upsell.html",
        include_str!("../../templates/fragments/upsell.html"),
    ),
    (
        "fragments/for_you.html",
        include_str!("../../templates/fragments/for_you.html"),
    ),
    (
        "fragments/bundle.html",
        include_str!("../../templates/fragments/bundle.html"),
    ),
    (
        "fragments/loyalty.html",
        include_str!("../../templates/fragments/loyalty.html"),
    ),
    (
        "fragments/feedback.html",
        include_str!("../../templates/fragments/feedback.html"),
    ),
    (
        "fragments/chat.html",
        include_str!("../../templates/fragments/chat.html"),
    ),
    (
        "feedback_reply.html",
        include_str!("../../templates/feedback_reply.html"),
    ),
    ("admin/base.html", include_str!("../../templates/admin/base.html")),
    (
        "admin/login.html",
        include_str!("../../templates/admin/login.html"),
    ),
    (
        "admin/error.html",
        include_str!("../../templates/admin/error.html"),
    ),
    (
        "admin/overview.html",
        include_str!("../../templates/admin/overview.html"),
    ),
    (
        "admin/products.html",
        include_str!("../../templates/admin/products.html"),
    ),
    (
        "admin/product.html",
        include_str!("../../templates/admin/product.html"),
    ),
    (
        "admin/customers.html",
        include_str!("../../templates/admin/customers.html"),
    ),
    (
        "admin/customer.html",
        include_str!("../../templates/admin/customer.html"),
    ),
    (
        "admin/tiers.html",
        include_str!("../../templates/admin/tiers.html"),
    ),
    (
        "admin/bundles.html",
        include_str!("../../templates/admin/bundles.html"),
    ),
    (
        "admin/performance.html",
        include_str!("../../templates/admin/performance.html"),
    ),
    ("admin/sync.html", include_str!("../../templates/admin/sync.html")),
    (
        "admin/upload.html",
        include_str!("../../templates/admin/upload.html"),
    ),
    (
        "admin/install.html",
        include_str!("../../templates/admin/install.html"),
    ),
    (
        "admin/feedback.html",
        include_str!("../../templates/admin/feedback.html"),
    ),
    (
        "admin/outbox.html",
        include_str!("../../templates/admin/outbox.html"),
    ),
    (
        "admin/opt_outs.html",
        include_str!("../../templates/admin/opt_outs.html"),
    ),
    (
        "admin/settings.html",
        include_str!("../../templates/admin/settings.html"),
    ),
    (
        "admin/experiment.html",
        include_str!("../../templates/admin/experiment.html"),
    ),
];

/// `{{ 2.0 | pct }}` → `2`, `{{ 2.5 | pct }}` → `2.5`: discounts without a trailing `.0`.
fn pct(value: f64) -> String {
    let s = format!("{value:.1}");
    s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
}

/// `{{ 20000 | rp }}` → `Rp20.000`: money as the shop owner writes it.
fn rp(value: i64) -> String {
    crate::domain::Rupiah(value).to_string()
}

/// `{{ "2026-10-31T18:00:00Z" | localtime(25200) }}` → `2026-11-01 01:00`: a stored UTC time
/// in the shop's time zone (offset in seconds).
fn localtime(value: String, offset_seconds: i32) -> Result<String, minijinja::Error> {
    let at = chrono::DateTime::parse_from_rfc3339(&value).map_err(|e| {
        minijinja::Error::new(
            minijinja::ErrorKind::InvalidOperation,
            format!("localtime: {value:?} is not an RFC 3339 time: {e}"),
        )
    })?;
    let zone = chrono::FixedOffset::east_opt(offset_seconds).ok_or_else(|| {
        minijinja::Error::new(
            minijinja::ErrorKind::InvalidOperation,
            format!("localtime: offset {offset_seconds} is out of range"),
        )
    })?;
    Ok(at.with_timezone(&zone).format("%Y-%m-%d %H:%M").to_string())
}

/// `{{ 1.7349 | dec(2) }}` → `1.73`.
fn dec(value: f64, digits: usize) -> String {
    format!("{value:.digits$}")
}

/// `{{ 0.1234 | percent }}` → `12.3%`: a ratio as a percentage with one decimal.
fn percent(value: f64) -> String {
    format!("{:.1}%", value * 100.0)
}

/// `{{ 1.6 | signed_percent }}` → `+160.0%`: a relative change.
fn signed_percent(value: f64) -> String {
    format!("{:+.1}%", value * 100.0)
}

pub fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.add_filter("pct", pct);
    env.add_filter("rp", rp);
    env.add_filter("localtime", localtime);
    env.add_filter("dec", dec);
    env.add_filter("percent", percent);
    env.add_filter("signed_percent", signed_percent);
    env.add_function("t", crate::web::admin::i18n::template_function);
    env.add_function("why", crate::web::admin::i18n::why_function);
    for (name, source) in BUILTIN {
        env.add_template(name, source)
            .unwrap_or_else(|e| panic!("built-in template {name} does not compile: {e}"));
    }
    env
}

/// A shop's template override that does not compile.
#[derive(Debug, thiserror::Error)]
#[error("template {}: {source}", path.display())]
pub struct TemplateError {
    pub path: std::path::PathBuf,
    #[source]
    pub source: minijinja::Error,
}

/// The built-in templates plus each shop's overrides: `{templates}/fragments/{slot}.html`
/// from the shop's `templates` directory, registered as `{shop}/fragments/{slot}.html`. A
/// broken override is refused at start with its file and the template error.
pub fn environment_for(settings: &crate::config::Settings) -> Result<Environment<'static>, TemplateError> {
    let mut env = environment();
    for shop in &settings.shops {
        let Some(dir) = &shop.templates else { continue };
        for slot in crate::domain::Slot::ALL {
            let path = dir.join("fragments").join(format!("{slot}.html"));
            if let Ok(source) = std::fs::read_to_string(&path) {
                env.add_template_owned(format!("{}/fragments/{slot}.html", shop.id), source)
                    .map_err(|source| TemplateError { path, source })?;
            }
        }
    }
    Ok(env)
}

/// Renders a slot with the shop's override when it has one.
pub fn render_fragment(
    env: &Environment<'static>,
    shop: &crate::domain::ShopId,
    slot: &str,
    ctx: minijinja::Value,
) -> Result<String, minijinja::Error> {
    let own = format!("{shop}/fragments/{slot}.html");
    match env.get_template(&own) {
        Ok(t) => t.render(ctx),
        Err(_) => render(env, &format!("fragments/{slot}.html"), ctx),
    }
}

pub fn render(
    env: &Environment<'static>,
    name: &str,
    ctx: minijinja::Value,
) -> Result<String, minijinja::Error> {
    env.get_template(name)?.render(ctx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_templates_escape_what_they_are_given() {
        let mut env = environment();
        env.add_template("t.html", "<p>{{ name }}</p>").unwrap();
        let out = render(
            &env,
            "t.html",
            minijinja::context! { name => "<script>alert(1)</script>" },
        )
        .unwrap();
        assert_eq!(out, "<p>&lt;script&gt;alert(1)&lt;&#x2f;script&gt;</p>");
    }

    #[test]
    fn admin_filters_format_money_times_and_ratios() {
        let mut env = environment();
        env.add_template(
            "f.html",
            "{{ 1250000 | rp }} {{ t | localtime(25200) }} {{ 1.73449 | dec(2) }} {{ 0.1234 | percent }} {{ -0.05 | signed_percent }}",
        )
        .unwrap();
        let out = render(
            &env,
            "f.html",
            minijinja::context! { t => "2026-10-31T18:00:00Z" },
        )
        .unwrap();
        assert_eq!(out, "Rp1.250.000 2026-11-01 01:00 1.73 12.3% -5.0%");
    }

    #[test]
    fn a_misspelt_variable_is_an_error_not_an_empty_string() {
        let mut env = environment();
        env.add_template("t.html", "{{ nmae }}").unwrap();
        assert!(render(&env, "t.html", minijinja::context! { name => "x" }).is_err());
    }
}

#[cfg(test)]
mod fragment_tests {
    use super::*;

    #[test]
    fn similar_and_upsell_render_the_shared_list() {
        let env = environment();
        let ctx = minijinja::context! { slot => "upsell", title => "Naik kelas", items => vec![minijinja::context! {
        id => "A", name => "N", price_text => "Rp1", discounted_text => minijinja::Value::from(()), discount_pct => minijinja::Value::from(()),
        image => minijinja::Value::from(()), link => "/x", reason => "r" }] };
        let out = render(&env, "fragments/upsell.html", ctx).unwrap();
        assert!(
            out.contains("data-laris-item=\"A\"") && out.contains("laris-upsell"),
            "{out}"
        );
    }
}
