//! The foundation of the `tiktok_shop` source (docs/tiktok-shop.md): the TikTok Shop Open
//! Platform's endpoints (API version 202309), the request signature ([`sign`]) and the
//! signed query and search bodies a product or order walk sends. Parsing the answers lives
//! in `crate::feeds::tiktok_shop`; a sync run of the source in [`run`].

pub mod run;
pub mod sign;
pub mod vault;

use std::fmt;

/// Host of the shop APIs (products, orders).
pub const API_BASE: &str = "https://open-api.tiktokglobalshop.com";
/// Host of the token endpoints.
pub const AUTH_BASE: &str = "https://auth.tiktok-shops.com";
/// The API version in every path below.
pub const API_VERSION: &str = "202309";
/// `POST`, query `page_size`, `page_token`; body [`product_search_body`].
pub const PRODUCT_SEARCH_PATH: &str = "/product/202309/products/search";
/// `POST`, query `page_size`, `page_token`, `sort_field`, `sort_order`; body [`order_search_body`].
pub const ORDER_SEARCH_PATH: &str = "/order/202309/orders/search";
/// `GET` on [`AUTH_BASE`] with [`refresh_query`]; not signed.
pub const TOKEN_REFRESH_PATH: &str = "/api/v2/token/refresh";
/// The header that carries the shop's access token on every API call.
pub const ACCESS_TOKEN_HEADER: &str = "x-tts-access-token";
/// The largest `page_size` both searches accept.
pub const MAX_PAGE_SIZE: u32 = 100;

/// An app's key and secret from the TikTok Shop Partner Center.
#[derive(Clone, PartialEq, Eq)]
pub struct App {
    pub key: String,
    pub secret: String,
}

impl fmt::Debug for App {
    /// Never prints the secret.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("App")
            .field("key", &self.key)
            .field("secret", &"…")
            .finish()
    }
}

/// A request that cannot be built; the text names the value and the fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RequestError(String);

/// The query of one signed API call: `params` (page size, page token, sort) plus `app_key`,
/// `timestamp` (Unix seconds), `shop_cipher` when the call is about a shop, and `sign` over
/// all of them and `body` (the exact JSON text to be sent, `None` for a GET).
pub fn signed_query(
    app: &App,
    shop_cipher: Option<&str>,
    path: &str,
    params: &[(String, String)],
    body: Option<&str>,
    timestamp: i64,
) -> Vec<(String, String)> {
    let mut query: Vec<(String, String)> = params
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "app_key" | "timestamp" | "shop_cipher" | "sign"))
        .cloned()
        .collect();
    query.push(("app_key".into(), app.key.clone()));
    query.push(("timestamp".into(), timestamp.to_string()));
    if let Some(cipher) = shop_cipher {
        query.push(("shop_cipher".into(), cipher.to_string()));
    }
    let signature = sign::sign(&app.secret, path, &query, body);
    query.push(("sign".into(), signature));
    query
}

/// The paging parameters of a search: `page_size` (1 to [`MAX_PAGE_SIZE`]) and the
/// `next_page_token` of the previous page, none for the first.
pub fn page_params(page_size: u32, page_token: Option<&str>) -> Result<Vec<(String, String)>, RequestError> {
    if !(1..=MAX_PAGE_SIZE).contains(&page_size) {
        return Err(RequestError(format!(
            "page_size {page_size} is out of range: TikTok Shop accepts 1 to {MAX_PAGE_SIZE} records a page"
        )));
    }
    let mut params = vec![("page_size".to_string(), page_size.to_string())];
    if let Some(token) = page_token.filter(|t| !t.is_empty()) {
        params.push(("page_token".to_string(), token.to_string()));
    }
    Ok(params)
}

fn check_window(from: i64, to: i64, upper: &str) -> Result<(), RequestError> {
    if from < 0 || to <= from {
        return Err(RequestError(format!(
            "update_time_ge {from} must be a Unix time in seconds before {upper} {to}: pass the window's start, then its end"
        )));
    }
    Ok(())
}

/// The body of a product search for products updated in `[from, to]` (the product search
/// takes an inclusive upper bound, `update_time_le`), in every status, so that deactivated
/// and deleted products reach the store as inactive.
pub fn product_search_body(from: i64, to: i64) -> Result<String, RequestError> {
    check_window(from, to, "update_time_le")?;
    Ok(serde_json::json!({"status": "ALL", "update_time_ge": from, "update_time_le": to}).to_string())
}

/// The body of an order search for orders updated in `[from, to)` (the order search takes
/// an exclusive upper bound, `update_time_lt`), in every status.
pub fn order_search_body(from: i64, to: i64) -> Result<String, RequestError> {
    check_window(from, to, "update_time_lt")?;
    Ok(serde_json::json!({"update_time_ge": from, "update_time_lt": to}).to_string())
}

