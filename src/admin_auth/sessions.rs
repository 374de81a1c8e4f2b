//! Sign-in and the live sessions: a session is 32 random bytes in an `HttpOnly` cookie,
//! with a CSRF token of its own that forms and scripts send back. Sessions are kept in the
//! store's shared state ([`crate::store::SharedState`]): in memory with sled (a restart
//! signs everyone out), in the database with PostgreSQL, where a session made on one
//! replica works on every other and signing out on one ends it everywhere (the database
//! keeps the SHA-256 of a session id, never the id).

use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use argon2::password_hash::rand_core::{OsRng, RngCore};
use base64::Engine;
use subtle::ConstantTimeEq;
use thiserror::Error;

use crate::admin_auth::checks::{self, Admission, PasswordChecks};
use crate::admin_auth::credentials::{Access, Credentials};
use crate::admin_auth::limits::{Clock, Refusal, SignInLimits, Unlocked};
use crate::config::AdminSettings;
use crate::domain::password::PhcHash;
use crate::store::{SharedState, StoreError};

/// The session cookie's name.
pub const COOKIE_NAME: &str = "laris_session";
/// The header a script on an admin page sends its session's CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// A signed-in user. The id and CSRF token are secrets, so `Debug` leaves them out.
#[derive(Clone)]
pub struct Session {
    /// 32 random bytes, base64url: the cookie's value.
    pub id: String,
    pub access: Access,
    /// Random per session; forms carry it in a hidden `csrf` field.
    pub csrf: String,
    pub expires: Instant,
    /// How long the session lasts from sign-in: the cookie's `Max-Age`.
    pub lifetime: Duration,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("access", &self.access)
            .field("expires", &self.expires)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LoginError {
    /// The same answer for an unknown user and a wrong password.
    #[error("wrong user name or password")]
    Invalid,
    /// Refused without looking at the password, so guessing cannot go on from this address.
    #[error("too many wrong passwords: try again in {retry_after_secs} seconds")]
    TooMany { retry_after_secs: u64 },
    /// Refused because wrong passwords from many addresses spent the shared budget.
    #[error("many wrong passwords on this server lately: try again in {retry_after_secs} seconds")]
    SlowDown { retry_after_secs: u64 },
    /// Every password check and waiting place is taken.
    #[error("the server is checking other sign-ins: try again in {retry_after_secs} seconds")]
    Busy { retry_after_secs: u64 },
    #[error("no admin password is set: run `laris admin set-password` on the server")]
    NotConfigured,
    /// The store that keeps sessions and sign-in counts did not answer (logged).
    #[error("the session store is not answering: try again in a minute")]
    Unavailable,
}

impl LoginError {
    /// The `Retry-After` of a refusal (all answered 429).
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            LoginError::TooMany { retry_after_secs }
            | LoginError::SlowDown { retry_after_secs }
            | LoginError::Busy { retry_after_secs } => Some(*retry_after_secs),
            LoginError::Invalid | LoginError::NotConfigured | LoginError::Unavailable => None,
        }
    }
}

/// Sign-in, the live sessions, the limits on wrong passwords and the pool that checks them.
pub struct Sessions {
    /// Swapped by [`Sessions::set_credentials`] when a password changes while running.
    credentials: Mutex<Credentials>,
    lifetime: Duration,
    /// Live sessions by id, with the sign-in counts: the store's shared state.
    shared: Arc<dyn SharedState>,
    /// Session expiry as wall-clock time, which every replica reads alike.
    clock: Clock,
    /// Wrong passwords per address and (address, user), and the shared budget of them.
    limits: SignInLimits,
    /// argon2 runs here, a bounded number at once, so a flood of sign-ins cannot take the
    /// service's memory.
    checks: PasswordChecks,
    /// A hash nobody knows the password of, with the parameters of user `admin`'s (or the
    /// first user's) hash, checked for unknown user names so that they take as long to
    /// refuse as a wrong password; made again when those parameters change.
    decoy: Mutex<Option<(String, PhcHash)>>,
}

fn locked<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The parameter part of a PHC string (`$argon2id$v=19$m=…,t=…,p=…`), which decides what
/// checking a password against it costs.
fn cost_part(hash: &PhcHash) -> &str {
    let s = hash.as_str();
    // `$alg$v=..$params$salt$hash`: everything before the salt.
    s.rmatch_indices('$').nth(1).map_or(s, |(i, _)| &s[..i])
}

