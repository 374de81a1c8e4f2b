//! Follow-ups: the shop's automations (`[[shops.automations]]`) decide who should get a
//! message and why ([`qualify`]), the rules every automation keeps turn that into messages
//! ([`plan`]: never twice for a customer, trigger and period; opt-outs; a weekly cap per
//! customer), written from the automation's template ([`render`]); the messages are
//! recorded — durably, before anything is sent — and then either POSTed, signed, to the
//! shop's webhook with retries ([`webhook`], by [`deliver_due`]) or left in the admin's
//! outbox for the owner to send by hand.
//!
//! Nothing is sent without the owner's say: a shop without automations gets no messages,
//! and one without a webhook only ever gets outbox entries. The service runs
//! [`run_loop`]: a shop's automations after each of its syncs and at least hourly, its due
//! webhook messages as they fall due (outside its quiet hours). `laris automations preview`
//! shows a run's [`plan`] without recording or sending anything.
//!
//! Several replicas may run the loop over one database: recording is idempotent by the
//! message's key, and each webhook try is taken by one replica through a one-time token in
//! the store's shared state, so a message is tried once per try number. A replica killed
//! during a try leaves the message due with the same try count; the try is made again
//! (after the token's time, at most [`webhook::TRY_TIMEOUT`] and a minute) with the same
//! idempotency key, which the receiver uses to do it once.

pub mod plan;
pub mod qualify;
pub mod render;
pub mod webhook;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, Timelike, Utc};

use crate::config::outreach::is_quiet;
use crate::config::{Settings, ShopSettings};
use crate::model::rebuild::Models;
use crate::model::ShopModel;
use crate::records::{Channel, Message, MessageStatus, OptOut};
use crate::store::{SharedStore, ShopStore, StoreError};
pub use plan::{Held, Plan};
use qualify::ShopData;

/// How often a shop's automations run when no sync comes first.
pub const RUN_EVERY: Duration = Duration::from_secs(3600);

/// The longest the loop sleeps between two looks at the due messages.
const LOOK_EVERY: Duration = Duration::from_secs(60);

/// What a run of a shop's automations would record at `now`, recording nothing.
pub fn preview(
    store: &dyn ShopStore,
    shop: &ShopSettings,
    model: &ShopModel,
    now: DateTime<Utc>,
) -> Result<Plan, StoreError> {
    let customers = store.customers(&shop.id)?;
    let orders = store.orders(&shop.id)?;
    let data = ShopData {
        customers: &customers,
        orders: &orders,
        model,
    };
    let existing = store.messages(&shop.id)?;
    let opt_outs = store.opt_outs(&shop.id)?;
    Ok(plan::plan(shop, &data, &existing, &opt_outs, now))
}

/// Runs the shop's automations at `now`: records the plan's new messages (durably, in one
/// write); returns the plan and how many were added.
pub fn run_automations(
    store: &dyn ShopStore,
    shop: &ShopSettings,
    model: &ShopModel,
    now: DateTime<Utc>,
) -> Result<(Plan, usize), StoreError> {
    let plan = preview(store, shop, model, now)?;
    let added = store.add_messages(&shop.id, &plan.messages)?;
    Ok((plan, added))
}

/// Whether `m` is to a customer on the opt-out list (the list names the customer's id or
/// phone as it was when they opted out; `plan` also checks linked ids).
pub fn is_opted_out(m: &Message, opt_outs: &[OptOut]) -> bool {
    opt_outs.iter().any(|o| {
        o.customer == m.customer
            || (o.phone.is_some() && o.phone == m.phone)
            || m.phone.as_deref() == Some(o.customer.0.as_str())
    })
}

/// The shop's clock offset.
fn offset(shop: &ShopSettings) -> FixedOffset {
    FixedOffset::east_opt(shop.timezone.offset_seconds)
        .unwrap_or(FixedOffset::east_opt(0).expect("zero offset"))
}

