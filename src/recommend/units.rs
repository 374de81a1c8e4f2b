//! Numbers with units in product names and attribute values ("RAM 16GB", "Layar 14in",
//! "2,4 GHz", "1,5 kg"), read as numeric attributes: pure text → [`Quantity`] parsing, no I/O.
//!
//! A [`Quantity`] has
//! - a [`Dimension`] (data size, frequency, length, mass, volume, power, charge, voltage) and a
//!   value in that dimension's base unit: bytes, Hz, mm, g, ml, W, mAh, V;
//! - a *key*, what the number measures: the word right before the number (`RAM 16GB` → `ram`,
//!   `HDD 452MB` → `hdd`, `Layar 14in` → `layar`, a `:` in between is allowed) when it is an
//!   alphabetic word of two letters or more that is neither a unit nor a descriptor such as
//!   `premium`, `super`, `isi` or `dengan` ([`NOT_KEYS`]); otherwise the dimension's name, in
//!   Indonesian like the shops: `kapasitas`, `frekuensi`, `ukuran`, `berat`, `volume`, `daya`,
//!   `baterai`, `tegangan` (`PC Rakitan Premium 50MHz` → `frekuensi`). Keys are lower-case.
//!   The rule is a heuristic: a label written after its number takes the next number's key
//!   (`512GB SSD 1,2 kg` reads a mass keyed `ssd`), and a product noun before a number is its
//!   key (`Timbangan 5 kg` → `timbangan`); keys only ever meet keys of the same dimension;
//! - a readable text for reasons: the number as the shop wrote it and the unit's usual symbol
//!   (`16 GB`, `2,4 GHz`, `14 in`).
//!
//! **What is a quantity.** A number, optionally one or more spaces, then a unit word
//! (`16GB`, `16 GB`, `14"`, `14 inch`, `100gr`, `5000mAh`; see [`unit`] for the list) that ends
//! the word. Not quantities:
//! - a number without a unit (`Produk 196`);
//! - a number glued to letters before it: model numbers (`RTX3060`, `i5-1135G7`) — the one
//!   exception is a multiplier, `2x100 ml` reads as 100 ml;
//! - a unit glued to more letters or digits after it (`1135G7`, `16GBps`);
//! - `in` followed by another number that is no quantity: `Kopi 3in1` and `Kopi 3 in 1` are
//!   not 3 inches (`Layar 14in 1,2 kg` is 14 inches);
//! - a bare `m`/`M` is not read as metres (`Baju Bayi 6M` means months; write `meter`);
//! - zero, and ambiguous numbers (next paragraph).
//!
//! **Decimal and thousands separators** (Indonesian writes `1.000` for a thousand and `1,5`
//! for one and a half; English specs write `2.4`):
//! - a single comma is a decimal comma: `1,5 kg` = 1.5 kg, `2,4 GHz` = 2.4 GHz;
//! - several dots with groups of exactly three digits are thousands: `1.000.000 mAh`; with a
//!   final comma, `1.000,5 g`, the comma is the decimal (and the other way round, `1,000.5`);
//! - a single dot followed by one, two or four or more digits, or after a leading `0`, is a
//!   decimal point: `2.4 GHz`, `0.5 L`, `1.25 kg`, `0.500 kg`;
//! - a single dot followed by exactly three digits (`1.000`, `2.500`) is a thousands dot with
//!   the small units that such numbers are written in (g, mg, ml, cc, mAh, W, V, mm, cm, Hz,
//!   kHz, MHz, KB, MB): `1.000 g` = 1000 g, `2.400 MHz`. With a large unit (kg, L, GB, GHz, in…)
//!   `1.500 kg` could be 1.5 kg or 1500 kg, and it is refused rather than guessed.
//!
//! Data sizes are decimal (1 GB = 10⁹ bytes, whatever the RAM maker means): similarity reads
//! them on a log scale, where the 2.4 % between 1000 and 1024 does not matter. Bits and bytes
//! are not told apart (`Gb` = `GB`).