/// A session as the shared state keeps it (the id is the key).
#[derive(serde::Serialize, serde::Deserialize)]
struct Stored {
    user: String,
    csrf: String,
    /// Unix milliseconds.
    expires_ms: i64,
    lifetime_secs: u64,
}

impl Sessions {
    /// Sign-in for `credentials`, keeping sessions and sign-in counts in `shared` (the
    /// store's: [`crate::store::StoreState`]).
    pub fn new(credentials: Credentials, admin: &AdminSettings, shared: Arc<dyn SharedState>) -> Sessions {
        Sessions {
            credentials: Mutex::new(credentials),
            lifetime: Duration::from_secs(u64::from(admin.session_hours) * 3600),
            limits: SignInLimits::new(admin.sign_in.failed_signins_per_minute, shared.clone()),
            shared,
            clock: Clock::new(),
            checks: PasswordChecks::new(admin.sign_in.password_checks, admin.sign_in.password_queue),
            decoy: Mutex::new(None),
        }
    }

    /// Replaces the password hashes; live sessions stay.
    pub fn set_credentials(&self, credentials: Credentials) {
        *locked(&self.credentials) = credentials;
    }

    /// A place among the password checks for one sign-in, or [`LoginError::Busy`] (429)
    /// when all are taken. Taken first, before anything else is done for the sign-in.
    pub fn admit(&self) -> Result<Admission, LoginError> {
        self.checks.admit().map_err(|busy| LoginError::Busy {
            retry_after_secs: busy.retry_after_secs,
        })
    }

    /// The decoy for unknown user names (see the field's doc).
    fn decoy_for(&self, credentials: &Credentials) -> Option<PhcHash> {
        let like = credentials.reference_hash()?;
        let mut decoy = locked(&self.decoy);
        match &*decoy {
            Some((cost, hash)) if cost == cost_part(like) => Some(hash.clone()),
            _ => {
                let made = checks::decoy_like(like)?;
                *decoy = Some((cost_part(like).to_string(), made.clone()));
                Some(made)
            }
        }
    }

    /// Signs `user` in from `ip` at `now`, with the place `admission` from [`Sessions::admit`].
    /// Refused before the password is looked at while the address (or the address for this
    /// user) is over its limit, or the shared budget of wrong passwords is spent (see
    /// [`crate::admin_auth::limits`]); a user is never locked out from everywhere. Unknown user names cost
    /// one argon2 check like a wrong password, and get the same answer.
    pub async fn login(
        &self,
        admission: Admission,
        user: &str,
        password: &str,
        ip: IpAddr,
        now: Instant,
    ) -> Result<Session, LoginError> {
        let (access, hash, decoy) = {
            let credentials = locked(&self.credentials).clone();
            if credentials.is_empty() {
                return Err(LoginError::NotConfigured);
            }
            let access = Access::for_user(user);
            let hash = access.as_ref().and_then(|a| credentials.get(a).cloned());
            let decoy = match hash {
                Some(_) => None,
                None => self.decoy_for(&credentials),
            };
            (access, hash, decoy)
        };
        // Only user names that have a password are counted per user, so made-up names
        // cannot fill memory; they count against the address.
        let known_user = hash.as_ref().map(|_| user);
        let attempt = self.limits.begin(ip, known_user, now).map_err(|r| match r {
            Refusal::Address { retry_after_secs } => LoginError::TooMany { retry_after_secs },
            Refusal::Everyone { retry_after_secs } => LoginError::SlowDown { retry_after_secs },
            Refusal::Unavailable => LoginError::Unavailable,
        })?;
        let ok = match (&hash, decoy) {
            (Some(hash), _) => {
                self.checks
                    .verify(admission, password.to_string(), hash.clone())
                    .await
            }
            (None, Some(decoy)) => {
                self.checks.verify(admission, password.to_string(), decoy).await;
                false
            }
            (None, None) => false,
        };
        let (Some(access), true) = (access, ok) else {
            return Err(LoginError::Invalid);
        };
        self.limits.succeeded(attempt, now);
        let session = Session {
            id: random_token(),
            access,
            csrf: random_token(),
            expires: now + self.lifetime,
            lifetime: self.lifetime,
        };
        let stored = Stored {
            user: session.access.user_name().to_string(),
            csrf: session.csrf.clone(),
            expires_ms: self.clock.wall(session.expires).timestamp_millis(),
            lifetime_secs: self.lifetime.as_secs(),
        };
        let bytes = serde_json::to_vec(&stored).map_err(|e| {
            tracing::error!(error = %e, "encoding a session");
            LoginError::Unavailable
        })?;
        self.shared
            .session_put(
                &session.id,
                &stored.user,
                &bytes,
                self.clock.wall(session.expires),
            )
            .map_err(|e| {
                tracing::error!(error = %e, "a new session could not be stored; sign-in refused");
                LoginError::Unavailable
            })?;
        Ok(session)
    }

