//! `[shops.chat]`: the seller's WhatsApp number for the chat button, and when the seller
//! answers. Parsed once at config load; [`OpeningHours::status`] says, for a given moment,
//! whether the seller answers now or from when (the caller passes the moment, so the rule is
//! tested with a fixed clock).

use chrono::{DateTime, Datelike, FixedOffset, Timelike, Utc};
use serde::Deserialize;

use super::error::{invalid, ConfigError};

/// `[shops.chat]` as the file writes it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawChat {
    whatsapp: String,
    hours: Option<String>,
    days: Option<String>,
}

/// The shop's chat button: where it leads and when the seller answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatSettings {
    /// The WhatsApp number as `wa.me` wants it: digits only, country code first.
    pub whatsapp: String,
    /// When the seller answers, in the shop's time zone; `None`: any time.
    pub hours: Option<OpeningHours>,
}

/// Opening hours: from `open` to `close` (minutes after midnight, `open < close`) on the
/// days marked in `days` (index 0 is Monday).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpeningHours {
    pub open: u16,
    pub close: u16,
    pub days: [bool; 7],
}

/// Whether the seller answers at a moment, and if not, from when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatStatus {
    Open,
    /// Closed now; the seller answers from `at` (minutes after midnight) on the day
    /// `days_ahead` days from today (0: later today, 1: tomorrow) of weekday `weekday`
    /// (0 is Monday).
    Closed {
        at: u16,
        days_ahead: u8,
        weekday: u8,
    },
}

const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

impl OpeningHours {
    /// The status at `now` in a shop whose clocks are `offset` east of UTC.
    pub fn status(&self, now: DateTime<Utc>, offset: FixedOffset) -> ChatStatus {
        let local = now.with_timezone(&offset);
        let minute = (local.hour() * 60 + local.minute()) as u16;
        let today = local.weekday().num_days_from_monday() as usize;
        if self.days[today] && (self.open..self.close).contains(&minute) {
            return ChatStatus::Open;
        }
        // Later today when it has not opened yet, else the next open day.
        let start = if self.days[today] && minute < self.open {
            0
        } else {
            1
        };
        for ahead in start..=7 {
            let day = (today + ahead) % 7;
            if self.days[day] {
                return ChatStatus::Closed {
                    at: self.open,
                    days_ahead: ahead as u8,
                    weekday: day as u8,
                };
            }
        }
        // `parse` refuses a week without an open day.
        ChatStatus::Open
    }

    /// `08:00`: minutes after midnight as a clock time.
    pub fn clock(minutes: u16) -> String {
        format!("{:02}:{:02}", minutes / 60, minutes % 60)
    }
}

impl RawChat {
    /// Checks the number, hours and days; errors name `shops[i].chat.KEY`, the value and the fix.
    pub(super) fn validate(&self, key: &dyn Fn(&str) -> String) -> Result<ChatSettings, ConfigError> {
        let whatsapp =
            whatsapp(&self.whatsapp).map_err(|fix| invalid(key("chat.whatsapp"), &self.whatsapp, fix))?;
        let hours = match (&self.hours, &self.days) {
            (None, None) => None,
            (None, Some(d)) => {
                return Err(invalid(
                    key("chat.days"),
                    d,
                    "days need hours: add hours = \"08:00-21:00\", or remove days",
                ))
            }
            (Some(h), days) => {
                let (open, close) = hours(h).map_err(|fix| invalid(key("chat.hours"), h, fix))?;
                let days = match days {
                    None => [true; 7],
                    Some(d) => parse_days(d).map_err(|fix| invalid(key("chat.days"), d, fix))?,
                };
                Some(OpeningHours { open, close, days })
            }
        };
        Ok(ChatSettings { whatsapp, hours })
    }
}