use std::fmt;

use serde::{Deserialize, Serialize};

/// What a quantity measures, and the base unit its value is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    /// Bytes (decimal multiples).
    DataSize,
    /// Hertz.
    Frequency,
    /// Millimetres (screens and sizes in inches too).
    Length,
    /// Grams.
    Mass,
    /// Millilitres.
    Volume,
    /// Watts.
    Power,
    /// Milliampere-hours (batteries).
    Charge,
    /// Volts.
    Voltage,
}

impl Dimension {
    pub const ALL: [Dimension; 8] = [
        Dimension::DataSize,
        Dimension::Frequency,
        Dimension::Length,
        Dimension::Mass,
        Dimension::Volume,
        Dimension::Power,
        Dimension::Charge,
        Dimension::Voltage,
    ];

    /// The key of a quantity with no word of its own before it (Indonesian, lower-case).
    pub fn name(self) -> &'static str {
        match self {
            Dimension::DataSize => "kapasitas",
            Dimension::Frequency => "frekuensi",
            Dimension::Length => "ukuran",
            Dimension::Mass => "berat",
            Dimension::Volume => "volume",
            Dimension::Power => "daya",
            Dimension::Charge => "baterai",
            Dimension::Voltage => "tegangan",
        }
    }

    /// The base unit's symbol: `B`, `Hz`, `mm`, `g`, `ml`, `W`, `mAh`, `V`.
    pub fn base_unit(self) -> &'static str {
        match self {
            Dimension::DataSize => "B",
            Dimension::Frequency => "Hz",
            Dimension::Length => "mm",
            Dimension::Mass => "g",
            Dimension::Volume => "ml",
            Dimension::Power => "W",
            Dimension::Charge => "mAh",
            Dimension::Voltage => "V",
        }
    }
}

impl fmt::Display for Dimension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A number with a unit found in a text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quantity {
    /// What it measures: the word before the number or the dimension's name (module doc).
    pub key: String,
    pub dimension: Dimension,
    /// In the dimension's base unit; finite and > 0.
    pub value: f64,
    /// For reasons: the number as written and the unit's symbol, `16 GB`, `1,5 kg`.
    pub text: String,
}

/// A unit word: its dimension, the factor to the base unit, its symbol, and whether a single
/// dot followed by three digits is a thousands dot with it (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Unit {
    pub dimension: Dimension,
    pub factor: f64,
    pub symbol: &'static str,
    pub thousands_dot: bool,
}

/// The unit a lower-case word (or `"`, `″`, `”` for inches) stands for, if any.
pub fn unit(word: &str) -> Option<Unit> {
    use Dimension::*;
    let (dimension, factor, symbol, thousands_dot) = match word {
        "kb" => (DataSize, 1e3, "KB", true),
        "mb" => (DataSize, 1e6, "MB", true),
        "gb" => (DataSize, 1e9, "GB", false),
        "tb" => (DataSize, 1e12, "TB", false),
        "hz" => (Frequency, 1.0, "Hz", true),
        "khz" => (Frequency, 1e3, "kHz", true),
        "mhz" => (Frequency, 1e6, "MHz", true),
        "ghz" => (Frequency, 1e9, "GHz", false),
        "mm" => (Length, 1.0, "mm", true),
        "cm" => (Length, 10.0, "cm", true),
        "meter" | "mtr" => (Length, 1000.0, "m", false),
        "in" | "inch" | "inchi" | "inci" | "\"" | "″" | "”" => (Length, 25.4, "in", false),
        "mg" => (Mass, 1e-3, "mg", true),
        "g" | "gr" | "grm" | "gm" | "gram" | "grams" => (Mass, 1.0, "g", true),
        "ons" => (Mass, 100.0, "ons", false),
        "kg" | "kgs" | "kilo" | "kilogram" => (Mass, 1000.0, "kg", false),
        "ml" | "cc" => (Volume, 1.0, "ml", true),
        "l" | "lt" | "ltr" | "liter" | "litre" => (Volume, 1000.0, "L", false),
        "w" | "watt" => (Power, 1.0, "W", true),
        "kw" => (Power, 1000.0, "kW", false),
        "mah" => (Charge, 1.0, "mAh", true),
        "ah" => (Charge, 1000.0, "Ah", false),
        "v" | "volt" => (Voltage, 1.0, "V", true),
        _ => return None,
    };
    Some(Unit {
        dimension,
        factor,
        symbol,
        thousands_dot,
    })
}

