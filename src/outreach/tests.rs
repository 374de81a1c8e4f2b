//! The automations over a small shop with a fixed clock: who qualifies, the rules, the
//! templates in both languages.

use chrono::{DateTime, Duration, TimeZone, Utc};

use crate::config::{RecommendSettings, Settings, ShopSettings};
use crate::domain::{CustomerId, ProductId, Rupiah};
use crate::model::ShopModel;
use crate::outreach::plan::{message_key, plan};
use crate::outreach::qualify::{candidates, ShopData};
use crate::records::{Channel, Customer, MessageStatus, OptOut, Order, Product};
use crate::store::contract;

fn day(n: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 10, 1, 3, 0, 0).unwrap() + Duration::days(n)
}

const PRODUCTS: [(&str, &str, i64); 4] = [
    ("KOPI-250", "Kopi Gayo 250 g", 45_000),
    ("GULA-1K", "Gula Aren 1 kg", 32_000),
    ("SUSU-1L", "Susu Segar 1 L", 21_500),
    ("TEH-100", "Teh Melati 100 g", 15_000),
];

fn products() -> Vec<Product> {
    PRODUCTS
        .iter()
        .map(|(id, name, price)| {
            Product::new(
                ProductId::parse(id).unwrap(),
                name,
                Rupiah(*price),
                vec!["Minuman".into()],
            )
        })
        .collect()
}

fn order(invoice: &str, customer: &str, products: &[&str], paid: DateTime<Utc>) -> Order {
    let mut o = contract::order(invoice, products[0], 1);
    for p in &products[1..] {
        let mut line = o.lines[0].clone();
        line.product = Some(ProductId::parse(p).unwrap());
        line.name = p.to_string();
        o.lines.push(line);
    }
    o.customer = CustomerId(customer.into());
    o.paid_at = paid;
    o.created_at = paid;
    o.updated_at = paid;
    o
}

/// Sari buys coffee every 10 days (days 0, 10, 20); Budi buys coffee and sugar on day 25;
/// Wati buys milk with sugar, and coffee with sugar, early on.
fn orders() -> Vec<Order> {
    vec![
        order("INV/1", "628111", &["KOPI-250"], day(0)),
        order("INV/2", "628111", &["KOPI-250"], day(10)),
        order("INV/3", "628111", &["KOPI-250"], day(20)),
        order("INV/4", "628222", &["KOPI-250", "GULA-1K"], day(25)),
        order("INV/5", "628333", &["SUSU-1L", "GULA-1K"], day(2)),
        order("INV/6", "628333", &["KOPI-250", "GULA-1K", "SUSU-1L"], day(3)),
        order("INV/7", "628444", &["KOPI-250", "SUSU-1L"], day(4)),
    ]
}

fn customers(orders: &[Order]) -> Vec<Customer> {
    let mut out = crate::loyalty::customers::derive_customers(orders);
    for c in &mut out {
        c.phone = Some(c.id.0.clone());
        c.name = match c.id.0.as_str() {
            "628111" => Some("Sari Dewi".into()),
            "628222" => Some("Budi".into()),
            _ => None,
        };
    }
    out
}

fn model(orders: &[Order]) -> ShopModel {
    crate::model::build_model(products(), orders, &RecommendSettings::default())
}

/// The shop's orders, customers and model, built once per test.
struct Fixture {
    orders: Vec<Order>,
    customers: Vec<Customer>,
    model: ShopModel,
}

impl Fixture {
    fn new() -> Fixture {
        let orders = orders();
        Fixture {
            customers: customers(&orders),
            model: model(&orders),
            orders,
        }
    }

    fn data(&self) -> ShopData<'_> {
        ShopData {
            customers: &self.customers,
            orders: &self.orders,
            model: &self.model,
        }
    }
}

const TEMPLATES: &str = r#"
message.id = "Halo {{ customer.name }}, {% for p in products %}{{ p.name }} {{ p.price }}{% if not loop.last %}, {% endif %}{% endfor %}{% if tier %} — tier {{ tier.name }} diskon {{ tier.discount_pct }}%{% endif %} ({{ 150000 | rupiah }})"
message.en = "Hi {{ customer.name }}, {% for p in products %}{{ p.name }} {{ p.price }}{% if not loop.last %}, {% endif %}{% endfor %}"
"#;

fn shop(extra: &str) -> ShopSettings {
    let text =
        format!("[[shops]]\nid = \"toko\"\nname = \"Toko Kopi\"\ntimezone = \"Asia/Jakarta\"\n{extra}");
    Settings::from_toml(&text, std::path::Path::new("t.toml"), &[])
        .unwrap()
        .shops
        .remove(0)
}

