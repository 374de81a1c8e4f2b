//! Who may open the shop owner's admin pages: argon2id password hashes (from config or kept
//! in the data directory by `laris admin set-password`), in-memory sessions behind an
//! `HttpOnly` cookie with a CSRF token each, the limits on wrong passwords ([`limits`]), the
//! bounded pool that checks passwords ([`checks`]), and the warp filters that admit a session
//! cookie or the admin bearer token.
//!
//! Users: `admin` sees every shop; a user named by a shop's id sees only that shop. Sessions
//! live in memory only: a restart signs everyone out, and no session secret is ever on disk.
//!
//! Where a user has both a hash in config and one in the data directory, the file wins: it
//! was written by `laris admin set-password`, the later and more deliberate act, while the
//! config is usually a deployment default. A warning in the log says so when they differ.

pub mod checks;
pub mod limits;

use std::collections::HashMap;
use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use argon2::password_hash::rand_core::{OsRng, RngCore};
use base64::Engine;
use thiserror::Error;
use warp::{Filter, Rejection};

use crate::config::{AdminSettings, Settings};
pub use crate::domain::password::{
    hash_password, verify_password, PasswordError, PhcHash, ADMIN_USER, MIN_PASSWORD_CHARS,
};
use crate::domain::ShopId;
use checks::{Admission, PasswordChecks};
pub use limits::client_key;
use limits::{Refusal, SignInLimits, Unlocked};
use subtle::ConstantTimeEq;

/// The session cookie's name.
pub const COOKIE_NAME: &str = "laris_session";
/// The header a script on an admin page sends its session's CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// File in the data directory with the hash of user `admin`'s password; a shop's user has
/// `admin-password-{shop}`.
pub const PASSWORD_FILE: &str = "admin-password";

#[derive(Debug, Error)]
pub enum AuthError {
    #[error(transparent)]
    Password(#[from] PasswordError),
    #[error("the user name admin means every shop, so the shop with id \"admin\" cannot have its own password: give the shop another id")]
    ReservedShopId,
    #[error("{path}: {reason}: run `{command}` again")]
    BadFile {
        path: PathBuf,
        reason: String,
        command: String,
    },
    #[error("{path}: {error}")]
    Io { path: PathBuf, error: std::io::Error },
}

/// What a signed-in user or bearer-token caller may see.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Access {
    /// User `admin` or the admin bearer token: every shop.
    All,
    /// The user named by this shop's id: this shop only.
    Shop(ShopId),
}

impl Access {
    pub fn allows(&self, shop: &ShopId) -> bool {
        match self {
            Access::All => true,
            Access::Shop(own) => own == shop,
        }
    }

    /// The access a user name stands for: `admin`, or a shop id.
    pub fn for_user(name: &str) -> Option<Access> {
        if name == ADMIN_USER {
            return Some(Access::All);
        }
        ShopId::parse(name).ok().map(Access::Shop)
    }

    pub fn user_name(&self) -> &str {
        match self {
            Access::All => ADMIN_USER,
            Access::Shop(shop) => shop.as_str(),
        }
    }

    /// The file in the data directory holding this user's password hash.
    pub fn password_file(&self) -> String {
        match self {
            Access::All => PASSWORD_FILE.to_string(),
            Access::Shop(shop) => format!("{PASSWORD_FILE}-{shop}"),
        }
    }

    fn set_password_command(&self) -> String {
        match self {
            Access::All => "laris admin set-password".to_string(),
            Access::Shop(shop) => format!("laris admin set-password --shop {shop}"),
        }
    }
}

/// The password hash of each user who can sign in.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Credentials {
    hashes: HashMap<Access, PhcHash>,
}

impl Credentials {
    pub fn insert(&mut self, access: Access, hash: PhcHash) {
        self.hashes.insert(access, hash);
    }

    pub fn get(&self, access: &Access) -> Option<&PhcHash> {
        self.hashes.get(access)
    }

    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    /// The hash whose cost a decoy copies: user `admin`'s, else the first shop user's.
    fn reference_hash(&self) -> Option<&PhcHash> {
        let first = self.user_names().into_iter().next()?;
        self.get(&Access::for_user(&first)?)
    }