/// The query of a token refresh (`GET` [`AUTH_BASE`]`/api/v2/token/refresh`). It carries
/// the app secret, so the URL must not be logged or recorded as is.
pub fn refresh_query(app: &App, refresh_token: &str) -> Result<Vec<(String, String)>, RequestError> {
    if refresh_token.trim().is_empty() {
        return Err(RequestError(
            "the refresh token is empty: authorise the shop again in TikTok Shop Seller Center to get a new one".into(),
        ));
    }
    Ok(vec![
        ("app_key".into(), app.key.clone()),
        ("app_secret".into(), app.secret.clone()),
        ("refresh_token".into(), refresh_token.to_string()),
        ("grant_type".into(), "refresh_token".into()),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app() -> App {
        App {
            key: "6d1g0h1ksv8ar".into(),
            secret: "e59af819cc".into(),
        }
    }

    fn get<'a>(q: &'a [(String, String)], key: &str) -> Option<&'a str> {
        q.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    #[test]
    fn a_signed_order_search_matches_the_sdks_signature() {
        // The same request as sign.rs's `an_order_search_for_a_second_page`, built here.
        let mut params = page_params(100, Some("aDU2dHZnQ2pZ")).unwrap();
        params.push(("sort_field".into(), "update_time".into()));
        params.push(("sort_order".into(), "ASC".into()));
        let body = order_search_body(1733356800, 1733443200).unwrap();
        assert_eq!(
            body,
            r#"{"update_time_ge":1733356800,"update_time_lt":1733443200}"#
        );
        let q = signed_query(
            &app(),
            Some("ROW_fUhjRwAAAAA"),
            ORDER_SEARCH_PATH,
            &params,
            Some(&body),
            1733450060,
        );
        assert_eq!(get(&q, "app_key"), Some("6d1g0h1ksv8ar"));
        assert_eq!(get(&q, "timestamp"), Some("1733450060"));
        assert_eq!(get(&q, "shop_cipher"), Some("ROW_fUhjRwAAAAA"));
        assert_eq!(
            get(&q, "sign"),
            Some("1a1573cb67977caece9b99929164a7092c430645d0f8e3580b28d012945129a7")
        );
        assert_eq!(q.iter().filter(|(k, _)| k == "sign").count(), 1);
        assert!(
            q.iter().all(|(_, v)| v != "e59af819cc"),
            "the secret never travels in the query"
        );
    }

    #[test]
    fn a_stale_signature_or_timestamp_in_the_params_is_replaced() {
        let params = vec![
            ("page_size".to_string(), "50".to_string()),
            ("sign".to_string(), "stale".to_string()),
            ("timestamp".to_string(), "1".to_string()),
        ];
        let body = r#"{"status":"ACTIVATE"}"#;
        let q = signed_query(
            &app(),
            Some("ROW_fUhjRwAAAAA"),
            PRODUCT_SEARCH_PATH,
            &params,
            Some(body),
            1733450000,
        );
        assert_eq!(q.iter().filter(|(k, _)| k == "timestamp").count(), 1);
        assert_eq!(
            get(&q, "sign"),
            Some("1c195c38e4c5a4c764945989baf7f2a46eb29e034546276d189920c049f89fa3")
        );
    }

    #[test]
    fn bad_page_sizes_windows_and_tokens_are_refused_naming_the_value() {
        assert!(page_params(0, None)
            .unwrap_err()
            .to_string()
            .contains("page_size 0"));
        assert!(page_params(101, None)
            .unwrap_err()
            .to_string()
            .contains("1 to 100"));
        assert_eq!(
            page_params(20, Some("")).unwrap().len(),
            1,
            "an empty token is the first page"
        );
        let e = order_search_body(1733443200, 1733356800).unwrap_err().to_string();
        assert!(e.contains("1733443200") && e.contains("update_time_lt"), "{e}");
        assert!(product_search_body(5, 5)
            .unwrap_err()
            .to_string()
            .contains("update_time_le 5"));
        assert_eq!(
            product_search_body(1733356800, 1733443200).unwrap(),
            r#"{"status":"ALL","update_time_ge":1733356800,"update_time_le":1733443200}"#
        );
        assert!(refresh_query(&app(), " ")
            .unwrap_err()
            .to_string()
            .contains("authorise the shop again"));
        let r = refresh_query(&app(), "RT_1").unwrap();
        assert_eq!(get(&r, "grant_type"), Some("refresh_token"));
        assert_eq!(get(&r, "refresh_token"), Some("RT_1"));
    }

    #[test]
    fn the_app_secret_is_not_printed() {
        assert!(!format!("{:?}", app()).contains("e59af819cc"));
    }
}
