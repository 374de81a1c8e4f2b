//! The feedback page: the shop's messages from the widget's form, and their status.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::admin::views::queries::{msg, PageError};
use crate::config::ShopSettings;
use crate::records::{Feedback, FeedbackStatus};
use crate::store::ShopStore;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeedbackPage {
    /// Newest first.
    pub messages: Vec<Feedback>,
    /// Messages per status: `new`, `read`, `answered`.
    pub counts: BTreeMap<String, usize>,
}

pub fn feedback(store: &dyn ShopStore, shop: &ShopSettings) -> Result<FeedbackPage, PageError> {
    let messages = store.feedback(&shop.id)?;
    let mut counts: BTreeMap<String, usize> = [
        FeedbackStatus::New,
        FeedbackStatus::Read,
        FeedbackStatus::Answered,
    ]
    .iter()
    .map(|s| (s.as_str().to_string(), 0))
    .collect();
    for m in &messages {
        *counts.entry(m.status.as_str().to_string()).or_default() += 1;
    }
    Ok(FeedbackPage { messages, counts })
}

/// Sets a message's status and returns the message as it now is.
pub fn set_feedback_status(
    store: &dyn ShopStore,
    shop: &ShopSettings,
    id: u64,
    status: FeedbackStatus,
) -> Result<Feedback, PageError> {
    let missing = || {
        PageError::NotFound(msg(
            "unknown feedback message {id} in shop {shop}",
            &[("id", &id.to_string()), ("shop", shop.id.as_str())],
        ))
    };
    if !store.set_feedback_status(&shop.id, id, status)? {
        return Err(missing());
    }
    store
        .feedback(&shop.id)?
        .into_iter()
        .find(|f| f.id == id)
        .ok_or_else(missing)
}