    /// The user names that have a password, `admin` first.
    pub fn user_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.hashes.keys().map(|a| a.user_name().to_string()).collect();
        names.sort_by_key(|n| (n != ADMIN_USER, n.clone()));
        names
    }
}

/// Keeps `hash` as `access`'s password in the data directory (replacing any earlier one,
/// atomically; readable only by this user). Returns the file's path.
pub fn save_password_hash(data_dir: &Path, access: &Access, hash: &PhcHash) -> Result<PathBuf, AuthError> {
    if matches!(access, Access::Shop(shop) if shop.as_str() == ADMIN_USER) {
        return Err(AuthError::ReservedShopId);
    }
    let path = data_dir.join(access.password_file());
    let tmp = data_dir.join(format!(".{}.tmp", access.password_file()));
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |error| AuthError::Io { path: p, error }
    };
    std::fs::create_dir_all(data_dir).map_err(io(data_dir))?;
    match std::fs::remove_file(&tmp) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(&tmp)(e)),
        _ => {}
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut file = opts.open(&tmp).map_err(io(&tmp))?;
    writeln!(file, "{}", hash.as_str()).map_err(io(&tmp))?;
    file.sync_all().map_err(io(&tmp))?;
    drop(file);
    std::fs::rename(&tmp, &path).map_err(io(&path))?;
    Ok(path)
}

/// Every user's password hash: `admin` and each configured shop, from the data directory's
/// file when there is one, else from config (see the module doc for why the file wins).
/// Files of shops no longer configured are ignored.
pub fn load_password_hashes(data_dir: &Path, settings: &Settings) -> Result<Credentials, AuthError> {
    let mut users = vec![(Access::All, settings.admin.password_hash.clone())];
    for shop in &settings.shops {
        if shop.id.as_str() != ADMIN_USER {
            users.push((Access::Shop(shop.id.clone()), shop.admin_password_hash.clone()));
        }
    }
    let mut credentials = Credentials::default();
    for (access, from_config) in users {
        let path = data_dir.join(access.password_file());
        let from_file = match std::fs::read_to_string(&path) {
            Ok(text) => Some(PhcHash::parse(&text).map_err(|e| AuthError::BadFile {
                path: path.clone(),
                reason: e.to_string(),
                command: access.set_password_command(),
            })?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(error) => return Err(AuthError::Io { path, error }),
        };
        if from_file.is_some() && from_config.is_some() && from_file != from_config {
            tracing::warn!(
                user = access.user_name(),
                path = %path.display(),
                "this file's password hash is used, not the one in config; delete the file to use config's"
            );
        }
        if let Some(hash) = from_file.or(from_config) {
            credentials.insert(access, hash);
        }
    }
    Ok(credentials)
}

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
}

impl LoginError {
    /// The `Retry-After` of a refusal (all answered 429).
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            LoginError::TooMany { retry_after_secs }
            | LoginError::SlowDown { retry_after_secs }
            | LoginError::Busy { retry_after_secs } => Some(*retry_after_secs),
            LoginError::Invalid | LoginError::NotConfigured => None,
        }
    }
}

