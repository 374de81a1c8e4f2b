//! The CSV that `laris rules` writes, straight from the mined rules and itemsets into one
//! buffer: no row structs, no owned label copies, numbers formatted with `ryu` and `itoa`.
//! The bytes are exactly what `csv::Writer` with `f64::to_string` wrote before (labels
//! sorted and joined with `|`, numbers in Rust's shortest `Display` form); a label that the
//! CSV would have to quote sends the whole file through `csv::Writer` instead.

use std::io::{self, Write};

use crate::recommend::fpgrowth::{Item, Itemset, Rule};

/// Whether `csv::Writer` (quote style "necessary") would quote a field made of these labels
/// joined with `|`: one holding a comma, a quote or a line break.
fn needs_quoting(label: &str) -> bool {
    label.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r'))
}

/// Appends `x` as `f64`'s `Display` writes it: the shortest digits that read back as `x`,
/// never an exponent. `ryu` finds the same shortest digits; its own form differs only in a
/// trailing `.0` (dropped here), in exponents for very large or small values, and in the
/// last digit of some values above 1e8 (both left to `Display`).
pub(super) fn push_f64(buf: &mut Vec<u8>, x: f64) {
    // Below 1e7 (and not below 1e-5, where ryu writes exponents) the two agree on every
    // value (tests check millions); above, where 16 or 17 digits include the integer part,
    // they may pick different last digits that both read back as `x`: `Display` writes those.
    if x == 0.0 || (1e-5..1e7).contains(&x.abs()) {
        let mut r = ryu::Buffer::new();
        let s = r.format_finite(x).as_bytes();
        if !s.contains(&b'e') {
            buf.extend_from_slice(s.strip_suffix(b".0").unwrap_or(s));
            return;
        }
    }
    // Writing into a Vec cannot fail.
    let _ = write!(buf, "{x}");
}

fn push_u(buf: &mut Vec<u8>, x: impl itoa::Integer) {
    buf.extend_from_slice(itoa::Buffer::new().format(x).as_bytes());
}

/// Each label's place among the labels sorted (labels are distinct, so no two share one):
/// sorting an itemset's items by it sorts them by label without comparing strings per row.
fn label_ranks(labels: &[String]) -> Vec<u32> {
    let mut by_label: Vec<u32> = (0..labels.len() as u32).collect();
    by_label.sort_unstable_by(|&a, &b| labels[a as usize].cmp(&labels[b as usize]));
    let mut ranks = vec![0; labels.len()];
    for (rank, &item) in by_label.iter().enumerate() {
        ranks[item as usize] = rank as u32;
    }
    ranks
}

/// The labels of `items`, sorted, joined with `|`. `ranks` is [`label_ranks`] of `labels`;
/// `order` is scratch space.
fn push_labels(buf: &mut Vec<u8>, items: &[Item], labels: &[String], ranks: &[u32], order: &mut Vec<u32>) {
    order.clear();
    order.extend_from_slice(items);
    order.sort_unstable_by_key(|&i| ranks[i as usize]);
    for (k, &i) in order.iter().enumerate() {
        if k > 0 {
            buf.push(b'|');
        }
        buf.extend_from_slice(labels[i as usize].as_bytes());
    }
}

/// Flushes `buf` to `out` once it holds this much.
const CHUNK: usize = 1 << 16;

fn flush_if_full(buf: &mut Vec<u8>, out: &mut dyn Write) -> io::Result<()> {
    if buf.len() >= CHUNK {
        out.write_all(buf)?;
        buf.clear();
    }
    Ok(())
}

/// Rules as CSV: `lhs,rhs,count,support,confidence,lift`.
pub(super) fn write_rules(rules: &[Rule], labels: &[String], out: &mut dyn Write) -> anyhow::Result<()> {
    if labels.iter().any(|l| needs_quoting(l)) {
        return write_rules_quoted(rules, labels, out);
    }
    let mut buf = Vec::with_capacity(CHUNK + 4096);
    buf.extend_from_slice(b"lhs,rhs,count,support,confidence,lift\n");
    let ranks = label_ranks(labels);
    let mut order = Vec::new();
    for r in rules {
        push_labels(&mut buf, &r.antecedent, labels, &ranks, &mut order);
        buf.push(b',');
        buf.extend_from_slice(labels[r.consequent as usize].as_bytes());
        buf.push(b',');
        push_u(&mut buf, r.count);
        for x in [r.support, r.confidence, r.lift] {
            buf.push(b',');
            push_f64(&mut buf, x);
        }
        buf.push(b'\n');
        flush_if_full(&mut buf, out)?;
    }
    out.write_all(&buf)?;
    out.flush()?;
    Ok(())
}

/// Itemsets as CSV: `itemset,size,count,support`.
pub(super) fn write_itemsets(sets: &[Itemset], labels: &[String], out: &mut dyn Write) -> anyhow::Result<()> {
    if labels.iter().any(|l| needs_quoting(l)) {
        return write_itemsets_quoted(sets, labels, out);
    }
    let mut buf = Vec::with_capacity(CHUNK + 4096);
    buf.extend_from_slice(b"itemset,size,count,support\n");
    let ranks = label_ranks(labels);
    let mut order = Vec::new();
    for s in sets {
        push_labels(&mut buf, &s.items, labels, &ranks, &mut order);
        buf.push(b',');
        push_u(&mut buf, s.items.len());
        buf.push(b',');
        push_u(&mut buf, s.count);
        buf.push(b',');
        push_f64(&mut buf, s.support);
        buf.push(b'\n');
        flush_if_full(&mut buf, out)?;
    }
    out.write_all(&buf)?;
    out.flush()?;
    Ok(())
}