fn automation(kind: &str, more: &str) -> String {
    format!("[[shops.automations]]\nkind = \"{kind}\"\n{more}\n{TEMPLATES}\n")
}

#[test]
fn replenish_waits_for_the_customers_own_interval() {
    let f = Fixture::new();
    let data = f.data();
    let shop = shop(&automation("replenish", ""));
    let a = &shop.automations[0];
    // Sari's coffee: every 10 days, last on day 20, so due from day 30 for within_days (7).
    assert!(candidates(a, &data, day(29)).is_empty());
    let due = candidates(a, &data, day(31));
    assert_eq!(due.len(), 1, "{due:?}");
    assert_eq!(due[0].customer.0, "628111");
    assert_eq!(due[0].products[0].id.as_str(), "KOPI-250");
    let reason = due[0].reason.english();
    assert!(reason.contains("about every 10 days"), "{reason}");
    assert!(
        candidates(a, &data, day(37) + Duration::hours(1)).is_empty(),
        "past the window"
    );
}

#[test]
fn post_purchase_suggests_from_the_model_what_goes_with_the_purchase() {
    let f = Fixture::new();
    let data = f.data();
    let shop = shop(&automation("post_purchase", "after_days = 3\nproducts = 2"));
    let a = &shop.automations[0];
    // Budi paid INV/4 on day 25: due from day 28 for 7 days.
    assert!(candidates(a, &data, day(27)).iter().all(|c| c.period != "INV/4"));
    let due = candidates(a, &data, day(29));
    let budi: Vec<_> = due.iter().filter(|c| c.period == "INV/4").collect();
    assert_eq!(budi.len(), 1, "{due:?}");
    let suggested: Vec<&str> = budi[0].products.iter().map(|p| p.id.as_str()).collect();
    assert!(!suggested.is_empty() && suggested.len() <= 2, "{suggested:?}");
    assert!(
        !suggested.contains(&"KOPI-250") && !suggested.contains(&"GULA-1K"),
        "never what was just bought: {suggested:?}"
    );
    // Milk is what coffee-and-sugar buyers bought besides: the co-purchase model's first pick.
    assert_eq!(suggested[0], "SUSU-1L");
}

#[test]
fn win_back_takes_the_lapsing_segments_and_tier_up_only_a_climb() {
    let mut f = Fixture::new();
    f.model.loyalty.ladder = vec![
        crate::loyalty::tiers::Tier {
            name: "Perunggu".into(),
            discount_pct: 0.0,
            min_spend: Rupiah(0),
        },
        crate::loyalty::tiers::Tier {
            name: "Perak".into(),
            discount_pct: 5.0,
            min_spend: Rupiah(100_000),
        },
    ];
    for c in &mut f.customers {
        match c.id.0.as_str() {
            "628333" => c.segment = Some("At risk".into()),
            "628444" => c.segment = Some("Lost".into()),
            "628111" => {
                c.segment = Some("Champions".into());
                c.tier_history = vec![(day(0), "Perunggu".into()), (day(20), "Perak".into())];
            }
            // Entering the ladder on its first rung is no climb.
            "628222" => c.tier_history = vec![(day(25), "Perunggu".into())],
            _ => {}
        }
    }
    let data = f.data();
    let shop = shop(&format!(
        "{}{}",
        automation("win_back", ""),
        automation("tier_up", "within_days = 14")
    ));
    let win_back = candidates(&shop.automations[0], &data, day(60));
    assert_eq!(win_back.len(), 1);
    assert_eq!(win_back[0].customer.0, "628333");
    assert_eq!(win_back[0].period, "At risk@2026-10-04");
    let tier_up = candidates(&shop.automations[1], &data, day(30));
    assert_eq!(tier_up.len(), 1, "{tier_up:?}");
    assert_eq!(tier_up[0].customer.0, "628111");
    let tier = tier_up[0].tier.as_ref().unwrap();
    assert_eq!(
        (tier.name.as_str(), tier.discount_pct, tier.previous.as_deref()),
        ("Perak", 5.0, Some("Perunggu"))
    );
    assert!(
        candidates(&shop.automations[1], &data, day(35)).is_empty(),
        "past within_days"
    );
}

