//! Getting data in: the shared import pipeline, recordings, and replay.

pub mod pipeline;
pub mod recording;
pub mod replay;
