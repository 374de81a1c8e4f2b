//! The serving side of a shop's holdout experiment: the visitor id the widget sends, and
//! the visitor's arm, decided here with `experiment::assign::arm` (never taken from a
//! client). Only a shop whose `[shops.experiment]` has a holdout above 0 splits visitors;
//! everywhere else a visitor id changes nothing.

use crate::config::experiment::{ControlShows, ExperimentSettings};
use crate::config::ShopSettings;
use crate::experiment::assign::{arm, Arm};

/// The header of a fragment answer that names the visitor's arm (`control`/`treatment`),
/// for the widget; only on answers of a shop with an experiment to a request with a
/// visitor id.
pub const ARM_HEADER: &str = "laris-arm";

/// Length of a visitor id: 16 random bytes as lowercase hex, as the widget makes it.
pub const VISITOR_ID_LEN: usize = 32;

/// `raw` when it looks like an id the widget makes (32 lowercase hex digits); else a
/// message naming the value and the fix.
pub fn visitor_id(raw: &str) -> Result<&str, String> {
    if raw.len() == VISITOR_ID_LEN && raw.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        Ok(raw)
    } else {
        let shown: String = raw.chars().take(80).collect();
        Err(format!(
            "visitor {shown:?} is not a visitor id: send the 32 lowercase hex digits the widget keeps (16 random bytes), or leave visitor out"
        ))
    }
}

/// The shop's experiment when it is splitting visitors.
pub fn running(shop: &ShopSettings) -> Option<&ExperimentSettings> {
    shop.experiment.as_ref().filter(|e| e.is_on())
}

/// The arm of `visitor` (already checked by [`visitor_id`]) in the shop's experiment;
/// `None` when the shop runs none.
pub fn arm_of(shop: &ShopSettings, visitor: &str) -> Option<Arm> {
    running(shop).map(|e| arm(visitor, &e.salt, e.holdout_pct))
}

/// The name of an arm on the wire and in stored events.
pub fn arm_name(a: Arm) -> &'static str {
    match a {
        Arm::Control => "control",
        Arm::Treatment => "treatment",
    }
}

/// What the recommendation slots show this visitor: `None` the normal recommendations,
/// else what the control arm sees instead.
pub fn control_shows(shop: &ShopSettings, a: Option<Arm>) -> Option<ControlShows> {
    match a {
        Some(Arm::Control) => running(shop).map(|e| e.control),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::experiment::ControlShows;

    fn shop(pct: u8) -> ShopSettings {
        let text =
            format!("[[shops]]\nid = \"toko\"\n[shops.experiment]\nholdout_pct = {pct}\nname = \"t\"\n");
        let settings =
            crate::config::Settings::from_toml(&text, std::path::Path::new("t.toml"), &[]).unwrap();
        settings.shops.into_iter().next().unwrap()
    }

    #[test]
    fn only_ids_the_widget_makes_are_taken() {
        assert!(visitor_id("0123456789abcdef0123456789abcdef").is_ok());
        for bad in [
            "",
            "0123456789ABCDEF0123456789ABCDEF",
            "0123456789abcdef",
            "x".repeat(32).as_str(),
            "0123456789abcdef0123456789abcdef0",
        ] {
            let msg = visitor_id(bad).unwrap_err();
            assert!(
                msg.contains(&format!("{bad:?}")) && msg.contains("32 lowercase hex"),
                "{msg}"
            );
        }
    }

    #[test]
    fn the_arm_is_the_assignment_of_the_configured_salt() {
        let s = shop(30);
        let e = s.experiment.as_ref().unwrap();
        assert_eq!(e.salt, "toko/t");
        let mut seen = [0usize; 2];
        for i in 0..2000u32 {
            let v = format!("{:032x}", u128::from(i) * 0x9e37_79b9_7f4a_7c15);
            let got = arm_of(&s, &v).unwrap();
            assert_eq!(got, arm(&v, "toko/t", 30));
            seen[(got == Arm::Control) as usize] += 1;
            let shows = control_shows(&s, Some(got));
            assert_eq!(shows.is_some(), got == Arm::Control);
        }
        // Both arms occur, about 30% in control.
        assert!((500..700).contains(&seen[1]), "{seen:?}");
        assert_eq!(control_shows(&s, Some(Arm::Control)), Some(ControlShows::Nothing));
        // Off: nobody is assigned.
        let off = shop(0);
        assert_eq!(arm_of(&off, "0123456789abcdef0123456789abcdef"), None);
        assert_eq!(control_shows(&off, Some(Arm::Control)), None);
    }
}