#[test]
fn a_plan_keeps_once_per_period_opt_outs_and_the_weekly_cap() {
    let f = Fixture::new();
    let data = f.data();
    // Sari qualifies for both at day 31: a replenish of coffee and (with after_days 11) a
    // post-purchase of INV/3; the cap of 1 lets one through.
    let shop = shop(&format!(
        "[shops.outreach]\nweekly_cap = 1\n{}{}",
        automation("replenish", ""),
        automation("post_purchase", "after_days = 11")
    ));
    let now = day(31);
    let first = plan(&shop, &data, &[], &[], now);
    let sari: Vec<_> = first
        .messages
        .iter()
        .filter(|m| m.customer.0 == "628111")
        .collect();
    assert_eq!(sari.len(), 1, "{:?}", first.messages);
    assert_eq!(sari[0].automation, "replenish");
    assert_eq!(sari[0].channel, Channel::Outbox, "no webhook: the outbox");
    assert_eq!(sari[0].status, MessageStatus::Due);
    assert_eq!(
        sari[0].key,
        message_key(&shop, "replenish", &sari[0].customer, &sari[0].period)
    );
    assert!(first.held.iter().any(|h| h.customer.0 == "628111"
        && h.automation == "post_purchase"
        && h.reason.starts_with("weekly cap")));

    // Run again: nothing new, whatever the status of what was recorded.
    let mut recorded = first.messages.clone();
    recorded[0].status = MessageStatus::Sent;
    let again = plan(&shop, &data, &recorded, &[], now + Duration::hours(1));
    assert!(again.messages.is_empty(), "{:?}", again.messages);
    assert_eq!(again.recorded_before, first.messages.len());
    assert_eq!(again.already.len(), first.messages.len());
    assert!(again
        .already
        .iter()
        .any(|r| r.key == recorded[0].key && r.status == MessageStatus::Sent));
    // The post-purchase waits for the cap: still capped an hour later.
    assert!(again.held.iter().any(|h| h.reason.starts_with("weekly cap")));
    let week_on = plan(
        &shop,
        &data,
        &recorded,
        &[],
        now + Duration::days(7) + Duration::hours(1),
    );
    assert!(
        week_on.messages.iter().all(|m| m.period != "INV/3"),
        "INV/3 left its window meanwhile"
    );

    // An opt-out by phone holds every message to that customer.
    let out = OptOut {
        customer: CustomerId("someone-else".into()),
        phone: Some("628111".into()),
        at: now,
        note: String::new(),
    };
    let opted = plan(&shop, &data, &[], &[out], now);
    assert!(opted.messages.iter().all(|m| m.customer.0 != "628111"));
    assert!(opted
        .held
        .iter()
        .any(|h| h.customer.0 == "628111" && h.reason == "opted out"));
}

#[test]
fn templates_render_in_both_languages_with_rupiah() {
    let f = Fixture::new();
    let data = f.data();
    for (language, want) in [
        ("id", "Halo Sari, Kopi Gayo 250 g Rp45.000 (Rp150.000)"),
        ("en", "Hi Sari, Kopi Gayo 250 g Rp45.000"),
    ] {
        let shop = shop(&format!(
            "[shops.outreach]\nlanguage = \"{language}\"\n{}",
            automation("replenish", "")
        ));
        let p = plan(&shop, &data, &[], &[], day(31));
        assert_eq!(p.messages.len(), 1);
        assert_eq!(p.messages[0].text, want);
        assert_eq!(p.messages[0].language, language);
    }
    // No name: "Kak" / "there".
    let shop = shop(&automation("win_back", "segments = [\"Potential\", \"New\", \"At risk\", \"Hibernating\", \"Lost\", \"Loyal\", \"Champions\"]"));
    let mut nameless = Fixture::new();
    for c in &mut nameless.customers {
        c.segment = Some("Lost".into());
    }
    let data = nameless.data();
    let p = plan(&shop, &data, &[], &[], day(40));
    let wati = p.messages.iter().find(|m| m.customer.0 == "628333").unwrap();
    assert!(wati.text.starts_with("Halo Kak, "), "{}", wati.text);
}

#[test]
fn quiet_hours_say_when_they_end_in_the_shops_time() {
    let shop = shop("[shops.outreach]\nquiet_hours = \"21:00-08:00\"\n");
    // 22:30 WIB = 15:30 UTC: quiet until 08:00 WIB = 01:00 UTC the next day.
    let late = Utc.with_ymd_and_hms(2026, 12, 6, 15, 30, 0).unwrap();
    assert_eq!(
        super::quiet_until(&shop, late),
        Some(Utc.with_ymd_and_hms(2026, 12, 7, 1, 0, 0).unwrap())
    );
    let noon = Utc.with_ymd_and_hms(2026, 12, 6, 5, 0, 0).unwrap();
    assert_eq!(super::quiet_until(&shop, noon), None);
}

// ---- delivery to a webhook receiver on 127.0.0.1 ----