/// Whether a lower-case word is a unit of this module (the name block drops such a word right
/// after a number, so that `16 GB` adds no word `gb`).
pub fn is_unit(word: &str) -> bool {
    unit(word).is_some()
}

/// Words right before a number that describe the product, not what the number measures:
/// never a key (`Premium 50MHz` → `frekuensi`, `isi 250ml` → `volume`).
pub const NOT_KEYS: &[&str] = &[
    "isi", "net", "netto", "nett", "bersih", "total", "dan", "and", "atau", "or", "dengan", "with", "untuk",
    "for", "per", "sd", "sampai", "hingga", "up", "to", "upto", "only", "hanya", "cuma", "min", "minimal",
    "maks", "max", "premium", "super", "pro", "plus", "ultra", "mini", "lite", "baru", "new", "original",
    "ori", "asli", "murah", "promo", "diskon", "gaming", "rakitan", "paket", "bundle", "bundling", "edisi",
    "edition", "seri", "series", "type", "tipe", "model", "varian", "size", "ready", "stok", "stock",
    "grosir", "eceran", "ukuran",
];

/// Every quantity in `text`, in order (see the module doc for what counts). The key of a
/// quantity with no word before it is the dimension's name.
pub fn quantities_in(text: &str) -> Vec<Quantity> {
    let chars: Vec<char> = text.chars().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() && number_may_start(&chars, i) {
            match quantity_at(&chars, i) {
                Ok((q, end)) => {
                    found.push(q);
                    i = end;
                }
                Err(end) => i = end,
            }
        } else {
            i += 1;
        }
    }
    found
}

/// The quantity `text` is, when it is exactly one quantity and nothing else but spaces and a
/// key word before it (an attribute value such as `16 GB`, `14 inch`, `1,5 kg`). Its key is
/// then `key` (the attribute's key), whatever word stands before the number.
pub fn single_quantity(text: &str, key: &str) -> Option<Quantity> {
    let chars: Vec<char> = text.trim().chars().collect();
    let start = chars.iter().position(|c| c.is_ascii_digit())?;
    if start != 0 || !number_may_start(&chars, start) {
        return None;
    }
    let (mut q, end) = quantity_at(&chars, start).ok()?;
    if chars[end..].iter().any(|c| !c.is_whitespace()) {
        return None;
    }
    q.key = key.to_string();
    Some(q)
}

/// A number may start at `i`: not glued to a letter, digit or separator before it (`RTX3060`,
/// `.5`), except after a multiplier `x` that follows a digit (`2x100 ml`).
fn number_may_start(chars: &[char], i: usize) -> bool {
    if i == 0 {
        return true;
    }
    let before = chars[i - 1];
    if matches!(before, 'x' | 'X') {
        return i >= 2 && chars[i - 2].is_ascii_digit();
    }
    // ".5 L" is not 5 L; better no quantity than a wrong one.
    !before.is_alphanumeric() && !matches!(before, '.' | ',')
}