    /// Clears wrong-password counts (`laris admin unlock`); see [`SignInLimits::unlock`].
    pub fn unlock(&self, user: Option<&str>, address: Option<IpAddr>) -> Result<Unlocked, StoreError> {
        self.limits.unlock(user, address, Instant::now())
    }

    /// The live session with this id (made by any replica); `None` when there is none or
    /// it expired. A store that does not answer is an error, for the caller to answer 503
    /// (not "signed out": the session may well be live).
    pub fn check(&self, id: &str, now: Instant) -> Result<Option<Session>, StoreError> {
        let Some(bytes) = self.shared.session_get(id, self.clock.wall(now))? else {
            return Ok(None);
        };
        Ok(self.live(id, &bytes, now))
    }

    fn live(&self, id: &str, bytes: &[u8], now: Instant) -> Option<Session> {
        let stored: Stored = serde_json::from_slice(bytes)
            .map_err(|e| tracing::warn!(error = %e, "a stored session could not be read; ignored"))
            .ok()?;
        let expires = chrono::DateTime::from_timestamp_millis(stored.expires_ms)?;
        let expires = self.clock.instant(expires);
        if expires <= now {
            return None;
        }
        Some(Session {
            id: id.to_string(),
            access: Access::for_user(&stored.user)?,
            csrf: stored.csrf,
            expires,
            lifetime: Duration::from_secs(stored.lifetime_secs),
        })
    }

    /// Ends the session on every replica (a store error is logged: it then lasts until it
    /// expires).
    pub fn logout(&self, id: &str) {
        if let Err(e) = self.shared.session_remove(id) {
            tracing::error!(error = %e, "a session could not be ended in the store");
        }
    }

    /// Ends every session of `access`'s user, on every replica (its password changed);
    /// returns how many there were.
    pub fn end_sessions_of(&self, access: &Access) -> Result<usize, StoreError> {
        self.shared.sessions_remove_for_user(access.user_name())
    }
}

/// Whether a form's or header's token is the session's CSRF token (constant time).
pub fn csrf_ok(session: &Session, form_token: &str) -> bool {
    bool::from(session.csrf.as_bytes().ct_eq(form_token.as_bytes()))
}

/// The `Set-Cookie` value that carries a new session. `secure` adds `Secure` (serve the
/// admin pages over HTTPS and pass true).
pub fn session_cookie(session: &Session, secure: bool) -> String {
    cookie(&session.id, session.lifetime.as_secs(), secure)
}

/// The `Set-Cookie` value that removes the session cookie (sign-out).
pub fn clearing_cookie(secure: bool) -> String {
    cookie("", 0, secure)
}

