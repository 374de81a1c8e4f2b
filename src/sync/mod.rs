//! Getting data in: the shared import pipeline, recordings, replay, and the mock
//! marketplace that serves a recording over HTTP.

pub mod mock;
pub mod pipeline;
pub mod recording;
pub mod replay;
