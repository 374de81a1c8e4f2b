//! `laris replay`: a recording fed through the very same pipeline as a live sync, with no
//! network, deterministically (same recording, same store contents).

use std::path::Path;

use crate::domain::ShopId;
use crate::records::SyncReport;
use crate::store::Store;
use crate::sync::pipeline::{ImportError, Importer};
use crate::sync::recording::{Recording, RecordingError};

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error(transparent)]
    Recording(#[from] RecordingError),
    #[error(transparent)]
    Import(#[from] ImportError),
}

/// What a recorded request fetched, judged by its URL path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Products,
    Orders,
    /// Token exchanges and anything else: nothing to import.
    Other,
}

pub fn endpoint_of(url: &str) -> Endpoint {
    let path = url.split('?').next().unwrap_or(url);
    if path.ends_with("/product/info") {
        Endpoint::Products
    } else if path.ends_with("/order/list") {
        Endpoint::Orders
    } else {
        Endpoint::Other
    }
}

/// Replays the recording in `dir` into `shop`'s data.
pub fn replay(store: &Store, shop: &ShopId, dir: &Path) -> Result<SyncReport, ReplayError> {
    let recording = Recording::open(dir)?;
    let mut importer = Importer::new(store, shop.clone());
    for ex in &recording.exchanges {
        let endpoint = endpoint_of(&ex.url);
        if endpoint == Endpoint::Other || ex.status != 200 {
            // Answers that were retried (429, 5xx) are part of the recording's story, not data.
            continue;
        }
        let Some(body) = recording.body(ex)? else { continue };
        let origin = format!("{} seq {}", dir.display(), ex.seq);
        let result = match endpoint {
            Endpoint::Products => importer.import_products_page(&origin, &body),
            Endpoint::Orders => importer.import_orders_page(&origin, &body),
            Endpoint::Other => Ok(()),
        };
        match result {
            Ok(()) => {}
            Err(ImportError::Feed(e)) => importer.record_error(format!("{origin}: {e}")),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(importer
        .finish("replay", &dir.display().to_string())
        .map_err(ImportError::from)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_told_apart_by_path() {
        assert_eq!(
            endpoint_of("https://fs.tokopedia.net/inventory/v1/fs/15001/product/info?shop_id=1&page=1"),
            Endpoint::Products
        );
        assert_eq!(
            endpoint_of("https://fs.tokopedia.net/v2/order/list?fs_id=1"),
            Endpoint::Orders
        );
        assert_eq!(
            endpoint_of("https://accounts.tokopedia.com/token?grant_type=client_credentials"),
            Endpoint::Other
        );
    }
}
