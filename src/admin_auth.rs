//! Who may open the shop owner's admin pages: argon2id password hashes, from config or kept
//! in the data directory by `laris admin set-password` ([`credentials`]); sessions
//! behind an `HttpOnly` cookie with a CSRF token each ([`sessions`]); the limits on wrong
//! passwords ([`limits`]); and the bounded pool that checks passwords ([`checks`]). The
//! request filters that admit a session cookie or the admin bearer token are HTTP, and live
//! with the routes (`web::admin::auth`).
//!
//! Users: `admin` sees every shop; a user named by a shop's id sees only that shop. Sessions
//! and the wrong-password counts live in the store's shared state: in memory with sled (a
//! restart signs everyone out, no session secret is ever on disk), in the database with
//! PostgreSQL, shared by every replica (session ids only as SHA-256).

pub mod checks;
pub mod credentials;
pub mod limits;
pub mod sessions;

pub use crate::domain::password::{
    hash_password, verify_password, PasswordError, PhcHash, ADMIN_USER, MIN_PASSWORD_CHARS,
};
pub use credentials::{
    load_password_hashes, save_password_hash, Access, AuthError, Credentials, PASSWORD_FILE,
};
pub use limits::client_key;
pub use sessions::{
    clearing_cookie, csrf_ok, session_cookie, LoginError, Session, Sessions, COOKIE_NAME, CSRF_HEADER,
};
