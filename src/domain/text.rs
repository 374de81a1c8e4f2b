//! Sentences with `{name}` places, filled in one pass.

/// `text` with each `{name}` place replaced by `value(name)`. A place `value` does not know,
/// and any other brace, stays as written; a `{…}` inside a value (a product's name) is not
/// a place.
pub fn fill_places<'v>(text: &str, value: impl Fn(&str) -> Option<&'v str>) -> String {
    let mut out = String::with_capacity(text.len() + 32);
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let place = after.find('}').map(|close| &after[..close]);
        match place.and_then(|name| Some((name, value(name)?))) {
            Some((name, v)) => {
                out.push_str(v);
                rest = &after[name.len() + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_filled_once_and_other_braces_stay() {
        let value = |name: &str| match name {
            "product" => Some("Kopi {date}"),
            "date" => Some("2026-11-20"),
            _ => None,
        };
        assert_eq!(
            fill_places("{product} on {date}, {unknown} {", value),
            "Kopi {date} on 2026-11-20, {unknown} {"
        );
    }
}