/// The quantity whose number starts at `start`, and where it ends; or where the number ends
/// when it is not one.
fn quantity_at(chars: &[char], start: usize) -> Result<(Quantity, usize), usize> {
    // The number: digits, and separators followed by a digit.
    let mut end = start;
    while end < chars.len() {
        let c = chars[end];
        if c.is_ascii_digit()
            || (matches!(c, '.' | ',') && chars.get(end + 1).is_some_and(char::is_ascii_digit))
        {
            end += 1;
        } else {
            break;
        }
    }
    let number: String = chars[start..end].iter().collect();
    // The unit: after optional spaces, a run of letters ending the word, or an inch mark.
    let mut u = end;
    while u < chars.len() && chars[u].is_whitespace() {
        u += 1;
    }
    let (word, unit_end) = match chars.get(u) {
        Some(&c) if matches!(c, '"' | '″' | '”') => (c.to_string(), u + 1),
        Some(c) if c.is_ascii_alphabetic() => {
            let mut w = u;
            while w < chars.len() && chars[w].is_ascii_alphabetic() {
                w += 1;
            }
            if chars.get(w).is_some_and(|c| c.is_alphanumeric()) {
                return Err(end);
            }
            let word: String = chars[u..w].iter().collect::<String>().to_ascii_lowercase();
            (word, w)
        }
        _ => return Err(end),
    };
    let Some(unit) = unit(&word) else {
        return Err(end);
    };
    if word == "in" && counts_in_one(chars, unit_end) {
        return Err(end);
    }
    let Some(amount) = parse_number(&number, unit.thousands_dot) else {
        return Err(end);
    };
    let value = amount * unit.factor;
    if !(value.is_finite() && value > 0.0) {
        return Err(end);
    }
    let key = key_before(chars, start).unwrap_or_else(|| unit.dimension.name().to_string());
    Ok((
        Quantity {
            key,
            dimension: unit.dimension,
            value,
            text: format!("{number} {}", unit.symbol),
        },
        unit_end,
    ))
}

/// Whether the `in` that ends at `at` is the "in" of "3 in 1": followed by a number that is
/// no quantity (`14in 1,2 kg` is 14 inches and 1.2 kg).
fn counts_in_one(chars: &[char], at: usize) -> bool {
    let mut next = at;
    while next < chars.len() && chars[next].is_whitespace() {
        next += 1;
    }
    if !chars.get(next).is_some_and(char::is_ascii_digit) {
        return false;
    }
    quantity_at(chars, next).is_err()
}

/// The key word right before the number at `start` (see the module doc).
fn key_before(chars: &[char], start: usize) -> Option<String> {
    let mut end = start;
    while end > 0 && chars[end - 1].is_whitespace() {
        end -= 1;
    }
    if end > 0 && chars[end - 1] == ':' {
        end -= 1;
        while end > 0 && chars[end - 1].is_whitespace() {
            end -= 1;
        }
    }
    let mut begin = end;
    while begin > 0 && chars[begin - 1].is_alphabetic() {
        begin -= 1;
    }
    if begin == end || (begin > 0 && chars[begin - 1].is_alphanumeric()) {
        return None;
    }
    // "DDR4 16GB": the word must not be glued to digits either.
    let word: String = chars[begin..end].iter().flat_map(|c| c.to_lowercase()).collect();
    let usable = word.chars().count() >= 2 && !is_unit(&word) && !NOT_KEYS.contains(&word.as_str());
    usable.then_some(word)
}

