//! Opening the store from the command line: the commands that bring data in may create it,
//! the ones that only read it may not. Both go through [`crate::app::open_store`], which
//! picks the backend.

use std::path::Path;

use crate::app::{open_store_blocking, Opening};
use crate::config::Settings;
use crate::store::SharedStore;

/// Opens the store in `data_dir`, creating it when there is none: for the commands that
/// bring data in (`serve`, `import`, `sync`, `replay`).
pub(super) fn open_store(settings: &Settings, data_dir: &Path) -> anyhow::Result<SharedStore> {
    open_store_blocking(settings, data_dir, Opening::CreateIfMissing)
}

/// Opens the store in `data_dir` for a command that only reads it; a mistyped `--data-dir`
/// is an error naming the directory, never a new empty store.
pub(super) fn open_existing_store(settings: &Settings, data_dir: &Path) -> anyhow::Result<SharedStore> {
    open_store_blocking(settings, data_dir, Opening::Existing)
}
