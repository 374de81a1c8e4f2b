//! `laris automations preview`: a dry run of a shop's automations.

use std::path::Path;

use anyhow::{anyhow, bail};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};

use super::client::ServiceClient;
use super::{open_existing_store, shop_id};
use crate::config::Settings;
use crate::domain::url_component;
use crate::outreach::Plan;

/// `--at`: RFC 3339, or a date meaning 09:00 of that day in the shop's time zone.
fn moment(raw: &str, offset_seconds: i32) -> anyhow::Result<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(raw.trim()) {
        return Ok(t.with_timezone(&Utc));
    }
    let date = NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d").map_err(|_| {
        anyhow!("--at {raw:?} is no moment: write a date (2026-11-02) or an RFC 3339 time (2026-11-02T09:00:00+07:00)")
    })?;
    let offset = chrono::FixedOffset::east_opt(offset_seconds)
        .ok_or_else(|| anyhow!("the shop's offset is out of range"))?;
    offset
        .from_local_datetime(&date.and_hms_opt(9, 0, 0).expect("09:00 exists"))
        .single()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| anyhow!("--at {raw:?}: 09:00 does not exist that day in the shop's time zone"))
}

pub(super) fn preview(
    settings: &Settings,
    data_dir: &Path,
    shop: &str,
    at: Option<&str>,
    json: bool,
) -> anyhow::Result<()> {
    let id = shop_id(settings, shop)?;
    let shop = settings.shop(&id).expect("shop_id checked it");
    if shop.automations.is_empty() {
        bail!(
            "shop {id} has no automations: add a [[shops.automations]] block to {} (README \"Automations\")",
            settings.source.display()
        );
    }
    let now = match at {
        Some(raw) => moment(raw, shop.timezone.offset_seconds)?,
        None => Utc::now(),
    };
    let plan: Plan = match ServiceClient::find(settings, data_dir)? {
        Some(client) => client.get(&format!(
            "/admin/api/shops/{id}/automations/preview?at={}",
            url_component(&now.to_rfc3339())
        ))?,
        None => {
            let store = open_existing_store(settings, data_dir)?;
            let model = crate::model::rebuild::load_or_rebuild(&*store, shop)?;
            crate::outreach::preview(&*store, shop, &model, now)?
        }
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&plan)?);
        return Ok(());
    }
    print!("{}", text(&plan, shop, now));
    Ok(())
}

/// The plan as the owner reads it: each message with who, why and the text, then who is
/// held back and why.
fn text(plan: &Plan, shop: &crate::config::ShopSettings, now: DateTime<Utc>) -> String {
    let offset = chrono::FixedOffset::east_opt(shop.timezone.offset_seconds)
        .unwrap_or(chrono::FixedOffset::east_opt(0).expect("UTC"));
    let mut s = format!(
        "{} at {} ({}): {} message(s) would be recorded, {} held back, {} recorded before. Nothing is recorded or sent by a preview.\n",
        shop.id,
        now.with_timezone(&offset).format("%Y-%m-%d %H:%M"),
        crate::domain::zone::offset_label(shop.timezone.offset_seconds),
        plan.messages.len(),
        plan.held.len(),
        plan.recorded_before
    );
    for m in &plan.messages {
        let who = match (&m.name, &m.phone) {
            (Some(n), Some(p)) => format!("{n} ({}, {p})", m.customer),
            (Some(n), None) => format!("{n} ({})", m.customer),
            (None, Some(p)) => format!("{} ({p})", m.customer),
            (None, None) => m.customer.to_string(),
        };
        s.push_str(&format!(
            "\n{} → {who} [{}]\n  why:  {}\n  text: {}\n",
            m.automation,
            m.channel.as_str(),
            m.reason,
            m.text.replace('\n', "\n        ")
        ));
    }
    if !plan.already.is_empty() {
        s.push_str("\nqualifying, recorded before (never made twice):\n");
        for r in &plan.already {
            s.push_str(&format!(
                "  {} → {}: {} on {} (qualifies: {})\n",
                r.automation,
                r.customer,
                r.status.as_str(),
                r.created_at.with_timezone(&offset).format("%Y-%m-%d %H:%M"),
                r.qualified
            ));
        }
    }
    if !plan.held.is_empty() {
        s.push_str("\nheld back:\n");
        for h in &plan.held {
            s.push_str(&format!(
                "  {} → {}: {} (qualified: {})\n",
                h.automation, h.customer, h.reason, h.qualified
            ));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_takes_a_date_in_the_shops_zone_or_a_full_time() {
        assert_eq!(
            moment("2026-11-02", 7 * 3600).unwrap(),
            Utc.with_ymd_and_hms(2026, 11, 2, 2, 0, 0).unwrap()
        );
        assert_eq!(
            moment("2026-11-02T09:30:00+08:00", 7 * 3600).unwrap(),
            Utc.with_ymd_and_hms(2026, 11, 2, 1, 30, 0).unwrap()
        );
        let e = moment("kemarin", 0).unwrap_err().to_string();
        assert!(e.contains("kemarin") && e.contains("2026-11-02"), "{e}");
    }
}