/// When the quiet hours that `now` falls in end; `None` when `now` is not in quiet hours.
pub fn quiet_until(shop: &ShopSettings, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let quiet = shop.outreach.quiet_hours?;
    let local = now.with_timezone(&offset(shop));
    let minute = (local.hour() * 60 + local.minute()) as u16;
    if !is_quiet(quiet, minute) {
        return None;
    }
    let until = (i64::from(quiet.1) - i64::from(minute)).rem_euclid(24 * 60);
    let start_of_minute = now - chrono::Duration::seconds(i64::from(local.second()));
    Some(start_of_minute + chrono::Duration::minutes(until))
}

/// What a delivery pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delivery {
    pub delivered: usize,
    pub retried: usize,
    pub failed: usize,
    pub cancelled: usize,
    /// When the next due message's try is due (or quiet hours end), if any is waiting.
    pub next: Option<DateTime<Utc>>,
}

/// Makes every try that is due at `now` of the shop's webhook messages. Each try is claimed
/// first (a one-time token in the store's shared state: one replica per try), and its
/// outcome is recorded durably before the next.
pub async fn deliver_due(
    store: &SharedStore,
    shop: &ShopSettings,
    client: &reqwest::Client,
    now: DateTime<Utc>,
) -> Result<Delivery, StoreError> {
    let mut out = Delivery::default();
    let Some(hook) = &shop.outreach.webhook else {
        return Ok(out);
    };
    let (due, opt_outs) = {
        let (store, id) = (store.clone(), shop.id.clone());
        blocking(move || {
            let due: Vec<Message> = store
                .messages(&id)?
                .into_iter()
                .filter(|m| m.status == MessageStatus::Due && m.channel == Channel::Webhook)
                .collect();
            let opt_outs = if due.is_empty() {
                Vec::new()
            } else {
                store.opt_outs(&id)?
            };
            Ok((due, opt_outs))
        })
        .await?
    };
    let quiet = quiet_until(shop, now);
    for mut m in due {
        if is_opted_out(&m, &opt_outs) {
            m.status = MessageStatus::Cancelled;
            m.last_error = Some("the customer opted out before it was sent".into());
            update(store, shop, m).await?;
            out.cancelled += 1;
            continue;
        }
        let at = m.next_try.unwrap_or(m.created_at);
        if at > now || quiet.is_some() {
            let wake = at.max(quiet.unwrap_or(at));
            out.next = Some(out.next.map_or(wake, |n| n.min(wake)));
            continue;
        }
        let token = format!("outreach:{}:{}:{}", shop.id, m.key, m.tries);
        let expires = now
            + chrono::Duration::from_std(webhook::TRY_TIMEOUT).unwrap_or_default()
            + chrono::Duration::minutes(1);
        let claimed = {
            let store = store.clone();
            blocking(move || store.shared_state().spend_token(&token, expires, now)).await?
        };
        if !claimed {
            continue;
        }
        let outcome = webhook::try_once(client, hook, &shop.id, &m, now).await;
        m.tries += 1;
        match outcome {
            webhook::Outcome::Delivered => {
                m.status = MessageStatus::Sent;
                m.sent_at = Some(Utc::now());
                m.next_try = None;
                m.last_error = None;
                out.delivered += 1;
                tracing::info!(shop = %shop.id, key = %m.key, automation = %m.automation, tries = m.tries, "message delivered to the webhook");
            }
            webhook::Outcome::Refused { error } => {
                m.status = MessageStatus::Failed;
                m.next_try = None;
                tracing::warn!(shop = %shop.id, key = %m.key, %error, "the webhook refused a message");
                m.last_error = Some(error);
                out.failed += 1;
            }
            webhook::Outcome::Retry { error, retry_after } if m.tries < hook.tries => {
                let wait = webhook::backoff(hook.backoff, m.tries).max(retry_after.unwrap_or_default());
                let next = Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default();
                tracing::warn!(shop = %shop.id, key = %m.key, tries = m.tries, %error, next_try = %next, "a webhook try failed; it is tried again");
                m.next_try = Some(next);
                m.last_error = Some(error);
                out.next = Some(out.next.map_or(next, |n| n.min(next)));
                out.retried += 1;
            }
            webhook::Outcome::Retry { error, .. } => {
                m.status = MessageStatus::Failed;
                m.next_try = None;
                tracing::warn!(shop = %shop.id, key = %m.key, tries = m.tries, %error, "a message failed every webhook try: given up");
                m.last_error = Some(format!("gave up after {} tries; the last: {error}", m.tries));
                out.failed += 1;
            }
        }
        update(store, shop, m).await?;
    }
    Ok(out)
}