mod delivery {
    use std::collections::VecDeque;
    use std::sync::{Arc, Mutex};

    use hmac::{Hmac, Mac};
    use sha2::Sha256;
    use warp::Filter;

    use super::*;
    use crate::outreach::deliver_due;
    use crate::store::SharedStore;

    const SECRET: &str = "test-secret-0123456789abcdef";

    #[derive(Debug, Clone)]
    struct Received {
        signature: String,
        idempotency_key: String,
        body: Vec<u8>,
        answered: u16,
    }

    /// A webhook receiver answering the scripted statuses in turn (200 once they run out).
    struct Receiver {
        url: String,
        got: Arc<Mutex<Vec<Received>>>,
    }

    async fn receiver(script: &[u16]) -> Receiver {
        let got: Arc<Mutex<Vec<Received>>> = Arc::default();
        let script = Arc::new(Mutex::new(script.iter().copied().collect::<VecDeque<u16>>()));
        let (g, s) = (got.clone(), script.clone());
        let route = warp::post()
            .and(warp::header::<String>("laris-signature"))
            .and(warp::header::<String>("idempotency-key"))
            .and(warp::body::bytes())
            .map(move |signature: String, key: String, body: bytes::Bytes| {
                let status = s.lock().unwrap().pop_front().unwrap_or(200);
                g.lock().unwrap().push(Received {
                    signature,
                    idempotency_key: key,
                    body: body.to_vec(),
                    answered: status,
                });
                warp::reply::with_status("", warp::http::StatusCode::from_u16(status).unwrap())
            });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(warp::serve(route).incoming(listener).run());
        Receiver { url, got }
    }

    /// What a receiver does with the signature header: recompute and compare.
    fn verifies(r: &Received) -> bool {
        let (Some(t), Some(v1)) = (
            r.signature.split(',').find_map(|p| p.strip_prefix("t=")),
            r.signature.split(',').find_map(|p| p.strip_prefix("v1=")),
        ) else {
            return false;
        };
        let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
        mac.update(format!("{t}.").as_bytes());
        mac.update(&r.body);
        let fresh = (Utc::now().timestamp() - t.parse::<i64>().unwrap_or(0)).abs() < 300;
        let expected: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        fresh && expected == v1
    }

    fn webhook_shop(url: &str, tries: u32, extra: &str) -> ShopSettings {
        shop(&format!(
            "[shops.outreach]\nwebhook_url = \"{url}\"\nwebhook_secret = \"{SECRET}\"\nwebhook_tries = {tries}\nwebhook_backoff_secs = 1\n{extra}\n{}",
            automation("replenish", "")
        ))
    }

    /// A store holding the plan of the fixture shop at day 31: one message to Sari.
    fn recorded(shop: &ShopSettings, dir: &std::path::Path) -> SharedStore {
        let store: SharedStore = Arc::new(crate::store::Store::open(dir).unwrap());
        let f = Fixture::new();
        let data = f.data();
        let p = plan(shop, &data, &[], &[], Utc::now() - Duration::minutes(1));
        assert_eq!(
            p.messages.len(),
            0,
            "the fixture's dates are in 2026-10; nothing is due today"
        );
        let p = plan(shop, &data, &[], &[], day(31));
        assert_eq!(p.messages.len(), 1);
        let mut m = p.messages[0].clone();
        // Recorded now, due now.
        m.created_at = Utc::now();
        m.next_try = Some(m.created_at);
        assert_eq!(store.add_messages(&shop.id, &[m]).unwrap(), 1);
        store
    }

