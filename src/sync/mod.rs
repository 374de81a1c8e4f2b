//! Getting data in: the sources a shop configures (marketplace API, export files,
//! storefront pages), the agent that runs them on schedule or on demand, the shared import
//! pipeline, recordings and replay, and the mock marketplace testers point laris at.

pub mod agent;
pub mod api;
pub mod files;
pub mod http;
pub mod pages;
pub mod pipeline;
pub mod recording;
pub mod replay;
pub mod schedule;
pub mod tiktok_shop;
