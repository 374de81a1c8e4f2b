//! Plain basket files (`laris rules --baskets`, `laris eval --baskets`): one transaction per
//! line, items separated by commas.

use rustc_hash::FxHashMap;

/// Reads a basket file: one transaction per line, items separated by commas and kept
/// exactly as written (spaces included). Blank lines are skipped.
pub fn read_baskets(text: &str) -> (Vec<String>, Vec<Vec<u32>>) {
    let mut labels: Vec<String> = Vec::new();
    // Keyed by the file's own text: a label is copied once, when first seen. FxHash: the
    // file is the caller's own, not input an attacker chooses to collide.
    let mut ids: FxHashMap<&str, u32> = FxHashMap::default();
    let mut baskets = Vec::new();
    for line in text.lines() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        let basket = line
            .split(',')
            .filter(|item| !item.is_empty())
            .map(|item| {
                *ids.entry(item).or_insert_with(|| {
                    labels.push(item.to_string());
                    (labels.len() - 1) as u32
                })
            })
            .collect();
        baskets.push(basket);
    }
    (labels, baskets)
}