/// Reads a number written with the separators of the module doc; `None` when it is not a
/// well-formed number or is ambiguous.
fn parse_number(text: &str, thousands_dot: bool) -> Option<f64> {
    let dots = text.matches('.').count();
    let commas = text.matches(',').count();
    let grouped = |int: &str, sep: char| -> Option<String> {
        let mut groups = int.split(sep);
        let first = groups.next()?;
        if first.is_empty() || first.len() > 3 {
            return None;
        }
        let mut digits = first.to_string();
        for g in groups {
            if g.len() != 3 {
                return None;
            }
            digits.push_str(g);
        }
        Some(digits)
    };
    let plain: String = match (dots, commas) {
        (0, 0) => text.to_string(),
        (0, 1) => text.replace(',', "."),
        (1, 0) => {
            let (int, frac) = text.split_once('.')?;
            let thousands = frac.len() == 3 && !int.starts_with('0') && int.len() <= 3;
            match (thousands, thousands_dot) {
                (true, true) => format!("{int}{frac}"),
                (true, false) => return None,
                (false, _) => text.to_string(),
            }
        }
        (_, 0) => grouped(text, '.')?,
        (0, _) => grouped(text, ',')?,
        _ => {
            let (last_sep, thousands_sep) = if text.rfind(',') > text.rfind('.') {
                (',', '.')
            } else {
                ('.', ',')
            };
            let (int, frac) = text.rsplit_once(last_sep)?;
            if frac.contains(thousands_sep) {
                return None;
            }
            format!("{}.{frac}", grouped(int, thousands_sep)?)
        }
    };
    plain.parse::<f64>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (key, dimension, value in the base unit, text) of every quantity in `text`.
    fn read(text: &str) -> Vec<(String, Dimension, f64, String)> {
        quantities_in(text)
            .into_iter()
            .map(|q| (q.key, q.dimension, q.value, q.text))
            .collect()
    }

    fn one(text: &str) -> (String, Dimension, f64, String) {
        let all = read(text);
        assert_eq!(all.len(), 1, "{text}: {all:?}");
        all.into_iter().next().unwrap()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
    }

    #[test]
    fn every_format_reads_to_its_base_unit() {
        use Dimension::*;
        for (text, dimension, value, shown) in [
            ("16GB", DataSize, 16e9, "16 GB"),
            ("16 GB", DataSize, 16e9, "16 GB"),
            ("452MB", DataSize, 452e6, "452 MB"),
            ("1TB", DataSize, 1e12, "1 TB"),
            ("14in", Length, 14.0 * 25.4, "14 in"),
            ("14\"", Length, 14.0 * 25.4, "14 in"),
            ("14”", Length, 14.0 * 25.4, "14 in"),
            ("14 inch", Length, 14.0 * 25.4, "14 in"),
            ("50MHz", Frequency, 50e6, "50 MHz"),
            ("2.4GHz", Frequency, 2.4e9, "2.4 GHz"),
            ("2,4 GHz", Frequency, 2.4e9, "2,4 GHz"),
            ("100 g", Mass, 100.0, "100 g"),
            ("100gr", Mass, 100.0, "100 g"),
            ("250ml", Volume, 250.0, "250 ml"),
            ("1,5 kg", Mass, 1500.0, "1,5 kg"),
            ("0.5 L", Volume, 500.0, "0.5 L"),
            ("1.000 g", Mass, 1000.0, "1.000 g"),
            ("10 cm", Length, 100.0, "10 cm"),
            ("500 W", Power, 500.0, "500 W"),
            ("5000mAh", Charge, 5000.0, "5000 mAh"),
            ("2.500 mAh", Charge, 2500.0, "2.500 mAh"),
            ("1.000.000 mAh", Charge, 1e6, "1.000.000 mAh"),
            ("1.000,5 g", Mass, 1000.5, "1.000,5 g"),
            ("1,000.5 g", Mass, 1000.5, "1,000.5 g"),
            ("0.500 kg", Mass, 500.0, "0.500 kg"),
            ("1.25 kg", Mass, 1250.0, "1.25 kg"),
            ("2 ons", Mass, 200.0, "2 ons"),
            ("12V", Voltage, 12.0, "12 V"),
            ("2 meter", Length, 2000.0, "2 m"),
        ] {
            let (key, d, v, t) = one(text);
            assert_eq!(d, dimension, "{text}");
            assert!(close(v, value), "{text}: {v} ≠ {value}");
            assert_eq!(t, shown, "{text}");
            assert_eq!(
                key,
                dimension.name(),
                "{text}: no word before, the dimension's name"
            );
        }
    }

    #[test]
    fn the_word_before_the_number_is_the_key_unless_it_describes_the_product() {
        let keys = |text: &str| read(text).into_iter().map(|q| q.0).collect::<Vec<_>>();
        assert_eq!(
            keys("PC Rakitan Premium 50MHz RAM 16GB HDD 452MB Layar 14in"),
            ["frekuensi", "ram", "hdd", "layar"]
        );
        assert_eq!(keys("Baterai: 5000mAh"), ["baterai"]);
        assert_eq!(
            keys("RAM DDR4 8GB"),
            ["kapasitas"],
            "a word with digits is no key"
        );
        assert_eq!(keys("Sirup isi 250ml"), ["volume"]);
        assert_eq!(
            keys("ram 8GB 2400MHz"),
            ["ram", "frekuensi"],
            "a number is no key"
        );
        assert_eq!(keys("HDD/SSD 512GB"), ["ssd"]);
        assert_eq!(keys("Kopi (1 kg)"), ["berat"]);
        // The key is lower-case whatever the name's case.
        assert_eq!(keys("LAYAR 15.6 INCH"), ["layar"]);
        assert!(close(read("LAYAR 15.6 INCH")[0].2, 15.6 * 25.4));
    }

    #[test]
    fn numbers_that_are_not_quantities_are_refused() {
        for text in [
            "Produk 196",
            "Kopi 3in1",
            "Kopi 3 in 1",
            "Kopi Susu 2 in 1 Sachet",
            "Kopi 3in1 isi 10 sachet",
            "VGA RTX3060",
            "Intel i5-1135G7",
            "USB 3.0",
            "Kabel 16GBps",
            "Baju Bayi 6M",
            "Baju Bayi 3-6 M",
            "Monitor 1920x1080",
            "Gula 0 g",
            "Tahun 2024",
            // A thousands dot with a large unit is ambiguous: 1.5 kg or 1500 kg?
            "Beras 1.500 kg",
            "SSD 1.000 GB",
            "1.2.3 g",
            "1,0000,000 g",
            "Minyak .5 L",
        ] {
            assert!(read(text).is_empty(), "{text}: {:?}", read(text));
        }
    }

    #[test]
    fn a_multiplier_before_a_pack_still_reads_the_pack() {
        let (key, d, v, _) = one("Sambal 2x100 ml");
        assert_eq!((key.as_str(), d), ("volume", Dimension::Volume));
        assert!(close(v, 100.0));
    }

    #[test]
    fn several_quantities_in_one_name_come_in_order() {
        let all = read("Laptop 14\" 8 GB 512GB SSD 1,2 kg");
        let texts: Vec<&str> = all.iter().map(|q| q.3.as_str()).collect();
        assert_eq!(texts, ["14 in", "8 GB", "512 GB", "1,2 kg"]);
        // An inch followed by another quantity is no "3 in 1".
        let texts: Vec<String> = read("Layar 14in 1,2 kg").into_iter().map(|q| q.3).collect();
        assert_eq!(texts, ["14 in", "1,2 kg"]);
    }

    #[test]
    fn an_attribute_value_that_is_one_quantity_takes_the_attribute_key() {
        let q = single_quantity(" 16 GB ", "ram").unwrap();
        assert_eq!(
            (q.key.as_str(), q.dimension, q.text.as_str()),
            ("ram", Dimension::DataSize, "16 GB")
        );
        assert!(single_quantity("14 inch", "layar").is_some());
        assert!(single_quantity("16 GB DDR4", "ram").is_none());
        assert!(single_quantity("DDR4 16 GB", "ram").is_none());
        assert!(single_quantity("pedas", "rasa").is_none());
        assert!(single_quantity("196", "nomor").is_none());
    }

    #[test]
    fn unit_words_are_known_in_lower_case() {
        for w in ["gb", "mhz", "inch", "mah", "kg", "ml", "w", "\""] {
            assert!(is_unit(w), "{w}");
        }
        for w in ["ram", "m", "in1", "gbps", "pedas"] {
            assert!(!is_unit(w), "{w}");
        }
        assert_eq!(Dimension::Frequency.to_string(), "frekuensi");
        assert_eq!(Dimension::ALL.len(), 8);
    }
}