/// A WhatsApp number as `wa.me` takes it: 8–15 digits, country code first.
fn whatsapp(raw: &str) -> Result<String, String> {
    let example = "write digits only, country code first, e.g. \"6281234567890\" for 0812-3456-7890";
    if raw.starts_with('+') {
        return Err(format!("leave out the +: {example}"));
    }
    if raw.starts_with('0') {
        return Err(format!(
            "replace the leading 0 by the country code (62 for Indonesia): {example}"
        ));
    }
    if !raw.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("no spaces, dashes or letters: {example}"));
    }
    if !(8..=15).contains(&raw.len()) {
        return Err(format!(
            "{} digits is not a phone number (8 to 15 with the country code): {example}",
            raw.len()
        ));
    }
    Ok(raw.to_string())
}

/// `HH:MM-HH:MM`, opening before closing, on the same day.
fn hours(raw: &str) -> Result<(u16, u16), String> {
    let fix = "write opening and closing time as \"HH:MM-HH:MM\" on one day, e.g. \"08:00-21:00\" (24-hour clock, opening first)";
    let clock = |s: &str| -> Option<u16> {
        let (h, m) = s.trim().split_once(':')?;
        if h.len() != 2 || m.len() != 2 {
            return None;
        }
        let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
        // 24:00 is the end of the day.
        (h < 24 && m < 60 || h == 24 && m == 0).then_some(h * 60 + m)
    };
    let (a, b) = raw.split_once('-').ok_or_else(|| fix.to_string())?;
    let (open, close) = (
        clock(a).ok_or_else(|| fix.to_string())?,
        clock(b).ok_or_else(|| fix.to_string())?,
    );
    if open >= close {
        return Err(fix.to_string());
    }
    Ok((open, close))
}

