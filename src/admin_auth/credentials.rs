//! The password hash of each user who can sign in: user `admin` (every shop) and a user per
//! shop, named by its id (that shop only).
//!
//! Where a user has both a hash in config and one in the data directory, the file wins: it
//! was written by `laris admin set-password`, the later and more deliberate act, while the
//! config is usually a deployment default. A warning in the log says so when they differ.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::config::Settings;
use crate::domain::password::{PasswordError, PhcHash, ADMIN_USER};
use crate::domain::ShopId;

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
    pub(crate) fn reference_hash(&self) -> Option<&PhcHash> {
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

#[cfg(test)]
mod tests {
    use super::*;

    use crate::domain::password::{cheap_hash, hash_password, verify_password};

    fn shop(id: &str) -> ShopId {
        ShopId::parse(id).unwrap()
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
}