fn cookie(value: &str, max_age: u64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE_NAME}={value}; Path=/admin; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    use crate::admin_auth::limits;
    use crate::domain::password::{cheap_hash, verify_password};
    use crate::domain::ShopId;

    pub(crate) const OWNER_PW: &str = "kopi-susu-gula-aren";
    pub(crate) const SHOP_PW: &str = "tepung-lengkuas-100g";

    pub(crate) fn shop(id: &str) -> ShopId {
        ShopId::parse(id).unwrap()
    }

    /// User `admin` and user `toko-a`, with cheap hashes of [`OWNER_PW`] and [`SHOP_PW`].
    pub(crate) fn sessions() -> Sessions {
        let mut c = Credentials::default();
        c.insert(Access::All, cheap_hash(OWNER_PW));
        c.insert(Access::Shop(shop("toko-a")), cheap_hash(SHOP_PW));
        Sessions::new(
            c,
            &admin_settings(),
            Arc::new(crate::store::MemoryState::default()),
        )
    }

    fn admin_settings() -> AdminSettings {
        AdminSettings {
            password_hash: None,
            session_hours: 12,
            sign_in: crate::config::SignInSettings {
                password_checks: 2,
                password_queue: 8,
                failed_signins_per_minute: 1000,
            },
        }
    }

    pub(crate) fn ip(last: u8) -> IpAddr {
        [192, 0, 2, last].into()
    }

    /// A sign-in as the login route makes it: a place among the checks, then the check.
    pub(crate) async fn login_async(
        s: &Sessions,
        user: &str,
        pw: &str,
        ip: IpAddr,
        now: Instant,
    ) -> Result<Session, LoginError> {
        let admission = s.admit()?;
        s.login(admission, user, pw, ip, now).await
    }

    fn login(s: &Sessions, user: &str, pw: &str, ip: IpAddr, now: Instant) -> Result<Session, LoginError> {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(login_async(s, user, pw, ip, now))
    }

    #[test]
    fn a_shop_user_signs_in_to_its_own_shop_only() {
        let s = sessions();
        let session = login(&s, "toko-a", SHOP_PW, ip(1), Instant::now()).unwrap();
        assert_eq!(session.access, Access::Shop(shop("toko-a")));
        assert!(!session.access.allows(&shop("toko-b")));
        // The shop's password is not the owner's.
        assert_eq!(
            login(&s, "admin", SHOP_PW, ip(1), Instant::now()).unwrap_err(),
            LoginError::Invalid
        );
        let owner = login(&s, "admin", OWNER_PW, ip(1), Instant::now()).unwrap();
        assert_eq!(owner.access, Access::All);
        // A shop that has no password of its own cannot sign in.
        assert_eq!(
            login(&s, "toko-b", SHOP_PW, ip(1), Instant::now()).unwrap_err(),
            LoginError::Invalid
        );
    }

    #[test]
    fn with_no_password_set_login_says_how_to_set_one() {
        let s = Sessions::new(
            Credentials::default(),
            &admin_settings(),
            Arc::new(crate::store::MemoryState::default()),
        );
        let err = login(&s, "admin", OWNER_PW, ip(1), Instant::now()).unwrap_err();
        assert_eq!(err, LoginError::NotConfigured);
        assert!(err.to_string().contains("laris admin set-password"));
    }

    #[test]
    fn a_session_has_random_secrets_and_ends_when_it_expires() {
        let s = sessions();
        let t0 = Instant::now();
        let a = login(&s, "admin", OWNER_PW, ip(1), t0).unwrap();
        let b = login(&s, "admin", OWNER_PW, ip(1), t0).unwrap();
        assert_eq!(a.id.len(), 43, "32 bytes in base64url without padding");
        assert!(a
            .id
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
        assert_ne!(a.id, b.id);
        assert_ne!(a.csrf, b.csrf);
        assert_ne!(a.id, a.csrf);
        assert!(!format!("{a:?}").contains(&a.id), "Debug hides the id");

        let almost = t0 + Duration::from_secs(12 * 3600 - 1);
        assert_eq!(s.check(&a.id, almost).unwrap().unwrap().access, Access::All);
        let past = t0 + Duration::from_secs(12 * 3600);
        assert!(s.check(&a.id, past).unwrap().is_none());
        assert!(
            s.shared.session_get(&a.id, s.clock.wall(t0)).unwrap().is_none(),
            "the expired session is dropped"
        );
        assert!(s.check("not-a-session", t0).unwrap().is_none());
    }

    #[test]
    fn logout_ends_only_that_session() {
        let s = sessions();
        let t0 = Instant::now();
        let a = login(&s, "admin", OWNER_PW, ip(1), t0).unwrap();
        let b = login(&s, "admin", OWNER_PW, ip(2), t0).unwrap();
        s.logout(&a.id);
        assert!(s.check(&a.id, t0).unwrap().is_none());
        assert!(s.check(&b.id, t0).unwrap().is_some());
    }

    #[test]
    fn wrong_passwords_lock_the_address_for_that_user_even_for_the_right_password() {
        let s = sessions();
        let t0 = Instant::now();
        for _ in 0..limits::MAX_FAILURES_PER_USER {
            assert_eq!(
                login(&s, "toko-a", "tebak-tebakan", ip(1), t0).unwrap_err(),
                LoginError::Invalid
            );
        }
        assert_eq!(
            login(&s, "toko-a", SHOP_PW, ip(1), t0).unwrap_err(),
            LoginError::TooMany {
                retry_after_secs: 900
            }
        );
        assert!(login(&s, "toko-a", SHOP_PW, ip(1), t0 + limits::FAILURE_WINDOW).is_ok());
    }

    #[test]
    fn wrong_passwords_from_many_addresses_do_not_lock_the_owner_out() {
        let s = sessions();
        let t0 = Instant::now();
        for i in 0..50 {
            for _ in 0..limits::MAX_FAILURES_PER_USER {
                assert_eq!(
                    login(&s, "admin", "salah-sandi-nya", ip(10 + i), t0).unwrap_err(),
                    LoginError::Invalid
                );
            }
        }
        assert!(login(&s, "admin", OWNER_PW, ip(99), t0).is_ok());
    }

    #[test]
    fn unknown_user_names_count_against_the_address_and_are_checked_against_a_decoy() {
        let s = sessions();
        let t0 = Instant::now();
        for name in ["root", "Admin", "toko-x", "", "pemilik", "a", "b", "c", "d", "e"] {
            assert_eq!(
                login(&s, name, OWNER_PW, ip(1), t0).unwrap_err(),
                LoginError::Invalid
            );
        }
        assert!(matches!(
            login(&s, "admin", OWNER_PW, ip(1), t0),
            Err(LoginError::TooMany { .. })
        ));
        // The decoy costs what the owner's hash costs.
        let credentials = locked(&s.credentials).clone();
        let decoy = s.decoy_for(&credentials).unwrap();
        let owner = credentials.get(&Access::All).unwrap();
        assert_eq!(cost_part(&decoy), cost_part(owner));
        assert!(
            cost_part(owner).starts_with("$argon2id$v=19$m=8,t=1,p=1"),
            "{}",
            cost_part(owner)
        );
        assert_ne!(decoy.as_str(), owner.as_str());
        assert!(!verify_password(OWNER_PW, &decoy));
    }

    #[test]
    fn the_shared_budget_answers_429_with_a_short_wait_and_spares_an_address_that_signed_in() {
        let mut settings = admin_settings();
        settings.sign_in.failed_signins_per_minute = 3;
        let mut c = Credentials::default();
        c.insert(Access::All, cheap_hash(OWNER_PW));
        let s = Sessions::new(c, &settings, Arc::new(crate::store::MemoryState::default()));
        let t0 = Instant::now();
        login(&s, "admin", OWNER_PW, ip(200), t0).unwrap();
        for i in 0..3 {
            login(&s, "admin", "salah-sandi-nya", ip(i), t0).unwrap_err();
        }
        assert_eq!(
            login(&s, "admin", OWNER_PW, ip(50), t0).unwrap_err(),
            LoginError::SlowDown { retry_after_secs: 20 }
        );
        assert!(login(&s, "admin", OWNER_PW, ip(200), t0).is_ok());
        assert!(login(&s, "admin", OWNER_PW, ip(50), t0 + Duration::from_secs(20)).is_ok());
    }

    #[test]
    fn csrf_token_must_match_exactly() {
        let s = sessions();
        let session = login(&s, "admin", OWNER_PW, ip(1), Instant::now()).unwrap();
        assert!(csrf_ok(&session, &session.csrf.clone()));
        assert!(!csrf_ok(&session, ""));
        assert!(!csrf_ok(&session, &session.csrf[..42]));
        assert!(!csrf_ok(&session, &session.id));
        assert!(!csrf_ok(&session, &format!("{}x", session.csrf)));
    }

    #[test]
    fn cookies_carry_exactly_the_expected_attributes() {
        let s = sessions();
        let session = login(&s, "admin", OWNER_PW, ip(1), Instant::now()).unwrap();
        assert_eq!(
            session_cookie(&session, false),
            format!(
                "laris_session={}; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=43200",
                session.id
            )
        );
        assert_eq!(
            session_cookie(&session, true),
            format!(
                "laris_session={}; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=43200; Secure",
                session.id
            )
        );
        assert_eq!(
            clearing_cookie(true),
            "laris_session=; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=0; Secure"
        );
    }

    /// `Sessions` like [`sessions`]'s on a store of its own on the database at `url`: one
    /// replica.
    fn replica(url: &str) -> Sessions {
        let options = crate::store::postgres::PgOptions {
            url: url.to_string(),
            pool_size: 2,
            statement_timeout: Duration::from_secs(5),
        };
        let store = crate::store::postgres::PgStore::connect(&options).unwrap_or_else(|e| panic!("{e}"));
        let mut c = Credentials::default();
        c.insert(Access::All, cheap_hash(OWNER_PW));
        c.insert(Access::Shop(shop("toko-a")), cheap_hash(SHOP_PW));
        Sessions::new(
            c,
            &admin_settings(),
            Arc::new(crate::store::StoreState(Arc::new(store))),
        )
    }

    #[test]
    fn replicas_on_one_database_share_sessions_and_sign_out() {
        let url = crate::store::postgres::testing::fresh_database();
        let (a, b) = (replica(&url), replica(&url));
        let session = login(&a, "toko-a", SHOP_PW, ip(1), Instant::now()).unwrap();
        let on_b = b
            .check(&session.id, Instant::now())
            .unwrap()
            .expect("the cookie works on replica B");
        assert_eq!(on_b.access, Access::Shop(shop("toko-a")));
        assert_eq!(on_b.csrf, session.csrf, "forms made on A are accepted on B");
        assert_eq!(on_b.lifetime, session.lifetime);
        let drift = on_b.expires.max(session.expires) - on_b.expires.min(session.expires);
        assert!(drift < Duration::from_secs(1), "{drift:?}");
        assert!(
            b.check(&session.id, Instant::now() + Duration::from_secs(13 * 3600))
                .unwrap()
                .is_none(),
            "expired"
        );

        // The database keeps the session id's SHA-256, never the id.
        let id = &session.id;
        assert_eq!(
            crate::store::postgres::testing::numbers(
                &url,
                &format!(
                    "SELECT count(*) FROM admin_sessions WHERE id_sha256 = sha256(convert_to('{id}', 'UTF8'))
                       AND position(convert_to('{id}', 'UTF8') in data) = 0"
                )
            ),
            [1]
        );

        b.logout(&session.id);
        assert!(
            a.check(&session.id, Instant::now()).unwrap().is_none(),
            "signed out on B ends it on A"
        );

        // A password change ends the user's sessions everywhere.
        let s1 = login(&a, "admin", OWNER_PW, ip(1), Instant::now()).unwrap();
        let s2 = login(&b, "toko-a", SHOP_PW, ip(1), Instant::now()).unwrap();
        assert_eq!(b.end_sessions_of(&Access::All).unwrap(), 1);
        assert!(a.check(&s1.id, Instant::now()).unwrap().is_none());
        assert!(a.check(&s2.id, Instant::now()).unwrap().is_some());
    }

    #[test]
    fn wrong_passwords_split_across_replicas_lock_out_on_both() {
        let url = crate::store::postgres::testing::fresh_database();
        let made = Instant::now();
        let (a, b) = (replica(&url), replica(&url));
        // Each replica maps its monotonic clock to the wall clock when it is made: the two
        // maps differ by at most the time between them.
        let skew = made.elapsed().as_secs() + 1;
        let t0 = Instant::now();
        for i in 0..limits::MAX_FAILURES_PER_USER {
            let on = if i % 2 == 0 { &a } else { &b };
            assert_eq!(
                login(on, "toko-a", "tebak-tebakan", ip(1), t0).unwrap_err(),
                LoginError::Invalid
            );
        }
        for on in [&a, &b] {
            // 15 minutes less the minute passed, give or take the replicas' clock skew and
            // the rounding up to whole seconds.
            let answer = login(on, "toko-a", SHOP_PW, ip(1), t0 + Duration::from_secs(60));
            assert!(
                matches!(
                    answer,
                    Err(LoginError::TooMany { retry_after_secs }) if retry_after_secs.abs_diff(840) <= skew + 1
                ),
                "the lockout holds on both replicas: {answer:?}"
            );
        }
        // Another address is not locked; unlocking on B frees the address on A.
        assert!(login(&a, "toko-a", SHOP_PW, ip(2), t0).is_ok());
        assert_eq!(b.unlock(Some("toko-a"), None).unwrap().locked, 1);
        assert!(login(&a, "toko-a", SHOP_PW, ip(1), t0).is_ok());
    }
}
