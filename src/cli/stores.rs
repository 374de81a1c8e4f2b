//! Opening the store from the command line: the commands that bring data in may create it,
//! the ones that only read it may not.

use std::path::Path;

use anyhow::bail;

use crate::store::Store;

/// Opens the store in `data_dir`, creating it when there is none: for the commands that
/// bring data in (`serve`, `import`, `sync`, `replay`).
pub(super) fn open_store(data_dir: &Path) -> anyhow::Result<Store> {
    Ok(Store::open(data_dir)?)
}

/// Opens the store in `data_dir` for a command that only reads it; a mistyped `--data-dir`
/// is an error naming the directory, never a new empty store.
pub(super) fn open_existing_store(data_dir: &Path) -> anyhow::Result<Store> {
    if !Store::exists(data_dir) {
        bail!(
            "no store at {}: pass --data-dir (or LARIS_DATA_DIR) naming the directory `laris serve` uses, or bring data in first with `laris serve`, `laris import`, `laris sync` or `laris replay`",
            data_dir.display()
        );
    }
    open_store(data_dir)
}
