//! Integration tests: the real server on port 0 with a temporary store, and the real
//! `laris` binary for the CLI.

mod helpers;

mod cli;
mod foundation;