    fn client() -> reqwest::Client {
        reqwest::Client::builder().no_proxy().build().unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_500_then_200_delivers_once_signed_with_one_idempotency_key() {
        let r = receiver(&[500]).await;
        let shop = webhook_shop(&r.url, 5, "");
        let dir = tempfile::tempdir().unwrap();
        let store = recorded(&shop, dir.path());
        let first = deliver_due(&store, &shop, &client(), Utc::now()).await.unwrap();
        assert_eq!((first.delivered, first.retried), (0, 1));
        let m = &store.messages(&shop.id).unwrap()[0];
        assert_eq!((m.status, m.tries), (MessageStatus::Due, 1));
        assert!(
            m.last_error.as_deref().unwrap().contains("500"),
            "{:?}",
            m.last_error
        );
        // Not due again before its backoff…
        let early = deliver_due(&store, &shop, &client(), Utc::now()).await.unwrap();
        assert_eq!(early.delivered + early.retried, 0);
        assert!(early.next.is_some());
        // …then delivered.
        let later = m.next_try.unwrap() + Duration::milliseconds(10);
        let second = deliver_due(&store, &shop, &client(), later).await.unwrap();
        assert_eq!(second.delivered, 1);
        let m = &store.messages(&shop.id).unwrap()[0];
        assert_eq!((m.status, m.tries), (MessageStatus::Sent, 2));
        // Nothing more to do.
        let none = deliver_due(&store, &shop, &client(), later + Duration::hours(1))
            .await
            .unwrap();
        assert_eq!(none, Default::default());

        let got = r.got.lock().unwrap().clone();
        assert_eq!(got.iter().map(|g| g.answered).collect::<Vec<_>>(), [500, 200]);
        assert!(
            got.iter().all(verifies),
            "every try is signed with the shop's secret"
        );
        assert!(got.iter().all(|g| g.idempotency_key == m.key));
        let body: serde_json::Value = serde_json::from_slice(&got[1].body).unwrap();
        assert_eq!(body["id"], m.key.as_str());
        assert_eq!(body["attempt"], 2);
        assert_eq!(body["customer"]["phone"], "628111");
        assert_eq!(body["text"], m.text.as_str());
        assert!(body["whatsapp_url"]
            .as_str()
            .unwrap()
            .starts_with("https://wa.me/628111?text=Halo%20Sari"));
        // A tampered body no longer verifies.
        let mut tampered = got[1].clone();
        tampered.body[5] ^= 1;
        assert!(!verifies(&tampered));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_message_is_given_up_after_its_tries_and_a_4xx_fails_at_once() {
        let r = receiver(&[503, 503, 503]).await;
        let shop = webhook_shop(&r.url, 2, "");
        let dir = tempfile::tempdir().unwrap();
        let store = recorded(&shop, dir.path());
        deliver_due(&store, &shop, &client(), Utc::now()).await.unwrap();
        let d = deliver_due(&store, &shop, &client(), Utc::now() + Duration::minutes(5))
            .await
            .unwrap();
        assert_eq!(d.failed, 1);
        let m = &store.messages(&shop.id).unwrap()[0];
        assert_eq!((m.status, m.tries), (MessageStatus::Failed, 2));
        assert!(
            m.last_error
                .as_deref()
                .unwrap()
                .starts_with("gave up after 2 tries"),
            "{:?}",
            m.last_error
        );
        assert_eq!(r.got.lock().unwrap().len(), 2);

        let r = receiver(&[422]).await;
        let shop = webhook_shop(&r.url, 5, "");
        let dir = tempfile::tempdir().unwrap();
        let store = recorded(&shop, dir.path());
        let d = deliver_due(&store, &shop, &client(), Utc::now()).await.unwrap();
        assert_eq!(d.failed, 1);
        let m = &store.messages(&shop.id).unwrap()[0];
        assert_eq!((m.status, m.tries), (MessageStatus::Failed, 1));
        assert!(m.last_error.as_deref().unwrap().contains("422"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn quiet_hours_and_opt_outs_hold_delivery() {
        let r = receiver(&[]).await;
        // Quiet all day but one minute: whenever this runs, it is quiet (or a minute before).
        let now = Utc::now();
        let wib = now + Duration::hours(7);
        let minute = |t: DateTime<Utc>| t.format("%H:%M").to_string();
        let quiet = format!(
            "quiet_hours = \"{}-{}\"",
            minute(wib),
            minute(wib - Duration::minutes(1))
        );
        let shop = webhook_shop(&r.url, 5, &quiet);
        let dir = tempfile::tempdir().unwrap();
        let store = recorded(&shop, dir.path());
        let d = deliver_due(&store, &shop, &client(), now).await.unwrap();
        assert_eq!(d.delivered, 0);
        assert!(
            d.next.unwrap() > now + Duration::hours(23),
            "waits for the quiet hours' end"
        );
        assert!(r.got.lock().unwrap().is_empty());

        let shop = webhook_shop(&r.url, 5, "");
        let dir = tempfile::tempdir().unwrap();
        let store = recorded(&shop, dir.path());
        store
            .put_opt_out(
                &shop.id,
                &OptOut {
                    customer: CustomerId("628111".into()),
                    phone: Some("628111".into()),
                    at: now,
                    note: "asked by phone".into(),
                },
            )
            .unwrap();
        let d = deliver_due(&store, &shop, &client(), now).await.unwrap();
        assert_eq!(d.cancelled, 1);
        assert_eq!(
            store.messages(&shop.id).unwrap()[0].status,
            MessageStatus::Cancelled
        );
        assert!(r.got.lock().unwrap().is_empty(), "nothing reaches the webhook");
    }
}
