//! `laris rules` on the Groceries benchmark gives exactly R arules' itemsets and rules
//! (reference output copied into tests/fixtures/groceries from ../shared/data/benchmarks).

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;

fn fixture(name: &str) -> PathBuf {
    crate::helpers::repo().join("tests/fixtures/groceries").join(name)
}

/// Runs `laris rules` and reads its CSV into (key → numbers).
fn run_rules(extra: &[&str]) -> Vec<csv::StringRecord> {
    let out = Command::new(env!("CARGO_BIN_EXE_laris"))
        .arg("--config")
        .arg(crate::helpers::repo().join("config/laris.toml"))
        .args(["rules", "--baskets"])
        .arg(fixture("groceries_baskets.csv"))
        .args(["--min-support", "0.005", "--min-confidence", "0.1"])
        .args(extra)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut r = csv::Reader::from_reader(out.stdout.as_slice());
    r.records().map(|x| x.unwrap()).collect()
}

fn reference(name: &str) -> Vec<csv::StringRecord> {
    let mut r = csv::Reader::from_path(fixture(name)).unwrap();
    r.records().map(|x| x.unwrap()).collect()
}

/// arules writes `{a,b}`-free plain labels joined by `|` in our fixture; sort the parts.
fn sorted_set(s: &str) -> String {
    let mut parts: Vec<&str> = s.split('|').collect();
    parts.sort();
    parts.join("|")
}

#[test]
fn rules_on_groceries_equal_arules_at_support_0_005() {
    let ours = run_rules(&[]);
    let theirs = reference("groceries_rules_supp0.005_conf0.1.csv");
    assert_eq!(ours.len(), 1574);
    assert_eq!(theirs.len(), 1574);
    let index: HashMap<(String, String), &csv::StringRecord> = ours
        .iter()
        .map(|r| ((r[0].to_string(), r[1].to_string()), r))
        .collect();
    for t in &theirs {
        // reference columns: lhs, rhs, count, support, confidence, lift, coverage
        let key = (sorted_set(&t[0]), t[1].to_string());
        let o = index.get(&key).unwrap_or_else(|| panic!("rule {key:?} missing"));
        assert_eq!(&o[2], &t[2], "count of {key:?}");
        for (col, name) in [(3, "support"), (4, "confidence"), (5, "lift")] {
            let (a, b): (f64, f64) = (o[col].parse().unwrap(), t[col].parse().unwrap());
            assert!((a - b).abs() < 1e-9, "{name} of {key:?}: {a} vs {b}");
        }
    }
}

#[test]
fn itemsets_on_groceries_equal_arules_at_support_0_005() {
    let ours = run_rules(&["--itemsets"]);
    let theirs = reference("groceries_itemsets_supp0.005.csv");
    assert_eq!(ours.len(), 1001);
    let index: HashMap<String, &csv::StringRecord> = ours.iter().map(|r| (r[0].to_string(), r)).collect();
    for t in &theirs {
        let key = sorted_set(&t[0]);
        let o = index
            .get(&key)
            .unwrap_or_else(|| panic!("itemset {key:?} missing"));
        assert_eq!(&o[1], &t[1]);
        assert_eq!(&o[2], &t[2]);
    }
}
