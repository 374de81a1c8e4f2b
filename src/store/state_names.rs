//! The names under which every backend keeps a shop's markers and cursors (sled in its
//! state keys, PostgreSQL in `shop_state`), so that both read what the other would write
//! and `store::copy` lists cursors the same way.

/// The import under way ([`crate::records::RunMarker`]); removed with its report.
pub const RUN: &str = "run";
/// How far first-start seeding got ([`crate::records::Seeding`]).
pub const SEEDING: &str = "seeding";

/// Where the name of a source's own credentials starts (`credentials:{name}`).
pub const CREDENTIALS_PREFIX: &str = "credentials:";

/// Where every cursor's name starts.
pub const CURSOR_PREFIX: &str = "source:";

/// A marketplace source's products cursor.
pub fn product_cursor(source: usize) -> String {
    format!("{CURSOR_PREFIX}{source}:products")
}

/// A marketplace source's orders cursor.
pub fn order_cursor(source: usize) -> String {
    format!("{CURSOR_PREFIX}{source}:orders")
}

/// The source number of a cursor's name, and whether it is a products cursor.
pub fn parse_cursor(name: &str) -> Option<(usize, bool)> {
    let (source, kind) = name.strip_prefix(CURSOR_PREFIX)?.split_once(':')?;
    let products = match kind {
        "products" => true,
        "orders" => false,
        _ => return None,
    };
    Some((source.parse().ok()?, products))
}

/// Cursors as [`crate::store::ShopStore::cursors`] lists them: products cursors by source
/// number, then orders cursors by source number.
pub fn in_order(
    mut products: Vec<(usize, crate::records::ProductCursor)>,
    mut orders: Vec<(usize, crate::records::OrderCursor)>,
) -> Vec<crate::records::SyncCursor> {
    use crate::records::SyncCursor;
    products.sort_by_key(|(source, _)| *source);
    orders.sort_by_key(|(source, _)| *source);
    products
        .into_iter()
        .map(|(source, cursor)| SyncCursor::Products { source, cursor })
        .chain(
            orders
                .into_iter()
                .map(|(source, cursor)| SyncCursor::Orders { source, cursor }),
        )
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_names_read_back_as_their_source_and_kind() {
        assert_eq!(parse_cursor(&product_cursor(3)), Some((3, true)));
        assert_eq!(parse_cursor(&order_cursor(12)), Some((12, false)));
        assert_eq!(parse_cursor("source:x:orders"), None);
        assert_eq!(parse_cursor(RUN), None);
    }
}
