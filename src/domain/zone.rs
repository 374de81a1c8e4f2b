//! The time zones a shop may be in: Indonesia's three (no daylight saving, so a fixed
//! offset is exact) and UTC. One table: the config reads shop time zones from it, the
//! dashboard names offsets with it, and export files are read in its WIB.

use chrono::FixedOffset;

/// One time zone: its IANA name, its offset east of UTC and what Indonesians call it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Zone {
    /// The IANA name, as a config file writes it: `Asia/Jakarta`.
    pub name: &'static str,
    pub offset_seconds: i32,
    /// `WIB`, `WITA`, `WIT` or `UTC`; also accepted in place of the name (the first zone
    /// with a label stands for it).
    pub label: &'static str,
}

/// Every zone we know, the zone a label stands for first among those sharing the label.
pub const ZONES: &[Zone] = &[
    Zone {
        name: "Asia/Jakarta",
        offset_seconds: 7 * 3600,
        label: "WIB",
    },
    Zone {
        name: "Asia/Pontianak",
        offset_seconds: 7 * 3600,
        label: "WIB",
    },
    Zone {
        name: "Asia/Makassar",
        offset_seconds: 8 * 3600,
        label: "WITA",
    },
    Zone {
        name: "Asia/Jayapura",
        offset_seconds: 9 * 3600,
        label: "WIT",
    },
    Zone {
        name: "UTC",
        offset_seconds: 0,
        label: "UTC",
    },
];

/// Western Indonesian Time (Jakarta), in which Seller Center exports write every date.
pub const WIB: Zone = ZONES[0];

impl Zone {
    /// The zone an IANA name or a label (`WIB`, `WITA`, `WIT`, `UTC`) names, exactly as written.
    pub fn find(name: &str) -> Option<Zone> {
        ZONES
            .iter()
            .find(|z| z.name == name)
            .or_else(|| ZONES.iter().find(|z| z.label == name))
            .copied()
    }

    pub fn offset(&self) -> FixedOffset {
        FixedOffset::east_opt(self.offset_seconds).expect("the table's offsets are within a day")
    }
}

/// What a refused time zone should be instead: `use Asia/Jakarta (WIB), …, Asia/Jayapura
/// (WIT) or UTC`.
pub fn zone_hint() -> String {
    let named: Vec<String> = ZONES
        .iter()
        .filter(|z| z.name != z.label)
        .map(|z| format!("{} ({})", z.name, z.label))
        .collect();
    let plain: Vec<&str> = ZONES
        .iter()
        .filter(|z| z.name == z.label)
        .map(|z| z.name)
        .collect();
    format!("use {} or {}", named.join(", "), plain.join(", "))
}

/// How an offset is called in Indonesia (`WIB`, `WITA`, `WIT`, `UTC`); any other offset as
/// `UTC+h` or `UTC+h:mm`.
pub fn offset_label(offset_seconds: i32) -> String {
    match ZONES.iter().find(|z| z.offset_seconds == offset_seconds) {
        Some(z) => z.label.to_string(),
        None if offset_seconds % 3600 == 0 => format!("UTC{:+}", offset_seconds / 3600),
        None => format!(
            "UTC{:+}:{:02}",
            offset_seconds / 3600,
            (offset_seconds.abs() % 3600) / 60
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_labels_find_their_zone() {
        assert_eq!(
            Zone::find("Asia/Jakarta").map(|z| z.offset_seconds),
            Some(7 * 3600)
        );
        assert_eq!(Zone::find("Asia/Pontianak").map(|z| z.label), Some("WIB"));
        assert_eq!(Zone::find("WIB").map(|z| z.name), Some("Asia/Jakarta"));
        assert_eq!(Zone::find("WITA").map(|z| z.name), Some("Asia/Makassar"));
        assert_eq!(Zone::find("WIT").map(|z| z.name), Some("Asia/Jayapura"));
        assert_eq!(Zone::find("UTC").map(|z| z.offset_seconds), Some(0));
        assert_eq!(Zone::find("Europe/Berlin"), None);
        assert_eq!(Zone::find("wib"), None, "names are matched as written");
    }

    #[test]
    fn indonesian_time_zones_have_their_names() {
        assert_eq!(offset_label(7 * 3600), "WIB");
        assert_eq!(offset_label(8 * 3600), "WITA");
        assert_eq!(offset_label(9 * 3600), "WIT");
        assert_eq!(offset_label(0), "UTC");
        assert_eq!(offset_label(-5 * 3600), "UTC-5");
        assert_eq!(offset_label(5 * 3600 + 1800), "UTC+5:30");
    }

    #[test]
    fn the_hint_lists_every_zone() {
        assert_eq!(
            zone_hint(),
            "use Asia/Jakarta (WIB), Asia/Pontianak (WIB), Asia/Makassar (WITA), Asia/Jayapura (WIT) or UTC"
        );
    }
}
