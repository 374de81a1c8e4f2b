//! The minijinja environment: templates compiled into the binary, autoescape by file
//! extension (`.html` escapes), strict undefined so that a typo in a template is an error
//! rather than an empty string on a shop's page.

use minijinja::{Environment, UndefinedBehavior};

/// Built-in templates: (name, source).
const BUILTIN: &[(&str, &str)] = &[("demo.html", include_str!("../../templates/demo.html"))];

pub fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    for (name, source) in BUILTIN {
        env.add_template(name, source)
            .unwrap_or_else(|e| panic!("built-in template {name} does not compile: {e}"));
    }
    env
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
    fn a_misspelt_variable_is_an_error_not_an_empty_string() {
        let mut env = environment();
        env.add_template("t.html", "{{ nmae }}").unwrap();
        assert!(render(&env, "t.html", minijinja::context! { name => "x" }).is_err());
    }
}
