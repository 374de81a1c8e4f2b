//! Integration tests: the real server on port 0 with a temporary store, and the real
//! `laris` binary for the CLI.

mod helpers;

mod admin;
mod analyst;
mod chat;
mod cli;
mod experiment;
mod experiment_report;
mod feedback;
mod foundation;
mod hostile;
mod install;
mod isolation;
mod limits;
mod loyalty;
mod openapi;
mod outreach;
mod recommendations;
mod serving;
mod settings;
mod signin;
mod store_copy;
mod sync;
mod tiktok_mock;
mod tiktok_shop;
mod upload;
mod widget;