/// Sign-in, the live sessions, the limits on wrong passwords and the pool that checks them.
pub struct Sessions {
    /// Swapped by [`Sessions::set_credentials`] when a password changes while running.
    credentials: Mutex<Credentials>,
    lifetime: Duration,
    /// Live sessions by id.
    live: Mutex<HashMap<String, Session>>,
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

impl Sessions {
    pub fn new(credentials: Credentials, admin: &AdminSettings) -> Sessions {
        Sessions {
            credentials: Mutex::new(credentials),
            lifetime: Duration::from_secs(u64::from(admin.session_hours) * 3600),
            live: Mutex::new(HashMap::new()),
            limits: SignInLimits::new(admin.sign_in.failed_signins_per_minute),
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
    /// [`limits`]); a user is never locked out from everywhere. Unknown user names cost
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
        let mut live = locked(&self.live);
        live.retain(|_, s| s.expires > now);
        live.insert(session.id.clone(), session.clone());
        Ok(session)
    }

    /// Clears wrong-password counts (`laris admin unlock`); see [`SignInLimits::unlock`].
    pub fn unlock(&self, user: Option<&str>, address: Option<IpAddr>) -> Unlocked {
        self.limits.unlock(user, address, Instant::now())
    }

    /// The live session with this id; an expired one is dropped.
    pub fn check(&self, id: &str, now: Instant) -> Option<Session> {
        let mut live = locked(&self.live);
        let session = live.get(id)?;
        if session.expires <= now {
            live.remove(id);
            return None;
        }
        Some(session.clone())
    }

    pub fn logout(&self, id: &str) {
        locked(&self.live).remove(id);
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

/// The request is not signed in. The integrator answers it with a redirect to
/// `/admin/login` for pages and a 401 JSON body for `/admin/api`.
#[derive(Debug)]
pub struct Unauthenticated;

impl warp::reject::Reject for Unauthenticated {}

impl Unauthenticated {
    pub const MESSAGE: &'static str = "sign in at /admin/login, or send Authorization: Bearer <admin token>";
}

/// A state-changing request from a cookie session without the session's CSRF token
/// (answer 403).
#[derive(Debug)]
pub struct CsrfMismatch;

impl warp::reject::Reject for CsrfMismatch {}

impl CsrfMismatch {
    pub const MESSAGE: &'static str =
        "the form is out of date or came from another site: reload the page and try again";
}

/// How a request proved who it is.
enum Caller {
    Bearer,
    Cookie(Session),
}

/// A wrong bearer token is refused even when a valid cookie comes with it: a credential
/// that was sent and is wrong should not pass quietly.
fn authenticate(
    sessions: &Sessions,
    admin_token: &str,
    authorization: Option<&str>,
    cookie: Option<&str>,
    now: Instant,
) -> Option<Caller> {
    if let Some(auth) = authorization {
        let given = auth.strip_prefix("Bearer ")?;
        let ok = !admin_token.is_empty() && bool::from(given.as_bytes().ct_eq(admin_token.as_bytes()));
        return ok.then_some(Caller::Bearer);
    }
    sessions.check(cookie?, now).map(Caller::Cookie)
}

fn caller(
    sessions: Arc<Sessions>,
    admin_token: Arc<String>,
) -> impl Filter<Extract = (Caller,), Error = Rejection> + Clone {
    warp::header::optional::<String>("authorization")
        .and(warp::cookie::optional::<String>(COOKIE_NAME))
        .and_then(move |auth: Option<String>, cookie: Option<String>| {
            let found = authenticate(
                &sessions,
                &admin_token,
                auth.as_deref(),
                cookie.as_deref(),
                Instant::now(),
            );
            async move { found.ok_or_else(|| warp::reject::custom(Unauthenticated)) }
        })
}

/// Admits `Authorization: Bearer <admin token>` (every shop) or a live session cookie (its
/// user's shops); rejects with [`Unauthenticated`] otherwise. For reading; routes that
/// change state take [`access_with_csrf`] or [`session`] and [`csrf_ok`].
pub fn access(
    sessions: Arc<Sessions>,
    admin_token: Arc<String>,
) -> impl Filter<Extract = (Access,), Error = Rejection> + Clone {
    caller(sessions, admin_token).map(|caller: Caller| match caller {
        Caller::Bearer => Access::All,
        Caller::Cookie(session) => session.access,
    })
}

/// Like [`access`], for API calls that change state: a cookie session must also send its
/// CSRF token in the `X-CSRF-Token` header ([`CsrfMismatch`] otherwise). Bearer-token
/// calls are not made by a browser on its own and need none.
pub fn access_with_csrf(
    sessions: Arc<Sessions>,
    admin_token: Arc<String>,
) -> impl Filter<Extract = (Access,), Error = Rejection> + Clone {
    caller(sessions, admin_token)
        .and(warp::header::optional::<String>(CSRF_HEADER))
        .and_then(|caller: Caller, token: Option<String>| async move {
            match caller {
                Caller::Bearer => Ok(Access::All),
                Caller::Cookie(session) if csrf_ok(&session, token.as_deref().unwrap_or("")) => {
                    Ok(session.access)
                }
                Caller::Cookie(_) => Err(warp::reject::custom(CsrfMismatch)),
            }
        })
}

/// The signed-in session, for pages: they show its CSRF token in their forms, and a form's
/// POST handler checks it with [`csrf_ok`]. A bearer token is no session and is rejected.
pub fn session(sessions: Arc<Sessions>) -> impl Filter<Extract = (Session,), Error = Rejection> + Clone {
    warp::cookie::optional::<String>(COOKIE_NAME).and_then(move |cookie: Option<String>| {
        let found = cookie.and_then(|id| sessions.check(&id, Instant::now()));
        async move { found.ok_or_else(|| warp::reject::custom(Unauthenticated)) }
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    use crate::domain::password::cheap_hash;

    const OWNER_PW: &str = "kopi-susu-gula-aren";
    const SHOP_PW: &str = "tepung-lengkuas-100g";

    fn shop(id: &str) -> ShopId {
        ShopId::parse(id).unwrap()
    }

    fn sessions() -> Sessions {
        let mut c = Credentials::default();
        c.insert(Access::All, cheap_hash(OWNER_PW));
        c.insert(Access::Shop(shop("toko-a")), cheap_hash(SHOP_PW));
        Sessions::new(c, &admin_settings())
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

    fn ip(last: u8) -> IpAddr {
        [192, 0, 2, last].into()
    }

    /// A sign-in as the login route makes it: a place among the checks, then the check.
    async fn login_async(
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
    fn a_password_verifies_against_its_hash_and_a_wrong_one_does_not() {
        let hash = hash_password("sepuluh-huruf").unwrap();
        assert!(hash.as_str().starts_with("$argon2id$v=19$"), "{}", hash.as_str());
        assert!(verify_password("sepuluh-huruf", &hash));
        assert!(!verify_password("sepuluh-hurug", &hash));
        assert!(!verify_password("", &hash));
        let again = hash_password("sepuluh-huruf").unwrap();
        assert_ne!(hash, again, "each hash has its own salt");
    }

    #[test]
    fn a_password_shorter_than_ten_characters_is_refused_with_the_reason() {
        let err = hash_password("sembilan9").unwrap_err();
        assert!(matches!(err, PasswordError::TooShort { chars: 9 }));
        assert!(err.to_string().contains("at least 10"), "{err}");
        // Characters, not bytes: ten letters with accents are long enough.
        assert!(hash_password("éééééééééé").is_ok());
    }

    #[test]
    fn only_usable_argon2id_phc_strings_parse() {
        assert!(PhcHash::parse(cheap_hash("x").as_str()).is_ok());
        for bad in [
            "",
            "hunter2",
            "$2b$12$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234",
            "$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
            "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ",
            "$argon2id$v=19$m=1,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
        ] {
            let err = PhcHash::parse(bad).unwrap_err();
            assert!(err.to_string().contains("argon2id"), "{bad}: {err}");
        }
        assert_eq!(format!("{:?}", cheap_hash("x")), "PhcHash($argon2id$…)");
    }

    #[test]
    fn user_admin_sees_every_shop_and_a_shop_user_only_its_own() {
        assert_eq!(Access::for_user("admin"), Some(Access::All));
        assert_eq!(Access::for_user("toko-a"), Some(Access::Shop(shop("toko-a"))));
        assert_eq!(Access::for_user("Toko A"), None);
        assert!(Access::All.allows(&shop("toko-b")));
        assert!(Access::Shop(shop("toko-a")).allows(&shop("toko-a")));
        assert!(!Access::Shop(shop("toko-a")).allows(&shop("toko-b")));
        assert_eq!(Access::All.password_file(), "admin-password");
        assert_eq!(
            Access::Shop(shop("toko-a")).password_file(),
            "admin-password-toko-a"
        );
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
        let s = Sessions::new(Credentials::default(), &admin_settings());
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
        assert_eq!(s.check(&a.id, almost).unwrap().access, Access::All);
        let past = t0 + Duration::from_secs(12 * 3600);
        assert!(s.check(&a.id, past).is_none());
        assert!(
            !locked(&s.live).contains_key(&a.id),
            "the expired session is dropped"
        );
        assert!(s.check("not-a-session", t0).is_none());
    }

    #[test]
    fn logout_ends_only_that_session() {
        let s = sessions();
        let t0 = Instant::now();
        let a = login(&s, "admin", OWNER_PW, ip(1), t0).unwrap();
        let b = login(&s, "admin", OWNER_PW, ip(2), t0).unwrap();
        s.logout(&a.id);
        assert!(s.check(&a.id, t0).is_none());
        assert!(s.check(&b.id, t0).is_some());
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
        let s = Sessions::new(c, &settings);
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

    #[test]
    fn the_hash_file_wins_over_config_and_only_its_owner_can_read_it() {
        let dir = tempfile::tempdir().unwrap();
        let config_hash = cheap_hash("dari-konfigurasi");
        let text = format!(
            "[admin]\npassword_hash = \"{}\"\n[[shops]]\nid = \"toko-a\"\n[[shops]]\nid = \"toko-b\"\nadmin_password_hash = \"{}\"\n",
            config_hash.as_str(),
            config_hash.as_str()
        );
        let settings = Settings::from_toml(&text, Path::new("t.toml"), &[]).unwrap();

        let loaded = load_password_hashes(dir.path(), &settings).unwrap();
        assert_eq!(loaded.get(&Access::All), Some(&config_hash));
        assert_eq!(loaded.get(&Access::Shop(shop("toko-a"))), None);
        assert_eq!(loaded.user_names(), vec!["admin", "toko-b"]);

        let file_hash = cheap_hash("dari-set-password");
        let path = save_password_hash(dir.path(), &Access::All, &file_hash).unwrap();
        assert_eq!(path, dir.path().join("admin-password"));
        save_password_hash(dir.path(), &Access::Shop(shop("toko-a")), &file_hash).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            format!("{}\n", file_hash.as_str())
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let loaded = load_password_hashes(dir.path(), &settings).unwrap();
        assert_eq!(loaded.get(&Access::All), Some(&file_hash));
        assert_eq!(loaded.get(&Access::Shop(shop("toko-a"))), Some(&file_hash));
        assert_eq!(loaded.get(&Access::Shop(shop("toko-b"))), Some(&config_hash));

        // Saving again replaces the file.
        let newer = cheap_hash("lebih-baru-lagi");
        save_password_hash(dir.path(), &Access::All, &newer).unwrap();
        let loaded = load_password_hashes(dir.path(), &settings).unwrap();
        assert_eq!(loaded.get(&Access::All), Some(&newer));

        std::fs::write(dir.path().join("admin-password-toko-a"), "garbage\n").unwrap();
        let err = load_password_hashes(dir.path(), &settings)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("admin-password-toko-a") && err.contains("laris admin set-password --shop toko-a"),
            "{err}"
        );
        assert!(matches!(
            save_password_hash(dir.path(), &Access::Shop(shop("admin")), &newer),
            Err(AuthError::ReservedShopId)
        ));
    }

    const TOKEN: &str = "0123456789abcdef0123456789abcdef";

    fn filter_parts() -> (Arc<Sessions>, Arc<String>) {
        (Arc::new(sessions()), Arc::new(TOKEN.to_string()))
    }

    fn cookie_header(session: &Session) -> String {
        format!("other=1; {COOKIE_NAME}={}", session.id)
    }

    #[tokio::test]
    async fn the_filter_admits_the_admin_bearer_token_to_every_shop() {
        let (s, t) = filter_parts();
        let got = warp::test::request()
            .header("authorization", format!("Bearer {TOKEN}"))
            .filter(&access(s, t))
            .await
            .unwrap();
        assert_eq!(got, Access::All);
    }

    #[tokio::test]
    async fn the_filter_admits_a_session_cookie_with_its_users_access() {
        let (s, t) = filter_parts();
        let session = login_async(&s, "toko-a", SHOP_PW, ip(1), Instant::now())
            .await
            .unwrap();
        let got = warp::test::request()
            .header("cookie", cookie_header(&session))
            .filter(&access(s.clone(), t))
            .await
            .unwrap();
        assert_eq!(got, Access::Shop(shop("toko-a")));
        let got = warp::test::request()
            .header("cookie", cookie_header(&session))
            .filter(&super::session(s))
            .await
            .unwrap();
        assert_eq!(got.csrf, session.csrf);
    }

    #[tokio::test]
    async fn the_filter_rejects_a_request_with_neither_token_nor_session() {
        let (s, t) = filter_parts();
        let rejection = warp::test::request()
            .filter(&access(s.clone(), t))
            .await
            .unwrap_err();
        assert!(rejection.find::<Unauthenticated>().is_some(), "{rejection:?}");
        let rejection = warp::test::request()
            .header("cookie", format!("{COOKIE_NAME}=made-up"))
            .filter(&super::session(s))
            .await
            .unwrap_err();
        assert!(rejection.find::<Unauthenticated>().is_some(), "{rejection:?}");
    }

    #[tokio::test]
    async fn the_filter_rejects_a_wrong_bearer_token_even_with_a_valid_cookie() {
        let (s, t) = filter_parts();
        let session = login_async(&s, "admin", OWNER_PW, ip(1), Instant::now())
            .await
            .unwrap();
        for auth in [
            format!("Bearer {TOKEN}x"),
            format!("Bearer {}", &TOKEN[1..]),
            "Bearer ".to_string(),
            format!("Basic {TOKEN}"),
        ] {
            let rejection = warp::test::request()
                .header("authorization", &auth)
                .filter(&access(s.clone(), t.clone()))
                .await
                .unwrap_err();
            assert!(rejection.find::<Unauthenticated>().is_some(), "{auth}");
            let rejection = warp::test::request()
                .header("authorization", &auth)
                .header("cookie", cookie_header(&session))
                .filter(&access(s.clone(), t.clone()))
                .await
                .unwrap_err();
            assert!(
                rejection.find::<Unauthenticated>().is_some(),
                "{auth} with cookie"
            );
        }
    }

    #[tokio::test]
    async fn the_session_filter_does_not_take_the_bearer_token() {
        let (s, _) = filter_parts();
        let rejection = warp::test::request()
            .header("authorization", format!("Bearer {TOKEN}"))
            .filter(&super::session(s))
            .await
            .unwrap_err();
        assert!(rejection.find::<Unauthenticated>().is_some());
    }

    #[tokio::test]
    async fn a_state_changing_call_from_a_cookie_needs_the_csrf_header_and_a_bearer_call_does_not() {
        let (s, t) = filter_parts();
        let session = login_async(&s, "admin", OWNER_PW, ip(1), Instant::now())
            .await
            .unwrap();
        let filter = access_with_csrf(s.clone(), t.clone());
        let rejection = warp::test::request()
            .method("POST")
            .header("cookie", cookie_header(&session))
            .filter(&filter)
            .await
            .unwrap_err();
        assert!(rejection.find::<CsrfMismatch>().is_some(), "{rejection:?}");
        let rejection = warp::test::request()
            .method("POST")
            .header("cookie", cookie_header(&session))
            .header(CSRF_HEADER, "wrong")
            .filter(&filter)
            .await
            .unwrap_err();
        assert!(rejection.find::<CsrfMismatch>().is_some(), "{rejection:?}");
        let got = warp::test::request()
            .method("POST")
            .header("cookie", cookie_header(&session))
            .header(CSRF_HEADER, &session.csrf)
            .filter(&filter)
            .await
            .unwrap();
        assert_eq!(got, Access::All);
        let got = warp::test::request()
            .method("POST")
            .header("authorization", format!("Bearer {TOKEN}"))
            .filter(&filter)
            .await
            .unwrap();
        assert_eq!(got, Access::All);
        let rejection = warp::test::request()
            .method("POST")
            .filter(&filter)
            .await
            .unwrap_err();
        assert!(rejection.find::<Unauthenticated>().is_some());
    }
}
