//! Loyalty: what a customer has earned. Customers derived from paid orders, the tier ladder
//! and each customer's standing on it, RFM segments, and the signed customer tokens with
//! which a shop's site tells the widget who is looking. Pure code over plain data, apart
//! from the token's HMAC.

pub mod customers;
pub mod identity;
pub mod segments;
pub mod tiers;
pub mod token;
