//! CSV files of the owner's data, the same from the dashboard's download links and from
//! `laris customers --format csv`.

use std::io::Write;

/// A cell of text someone else typed (a customer's name, a message) as a spreadsheet should
/// show it: text that a spreadsheet would read as a formula (starting with `=`, `+`, `-`,
/// `@`, a tab or a carriage return) gets a leading `'`, so it cannot run as one when the
/// owner opens the file.
pub fn text_cell(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    }
}

/// The catalogue as CSV: id, SKU, name, price in whole rupiah, stock, status, category path
/// (`A > B`), units sold and revenue.
pub fn products_csv(rows: &[crate::admin::views::ProductRow], out: &mut dyn Write) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "id",
        "sku",
        "name",
        "price",
        "stock",
        "status",
        "available",
        "category",
        "sold",
        "revenue",
    ])?;
    for p in rows {
        w.write_record([
            p.id.clone(),
            p.sku.clone().unwrap_or_default(),
            p.name.clone(),
            p.price.0.to_string(),
            p.stock.map(|s| s.to_string()).unwrap_or_default(),
            serde_json::to_value(p.status)?
                .as_str()
                .unwrap_or_default()
                .to_string(),
            p.available.to_string(),
            p.category.join(" > "),
            p.sold.to_string(),
            p.revenue.0.to_string(),
        ])?;
    }
    w.flush()?;
    Ok(())
}

/// Feedback messages as CSV: id, time in the shop's zone, status, message, contact, page and
/// product (personal data: the owner's own export).
pub fn feedback_csv(
    rows: &[crate::records::Feedback],
    offset: chrono::FixedOffset,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(["id", "at", "status", "message", "contact", "page", "product"])?;
    for f in rows {
        w.write_record([
            f.id.to_string(),
            f.at.with_timezone(&offset)
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
            serde_json::to_value(f.status)?
                .as_str()
                .unwrap_or_default()
                .to_string(),
            text_cell(&f.message),
            text_cell(f.contact.as_deref().unwrap_or_default()),
            text_cell(f.page.as_deref().unwrap_or_default()),
            f.product.clone().unwrap_or_default(),
        ])?;
    }
    w.flush()?;
    Ok(())
}

/// Customers as CSV: one row each, money in whole rupiah, times in RFC 3339 in the shop's
/// zone (`offset`), to the second.
pub fn customers_csv(
    rows: &[&crate::records::Customer],
    offset: chrono::FixedOffset,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let time = |t: &chrono::DateTime<chrono::Utc>| {
        t.with_timezone(&offset)
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
    };
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "customer",
        "name",
        "total_spend",
        "orders",
        "average_order_value",
        "first_order",
        "last_order",
        "tier",
        "tier_since",
        "next_tier_needed",
        "segment",
        "r",
        "f",
        "m",
        "phone",
        "whatsapp",
        "city",
    ])?;
    for c in rows {
        let (r, f, m) = c
            .rfm
            .map(|s| (s.r.to_string(), s.f.to_string(), s.m.to_string()))
            .unwrap_or_default();
        w.write_record([
            c.id.0.clone(),
            text_cell(c.name.as_deref().unwrap_or_default()),
            c.total_spend.0.to_string(),
            c.order_count.to_string(),
            c.average_order_value.0.to_string(),
            time(&c.first_order),
            time(&c.last_order),
            c.tier.clone().unwrap_or_default(),
            c.tier_since.as_ref().map(time).unwrap_or_default(),
            c.next_tier_needed.map(|r| r.0.to_string()).unwrap_or_default(),
            c.segment.clone().unwrap_or_default(),
            r,
            f,
            m,
            c.phone.as_ref().map(|p| format!("+{p}")).unwrap_or_default(),
            c.phone
                .as_deref()
                .map(crate::domain::phone::whatsapp_link)
                .unwrap_or_default(),
            text_cell(c.city.as_deref().unwrap_or_default()),
        ])?;
    }
    w.flush()?;
    Ok(())
}

/// The overview as CSV, one row per bucket (no total row, so columns can be summed);
/// rupiah as plain integers.
pub fn overview_csv(overview: &crate::admin::analytics::Overview) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let header = [
        "period",
        "start",
        "orders",
        "paid_orders",
        "revenue",
        "average_order_value",
        "new_customers",
        "returning_customers",
    ];
    // Writing to memory cannot fail.
    let _ = w.write_record(header);
    for b in &overview.buckets {
        let _ = w.write_record([
            b.label.clone(),
            b.start.to_string(),
            b.orders.to_string(),
            b.paid_orders.to_string(),
            b.revenue.0.to_string(),
            b.average_order_value.0.to_string(),
            b.new_customers.to_string(),
            b.returning_customers.to_string(),
        ]);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{CustomerId, Rupiah};
    use chrono::TimeZone;

    #[test]
    fn a_customers_message_cannot_run_as_a_formula_in_the_feedback_csv() {
        let f = crate::records::Feedback {
            id: 1,
            at: chrono::Utc.with_ymd_and_hms(2026, 11, 2, 3, 0, 0).unwrap(),
            message: "=HYPERLINK(\"http://evil.example\",\"klik\")".into(),
            contact: Some("+62 812 3456 789".into()),
            page: None,
            product: None,
            status: crate::records::FeedbackStatus::New,
        };
        let mut out = Vec::new();
        feedback_csv(&[f], chrono::FixedOffset::east_opt(7 * 3600).unwrap(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let row = text.lines().nth(1).unwrap();
        assert!(
            row.contains("\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"klik\"\")\""),
            "{row}"
        );
        assert!(row.contains(",'+62 812 3456 789,"), "{row}");
        assert_eq!(text_cell("Sari"), "Sari");
        assert_eq!(text_cell("@SUM(A1)"), "'@SUM(A1)");
    }

    #[test]
    fn customer_times_are_in_the_shops_zone_to_the_second() {
        let t = chrono::Utc.with_ymd_and_hms(2026, 10, 1, 5, 30, 15).unwrap()
            + chrono::Duration::nanoseconds(123_456_789);
        let c = crate::records::Customer {
            name: Some("Sari".into()),
            phone: Some("628123456789".into()),
            city: Some("Bandung, Jawa Barat".into()),
            total_spend: Rupiah(150_000),
            order_count: 2,
            average_order_value: Rupiah(75_000),
            ..crate::records::Customer::first_seen(CustomerId("c1".into()), t)
        };
        let mut out = Vec::new();
        customers_csv(&[&c], chrono::FixedOffset::east_opt(7 * 3600).unwrap(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let row = text.lines().nth(1).unwrap();
        assert!(
            row.contains(",2026-10-01T12:30:15+07:00,2026-10-01T12:30:15+07:00,"),
            "{row}"
        );
        assert!(
            text.lines().next().unwrap().ends_with(",phone,whatsapp,city"),
            "{text}"
        );
        assert!(
            row.ends_with(",+628123456789,https://wa.me/628123456789,\"Bandung, Jawa Barat\""),
            "{row}"
        );
    }
}