/// Sorted labels joined with `|`, owned: for the quoting path.
fn joined(items: &[Item], labels: &[String], ranks: &[u32]) -> String {
    let mut buf = Vec::new();
    push_labels(&mut buf, items, labels, ranks, &mut Vec::new());
    String::from_utf8(buf).expect("labels are strings")
}

fn write_rules_quoted(rules: &[Rule], labels: &[String], out: &mut dyn Write) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(["lhs", "rhs", "count", "support", "confidence", "lift"])?;
    let ranks = label_ranks(labels);
    for r in rules {
        w.write_record([
            joined(&r.antecedent, labels, &ranks),
            labels[r.consequent as usize].clone(),
            r.count.to_string(),
            r.support.to_string(),
            r.confidence.to_string(),
            r.lift.to_string(),
        ])?;
    }
    w.flush()?;
    Ok(())
}

fn write_itemsets_quoted(sets: &[Itemset], labels: &[String], out: &mut dyn Write) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(["itemset", "size", "count", "support"])?;
    let ranks = label_ranks(labels);
    for s in sets {
        w.write_record([
            joined(&s.items, labels, &ranks),
            s.items.len().to_string(),
            s.count.to_string(),
            s.support.to_string(),
        ])?;
    }
    w.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn shown(x: f64) -> String {
        let mut buf = Vec::new();
        push_f64(&mut buf, x);
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn floats_are_written_exactly_as_display_writes_them() {
        let special = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.1,
            1.0 / 3.0,
            2.0 / 3.0,
            1e-7,
            1.5e-5,
            1e15,
            1e16,
            1e17,
            1.2345e21,
            f64::MIN_POSITIVE,
            f64::MAX,
            f64::EPSILON,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            10.0 / 9835.0,
            9835.0 / 10.0,
        ];
        for x in special {
            assert_eq!(shown(x), x.to_string(), "{x:?}");
        }
        let mut rng = ChaCha8Rng::seed_from_u64(13);
        for _ in 0..1_000_000 {
            // Ratios of counts, as supports, confidences and lifts are, and any value from
            // 1e-8 to 1e17.
            let (a, b) = (rng.gen_range(1..100_000u32), rng.gen_range(1..100_000u32));
            let ratio = f64::from(a) / f64::from(b);
            assert_eq!(shown(ratio), ratio.to_string(), "{a}/{b}");
            let x = rng.gen::<f64>() * 10f64.powi(rng.gen_range(-8..17));
            assert_eq!(shown(x), x.to_string(), "{:x}", x.to_bits());
            let bits = f64::from_bits(rng.gen());
            assert_eq!(shown(bits), bits.to_string(), "{:x}", bits.to_bits());
        }
    }

    fn rule(antecedent: Vec<Item>, consequent: Item, count: u32) -> Rule {
        Rule {
            antecedent,
            consequent,
            count,
            support: f64::from(count) / 7.0,
            confidence: 0.5,
            lift: 1.0,
            coverage: 0.25,
        }
    }

    /// What `laris rules` wrote before this module: `csv::Writer` over owned rows.
    fn through_csv_writer(rules: &[Rule], labels: &[String]) -> String {
        let mut out = Vec::new();
        write_rules_quoted(rules, labels, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn the_fast_path_writes_the_same_bytes_as_csv_writer() {
        let labels: Vec<String> = ["whole milk", "rolls/buns", "cream cheese ", "Äpfel"]
            .map(String::from)
            .to_vec();
        let rules = vec![
            rule(vec![2, 0], 1, 3),
            rule(vec![3], 0, 7),
            rule(vec![1, 2, 3], 0, 1),
        ];
        let mut out = Vec::new();
        write_rules(&rules, &labels, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text, through_csv_writer(&rules, &labels));
        assert!(text.contains("cream cheese |whole milk,rolls/buns,3,"), "{text}");

        let sets = vec![Itemset {
            items: vec![0, 3],
            count: 2,
            support: 2.0 / 7.0,
        }];
        let mut fast = Vec::new();
        write_itemsets(&sets, &labels, &mut fast).unwrap();
        let mut slow = Vec::new();
        write_itemsets_quoted(&sets, &labels, &mut slow).unwrap();
        assert_eq!(fast, slow);
    }

    #[test]
    fn labels_that_need_quotes_are_quoted() {
        let labels: Vec<String> = ["say \"hi\"", "plain", "two\rlines"].map(String::from).to_vec();
        let rules = vec![rule(vec![0], 1, 2), rule(vec![2], 1, 2)];
        let mut out = Vec::new();
        write_rules(&rules, &labels, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text, through_csv_writer(&rules, &labels));
        assert!(text.contains("\"say \"\"hi\"\"\",plain,2,"), "{text}");
    }
}
