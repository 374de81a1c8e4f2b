//! Hand-made products and orders for the evaluation's unit tests.

use chrono::{DateTime, TimeZone, Utc};

use crate::domain::{CustomerId, OrderStatus, PackSize, ProductId, Rupiah};
use crate::records::{Order, OrderLine, Product, ProductStatus};

pub fn product(id: &str, name: &str, price: i64, category: &[&str], attrs: &[(&str, &str)]) -> Product {
    Product {
        id: ProductId::parse(id).unwrap(),
        marketplace_id: None,
        name: name.to_string(),
        sku: Some(id.to_string()),
        price: Rupiah(price),
        stock: Some(10),
        status: ProductStatus::Active,
        category: category.iter().map(|s| s.to_string()).collect(),
        weight_grams: None,
        pack: PackSize::find_in(name),
        attributes: attrs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        description: String::new(),
        image: None,
        url: None,
        sold_count: None,
        updated_at: DateTime::<Utc>::UNIX_EPOCH,
    }
}

/// Day `day` of 2026 (1-based), at `hour` UTC.
pub fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, hour, 0, 0).unwrap() + chrono::Duration::days(i64::from(day) - 1)
}

/// A finished (700) order of `customer` paid at `paid`, one unit of each product at Rp10.000.
pub fn order(invoice: &str, customer: &str, paid: DateTime<Utc>, products: &[&str]) -> Order {
    let lines: Vec<OrderLine> = products
        .iter()
        .map(|p| OrderLine {
            product: Some(ProductId::parse(p).unwrap()),
            marketplace_product_id: None,
            sku: Some(p.to_string()),
            name: p.to_string(),
            quantity: 1,
            unit_price: Rupiah(10_000),
        })
        .collect();
    Order {
        invoice: invoice.to_string(),
        marketplace_id: None,
        customer: CustomerId(customer.to_string()),
        buyer_name: None,
        phone: None,
        city: None,
        status: OrderStatus(700),
        created_at: paid,
        paid_at: paid,
        updated_at: paid,
        products_total: Rupiah(10_000 * products.len() as i64),
        shipping: Rupiah(0),
        lines,
    }
}

/// The same order, cancelled by the seller.
pub fn cancelled(mut o: Order) -> Order {
    o.status = OrderStatus(0);
    o
}

/// Seed 000's galangal shop in miniature (the demo shop's SKUs).
pub fn catalogue() -> Vec<Product> {
    const MM: &str = "Makanan & Minuman";
    vec![
        product(
            "SRD-100",
            "Serundeng Lengkuas 100 g",
            20000,
            &[MM, "Lauk Kering"],
            &[("bentuk", "butiran"), ("rasa", "gurih")],
        ),
        product(
            "SRD-PDS-100",
            "Serundeng Lengkuas Pedas 100 g",
            21000,
            &[MM, "Lauk Kering"],
            &[("bentuk", "butiran"), ("rasa", "pedas")],
        ),
        product(
            "SRD-250P",
            "Serundeng Lengkuas Premium 250 g",
            45000,
            &[MM, "Lauk Kering"],
            &[("bentuk", "butiran"), ("rasa", "gurih")],
        ),
        product(
            "TPG-100",
            "Tepung Lengkuas 100 g",
            15000,
            &[MM, "Bumbu & Rempah"],
            &[("bentuk", "bubuk"), ("rasa", "original")],
        ),
        product(
            "TPG-250P",
            "Tepung Lengkuas Premium 250 g",
            32000,
            &[MM, "Bumbu & Rempah"],
            &[("bentuk", "bubuk"), ("rasa", "original")],
        ),
        product(
            "SBL-150",
            "Sambal Lengkuas 150 g",
            18000,
            &[MM, "Sambal"],
            &[("bentuk", "pasta"), ("rasa", "pedas")],
        ),
        product(
            "KRP-80",
            "Keripik Lengkuas 80 g",
            12000,
            &[MM, "Camilan"],
            &[("bentuk", "keripik"), ("rasa", "manis-gurih")],
        ),
        product(
            "HMP-01",
            "Paket Hampers Lengkuas",
            55000,
            &[MM, "Paket & Hampers"],
            &[("bentuk", "paket"), ("rasa", "campuran")],
        ),
    ]
}

/// Orders over the catalogue: complementary pairs (serundeng + tepung, sambal + keripik),
/// returning customers, one cancellation. Days 1–40.
pub fn orders() -> Vec<Order> {
    let mut out = Vec::new();
    let pairs: [&[&str]; 6] = [
        &["SRD-100", "TPG-100"],
        &["SBL-150", "KRP-80"],
        &["SRD-100"],
        &["SRD-250P", "TPG-250P"],
        &["TPG-100", "SRD-100", "KRP-80"],
        &["HMP-01"],
    ];
    for i in 0..40u32 {
        let customer = format!("c{}", i % 9);
        let basket = pairs[(i as usize * 5) % pairs.len()];
        out.push(order(&format!("INV-{i:03}"), &customer, at(i + 1, 10), basket));
    }
    out.push(cancelled(order(
        "INV-X1",
        "c1",
        at(38, 11),
        &["SRD-PDS-100", "HMP-01"],
    )));
    out
}