/// Writes a try's outcome, unless the message stopped being due meanwhile (the owner
/// marked it sent, or an opt-out cancelled it): their change wins.
async fn update(store: &SharedStore, shop: &ShopSettings, m: Message) -> Result<(), StoreError> {
    let (store, id) = (store.clone(), shop.id.clone());
    blocking(move || match store.message(&id, &m.key)? {
        Some(now) if now.status == MessageStatus::Due => store.update_message(&id, &m).map(|_| ()),
        _ => Ok(()),
    })
    .await
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| StoreError::backend(std::io::Error::other(format!("an outreach task failed: {e}"))))?
}

/// The service's outreach: runs each shop's automations after its syncs (`synced` is
/// notified by the sync agent) and at least every [`RUN_EVERY`], and delivers due webhook
/// messages as they fall due, until `stop` turns true. A store that cannot be reached is
/// tried again at the next look.
pub async fn run_loop(
    settings: Arc<Settings>,
    store: SharedStore,
    models: Arc<Models>,
    synced: Arc<tokio::sync::Notify>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let shops: Vec<&ShopSettings> = settings
        .shops
        .iter()
        .filter(|s| !s.automations.is_empty())
        .collect();
    if shops.is_empty() {
        return;
    }
    let client = match reqwest::Client::builder()
        .user_agent(concat!("laris/", env!("CARGO_PKG_VERSION")))
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "cannot make the webhook client: no messages are delivered");
            return;
        }
    };
    let mut last_run: HashMap<&str, (std::time::Instant, u64)> = HashMap::new();
    let mut woken = true;
    loop {
        if *stop.borrow() {
            return;
        }
        let now = Utc::now();
        let mut next: Option<DateTime<Utc>> = None;
        for shop in &shops {
            let Some(model) = models.get(&shop.id) else {
                continue;
            };
            let generation = models.generation();
            let due = match last_run.get(shop.id.as_str()) {
                None => true,
                Some((at, seen)) => at.elapsed() >= RUN_EVERY || (woken && *seen != generation),
            };
            if due || woken {
                let (store, shop_c) = (store.clone(), (*shop).clone());
                match blocking(move || run_automations(&*store, &shop_c, &model, now)).await {
                    Ok((plan, added)) => {
                        last_run.insert(shop.id.as_str(), (std::time::Instant::now(), generation));
                        if added > 0 || !plan.held.is_empty() {
                            tracing::info!(shop = %shop.id, recorded = added, held = plan.held.len(), "automations ran");
                        }
                    }
                    Err(e) => {
                        tracing::warn!(shop = %shop.id, error = %e, "automations could not run; tried again at the next look")
                    }
                }
            }
            match deliver_due(&store, shop, &client, now).await {
                Ok(d) => {
                    if let Some(n) = d.next {
                        next = Some(next.map_or(n, |x| x.min(n)));
                    }
                }
                Err(e) => {
                    tracing::warn!(shop = %shop.id, error = %e, "cannot deliver messages now; tried again at the next look")
                }
            }
        }
        let sleep = next
            .and_then(|n| (n - Utc::now()).to_std().ok())
            .unwrap_or(Duration::ZERO)
            .max(Duration::from_millis(200));
        let sleep = if next.is_some() {
            sleep.min(LOOK_EVERY)
        } else {
            LOOK_EVERY
        };
        woken = false;
        tokio::select! {
            _ = tokio::time::sleep(sleep) => {}
            _ = synced.notified() => woken = true,
            _ = stop.changed() => return,
        }
    }
}

#[cfg(test)]
mod tests;
