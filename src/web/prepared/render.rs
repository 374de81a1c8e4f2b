//! An answer that is not kept yet, made as the normal route makes it
//! (`web::fragments::{batched_answer, single_answer}`) and turned into a [`Prepared`] one;
//! `None` for what must not be kept (the feedback form, a customer's own list) and for an
//! error, which the normal route then answers.

use std::collections::HashMap;

use crate::config::experiment::ControlShows;
use crate::config::ShopSettings;
use crate::domain::{CustomerId, Slot};
use crate::web::fragments::{batched_answer, etag_of, parse_slots, single_answer};
use crate::web::prepared::cache::Prepared;
use crate::web::state::AppState;

/// What the request asks, as the normal route reads it.
pub struct Ask<'a> {
    pub shop: &'a ShopSettings,
    /// The slot a single-fragment path names; `None` for the batched path.
    pub slot: Option<&'a str>,
    /// The raw query (distinct, known parameters: `web::prepared::hot` checked).
    pub query: &'a str,
    /// Whom a valid customer token names.
    pub customer: Option<&'a CustomerId>,
    pub host: Option<&'a str>,
    /// What the experiment's control arm sees instead of recommendations, for a visitor in it.
    pub control: Option<ControlShows>,
}

/// The answer to keep for `ask`; `None` when it must be made per request or is an error.
pub fn prepare(state: &AppState, ask: &Ask<'_>) -> Option<Prepared> {
    let q: HashMap<String, String> = url::form_urlencoded::parse(ask.query.as_bytes())
        .into_owned()
        .collect();
    let slots = match ask.slot {
        Some(s) => parse_slots(Some(&s.to_string())).ok()?,
        None => parse_slots(q.get("slots")).ok()?,
    };
    if !keepable(
        &slots,
        ask.customer.is_some(),
        crate::web::chat::depends_on_clock(ask.shop),
    ) {
        return None;
    }
    let answer = match ask.slot {
        None => batched_answer(state, ask.shop, &q, ask.customer, ask.host, ask.control),
        Some(slot) => single_answer(state, ask.shop, slot, &q, ask.customer, ask.host, ask.control),
    }
    .ok()?;
    let etag = etag_of(&answer.body);
    Prepared::new(
        answer.body,
        &etag,
        answer.content_type,
        answer.private,
        answer.vary_host,
    )
    .ok()
}

/// Whether answers with these slots may be kept: not the feedback form (its anti-spam
/// token is made for each request), nor a signed-in customer's own list (it counts the
/// days since their last purchase), nor a chat button of a shop with opening hours
/// (`chat_clock`: it says "open" or "answers from 08:00" by the clock, and a kept answer
/// would go on saying it after the hour turned). Declining is simpler and surely correct
/// where keying by the open/closed state would have to know the next change of state. A
/// chat button without hours is the same bytes for the same query (its `page=` included,
/// which is part of the cache key) and is kept.
pub fn keepable(slots: &[Slot], signed_in: bool, chat_clock: bool) -> bool {
    let made_per_request = slots.contains(&Slot::Feedback)
        || (signed_in && slots.contains(&Slot::ForYou))
        || (chat_clock && slots.contains(&Slot::Chat));
    !made_per_request
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_feedback_form_and_a_customers_own_list_are_never_kept() {
        assert!(keepable(&[Slot::Similar, Slot::Loyalty], true, true));
        assert!(keepable(&[Slot::ForYou], false, false));
        assert!(!keepable(&[Slot::ForYou], true, false));
        assert!(!keepable(&[Slot::Similar, Slot::Feedback], false, false));
    }

    #[test]
    fn a_chat_button_with_opening_hours_is_never_kept() {
        assert!(keepable(&[Slot::Similar, Slot::Chat], false, false));
        assert!(!keepable(&[Slot::Similar, Slot::Chat], false, true));
        assert!(!keepable(&[Slot::Chat], false, true));
    }
}