/// `mon-sat`, `mon,wed,fri`, `sat-sun`, `mon-fri,sun`: day names or ranges, commas between.
fn parse_days(raw: &str) -> Result<[bool; 7], String> {
    let fix = "use three-letter days (mon, tue, wed, thu, fri, sat, sun) or ranges, e.g. \"mon-sat\" or \"mon-fri,sun\"";
    let day = |s: &str| DAY_NAMES.iter().position(|d| d.eq_ignore_ascii_case(s.trim()));
    let mut days = [false; 7];
    for part in raw.split(',') {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (day(a).ok_or(fix)?, day(b).ok_or(fix)?);
                let mut d = a;
                loop {
                    days[d] = true;
                    if d == b {
                        break;
                    }
                    d = (d + 1) % 7;
                }
            }
            None => days[day(part).ok_or(fix)?] = true,
        }
    }
    Ok(days)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn raw(whatsapp: &str, hours: Option<&str>, days: Option<&str>) -> RawChat {
        RawChat {
            whatsapp: whatsapp.into(),
            hours: hours.map(Into::into),
            days: days.map(Into::into),
        }
    }

    fn key(k: &str) -> String {
        format!("shops[0].{k}")
    }

    #[test]
    fn numbers_must_be_digits_with_the_country_code() {
        let ok = raw("6281234567890", None, None).validate(&key).unwrap();
        assert_eq!(ok.whatsapp, "6281234567890");
        assert_eq!(ok.hours, None);
        for (bad, hint) in [
            ("081234567890", "leading 0"),
            ("+6281234567890", "leave out the +"),
            ("62812abc4567", "letters"),
            ("62 812 3456", "spaces"),
            ("6281", "4 digits"),
            ("6281234567890123", "16 digits"),
        ] {
            let msg = raw(bad, None, None).validate(&key).unwrap_err().to_string();
            assert!(
                msg.contains("shops[0].chat.whatsapp") && msg.contains(bad),
                "{msg}"
            );
            assert!(msg.contains(hint), "{bad}: {msg}");
        }
    }

    #[test]
    fn hours_and_days_are_checked() {
        let h = raw("62812000000", Some("08:00-21:00"), Some("mon-sat"))
            .validate(&key)
            .unwrap();
        let h = h.hours.unwrap();
        assert_eq!((h.open, h.close), (480, 1260));
        assert_eq!(h.days, [true, true, true, true, true, true, false]);
        let wrap = raw("62812000000", Some("09:30-24:00"), Some("fri-mon,wed"))
            .validate(&key)
            .unwrap();
        let wrap = wrap.hours.unwrap();
        assert_eq!((wrap.open, wrap.close), (570, 1440));
        assert_eq!(wrap.days, [true, false, true, false, true, true, true]);
        for bad in [
            "21:00-08:00",
            "8-21",
            "08:00",
            "25:00-26:00",
            "08:60-09:00",
            "08:00-08:00",
        ] {
            let msg = raw("62812000000", Some(bad), None)
                .validate(&key)
                .unwrap_err()
                .to_string();
            assert!(
                msg.contains("shops[0].chat.hours") && msg.contains(bad) && msg.contains("HH:MM-HH:MM"),
                "{msg}"
            );
        }
        let msg = raw("62812000000", Some("08:00-21:00"), Some("senin-sabtu"))
            .validate(&key)
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("shops[0].chat.days") && msg.contains("senin-sabtu") && msg.contains("mon-sat"),
            "{msg}"
        );
        let msg = raw("62812000000", None, Some("mon-sat"))
            .validate(&key)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("days need hours"), "{msg}");
    }

    /// 08:00–21:00, Monday to Saturday, in WIB (UTC+7).
    fn shop_hours() -> (OpeningHours, FixedOffset) {
        let h = raw("62812000000", Some("08:00-21:00"), Some("mon-sat"))
            .validate(&key)
            .unwrap();
        (h.hours.unwrap(), FixedOffset::east_opt(7 * 3600).unwrap())
    }

    /// A moment given in WIB wall-clock time.
    fn wib(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        FixedOffset::east_opt(7 * 3600)
            .unwrap()
            .with_ymd_and_hms(y, mo, d, h, mi, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn opening_hours_are_read_in_the_shops_time_zone() {
        let (h, wib_offset) = shop_hours();
        // 2026-03-04 is a Wednesday.
        assert_eq!(h.status(wib(2026, 3, 4, 8, 0), wib_offset), ChatStatus::Open);
        assert_eq!(h.status(wib(2026, 3, 4, 20, 59), wib_offset), ChatStatus::Open);
        // 07:30 WIB is 00:30 UTC: a clock read in UTC would say the shop is closed until
        // 08:00 anyway, but 14:30 WIB (07:30 UTC) must be open.
        assert_eq!(h.status(wib(2026, 3, 4, 14, 30), wib_offset), ChatStatus::Open);
        assert_eq!(
            h.status(wib(2026, 3, 4, 7, 30), wib_offset),
            ChatStatus::Closed {
                at: 480,
                days_ahead: 0,
                weekday: 2
            }
        );
        assert_eq!(
            h.status(wib(2026, 3, 4, 21, 0), wib_offset),
            ChatStatus::Closed {
                at: 480,
                days_ahead: 1,
                weekday: 3
            }
        );
        // Saturday night: Sunday is closed, so Monday.
        assert_eq!(
            h.status(wib(2026, 3, 7, 22, 0), wib_offset),
            ChatStatus::Closed {
                at: 480,
                days_ahead: 2,
                weekday: 0
            }
        );
        // All Sunday, even inside the hours.
        assert_eq!(
            h.status(wib(2026, 3, 8, 12, 0), wib_offset),
            ChatStatus::Closed {
                at: 480,
                days_ahead: 1,
                weekday: 0
            }
        );
        // 23:30 UTC on Saturday is already 06:30 on Sunday in WIB.
        let sat_utc = Utc.with_ymd_and_hms(2026, 3, 7, 23, 30, 0).unwrap();
        assert_eq!(
            h.status(sat_utc, wib_offset),
            ChatStatus::Closed {
                at: 480,
                days_ahead: 1,
                weekday: 0
            }
        );
        // The same instant in a UTC shop is Saturday 23:30.
        assert_eq!(
            h.status(sat_utc, FixedOffset::east_opt(0).unwrap()),
            ChatStatus::Closed {
                at: 480,
                days_ahead: 2,
                weekday: 0
            }
        );
        assert_eq!(OpeningHours::clock(480), "08:00");
    }
}
