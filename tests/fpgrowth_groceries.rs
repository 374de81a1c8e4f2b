//! Cross-checks `recommend::fpgrowth` against R arules' apriori on the Groceries benchmark
//! (9,835 baskets, 169 items): at min support 0.005 and min confidence 0.1, arules finds
//! 1,001 frequent itemsets and 1,574 rules, and every count and measure must match ours.
//! The reference files are copies in `tests/fixtures/groceries/` (see /work/shared/data).

use std::collections::HashMap;
use std::path::PathBuf;

use laris::recommend::fpgrowth::{mine_rules, Item, Itemset, MiningThresholds, Rule};

fn fixture(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/groceries")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read fixture {}: {e}", path.display()))
}

/// The baskets as item indices, and the label of each index (in order of first appearance).
/// One basket per line, labels split on a plain ',' and kept exactly, trailing spaces
/// included (`cream cheese `, `roll products `): the file has no quoting.
fn load_baskets() -> (Vec<Vec<Item>>, Vec<String>) {
    let mut labels: Vec<String> = Vec::new();
    let mut index: HashMap<String, Item> = HashMap::new();
    let baskets = fixture("groceries_baskets.csv")
        .lines()
        .map(|line| {
            if line.is_empty() {
                return Vec::new();
            }
            line.split(',')
                .map(|label| {
                    *index.entry(label.to_string()).or_insert_with(|| {
                        labels.push(label.to_string());
                        labels.len() as Item - 1
                    })
                })
                .collect()
        })
        .collect();
    (baskets, labels)
}

/// A minimal RFC 4180 reader for arules' `write.csv` output: fields may be quoted, a quoted
/// field may hold commas, line breaks and doubled quotes (`""`). Returns the rows after the
/// header, checking the header first.
fn parse_csv(text: &str, header: &[&str]) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    assert!(!quoted, "unterminated quoted field at the end of the file");
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    assert_eq!(
        rows.first()
            .map(|h| h.iter().map(String::as_str).collect::<Vec<_>>()),
        Some(header.to_vec())
    );
    let rows = rows.split_off(1);
    assert!(
        rows.iter().all(|r| r.len() == header.len()),
        "a row without {} fields",
        header.len()
    );
    rows
}

/// `a|b|c` (arules' itemset labels) as sorted item indices.
fn items_of(joined: &str, index: &HashMap<&str, Item>) -> Vec<Item> {
    let mut items: Vec<Item> = joined
        .split('|')
        .map(|label| {
            *index
                .get(label)
                .unwrap_or_else(|| panic!("reference label {label:?} is not in the baskets"))
        })
        .collect();
    items.sort_unstable();
    items
}

fn number(field: &str) -> f64 {
    field
        .parse()
        .unwrap_or_else(|e| panic!("not a number: {field:?} ({e})"))
}

fn assert_close(ours: f64, reference: f64, what: &str) {
    assert!(
        (ours - reference).abs() <= 1e-9,
        "{what}: ours {ours}, arules {reference}"
    );
}

/// Mines the fixture baskets at `min_support` / confidence 0.1 (arules' maxlen 10, no lift
/// filter) and checks every reference itemset and rule in the two files.
fn cross_check(min_support: f64, itemsets_file: &str, rules_file: &str, n_itemsets: usize, n_rules: usize) {
    let (baskets, labels) = load_baskets();
    assert_eq!(baskets.len(), 9835);
    assert_eq!(labels.len(), 169);
    let index: HashMap<&str, Item> = labels
        .iter()
        .enumerate()
        .map(|(i, l)| (l.as_str(), i as Item))
        .collect();

    let t = MiningThresholds {
        min_support,
        min_confidence: 0.1,
        min_lift: 0.0,
        max_len: 10,
    };
    let (itemsets, rules) = mine_rules(&baskets, &t);

    let ours: HashMap<&[Item], &Itemset> = itemsets.iter().map(|s| (s.items.as_slice(), s)).collect();
    assert_eq!(ours.len(), itemsets.len(), "an itemset was reported twice");
    let reference = parse_csv(&fixture(itemsets_file), &["itemset", "size", "count", "support"]);
    assert_eq!(reference.len(), n_itemsets, "the reference file changed");
    for row in &reference {
        let items = items_of(&row[0], &index);
        assert_eq!(items.len().to_string(), row[1], "size of {}", row[0]);
        let found = ours
            .get(items.as_slice())
            .unwrap_or_else(|| panic!("arules' itemset {} is missing", row[0]));
        assert_eq!(found.count.to_string(), row[2], "count of {}", row[0]);
        assert_close(found.support, number(&row[3]), &format!("support of {}", row[0]));
    }
    // Every reference itemset is ours, with no duplicates: equal counts mean equal sets.
    assert_eq!(itemsets.len(), n_itemsets);

    let ours: HashMap<(&[Item], Item), &Rule> = rules
        .iter()
        .map(|r| ((r.antecedent.as_slice(), r.consequent), r))
        .collect();
    assert_eq!(ours.len(), rules.len(), "a rule was reported twice");
    let reference = parse_csv(
        &fixture(rules_file),
        &["lhs", "rhs", "count", "support", "confidence", "lift", "coverage"],
    );
    assert_eq!(reference.len(), n_rules, "the reference file changed");
    for row in &reference {
        let antecedent = items_of(&row[0], &index);
        let consequent = index[row[1].as_str()];
        let name = format!("{{{}}} => {{{}}}", row[0], row[1]);
        let found = ours
            .get(&(antecedent.as_slice(), consequent))
            .unwrap_or_else(|| panic!("arules' rule {name} is missing"));
        assert_eq!(found.count.to_string(), row[2], "count of {name}");
        assert_close(found.support, number(&row[3]), &format!("support of {name}"));
        assert_close(
            found.confidence,
            number(&row[4]),
            &format!("confidence of {name}"),
        );
        assert_close(found.lift, number(&row[5]), &format!("lift of {name}"));
        assert_close(found.coverage, number(&row[6]), &format!("coverage of {name}"));
    }
    assert_eq!(rules.len(), n_rules);
}

#[test]
fn groceries_at_support_0_005_matches_arules_itemset_for_itemset_and_rule_for_rule() {
    cross_check(
        0.005,
        "groceries_itemsets_supp0.005.csv",
        "groceries_rules_supp0.005_conf0.1.csv",
        1001,
        1574,
    );
}

#[test]
fn the_two_labels_with_a_trailing_space_survive_loading() {
    let (_, labels) = load_baskets();
    assert!(labels.iter().any(|l| l == "cream cheese "));
    assert!(labels.iter().any(|l| l == "roll products "));
    assert!(!labels.iter().any(|l| l == "cream cheese" || l.is_empty()));
}

#[test]
fn the_csv_reader_handles_quoted_commas_quotes_and_line_breaks() {
    let text = "\"a\",\"b\"\r\n\"x, y\",1\n\"say \"\"hi\"\"\",\"two\nlines\"\nplain,\"\"";
    let rows = parse_csv(text, &["a", "b"]);
    assert_eq!(
        rows,
        vec![
            vec!["x, y".to_string(), "1".to_string()],
            vec!["say \"hi\"".to_string(), "two\nlines".to_string()],
            vec!["plain".to_string(), String::new()],
        ]
    );
}
