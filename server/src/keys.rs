//! The authority's secrets: the Ed25519 key that issues templates and the AES-256-GCM
//! transport key shared with the phones (device-sealed enrollment templates arrive under it,
//! issued templates leave under it, and review packages rest under it in the database).
//!
//! They come from the environment (`LIFECERT_AUTHORITY_KEY`: the PKCS#8 v2 document in hex;
//! `LIFECERT_TRANSPORT_KEY`: 32 bytes in hex) or from files named in the configuration
//! (the same hex text; readable by the owner only, as ssh requires of its keys). Never from
//! the database. [`generate`] writes a fresh pair of files for a development setup
//! (`lifecert-authority keygen`). Key bytes are held in buffers zeroised on drop.

use lifecert_core::crypto::sealing::{random_bytes, PublicKey, SealingKey, SigningKeyPair};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use thiserror::Error;
use zeroize::Zeroizing;

/// Environment variable holding the authority's PKCS#8 key in hex.
pub const AUTHORITY_KEY_ENV: &str = "LIFECERT_AUTHORITY_KEY";
/// Environment variable holding the transport key in hex.
pub const TRANSPORT_KEY_ENV: &str = "LIFECERT_TRANSPORT_KEY";
/// File name of the authority key written by [`generate`].
pub const AUTHORITY_KEY_FILE: &str = "authority.pkcs8.hex";
/// File name of the transport key written by [`generate`].
pub const TRANSPORT_KEY_FILE: &str = "transport.key.hex";
/// Largest key file read, bytes.
const MAX_KEY_FILE: u64 = 16 * 1024;

/// Why the keys could not be loaded.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum KeyError {
    /// Neither the environment variable nor a file gives the key.
    #[error("the {what} is not configured: set {env} or keys.{field}")]
    Missing {
        /// Which key.
        what: &'static str,
        /// Its environment variable.
        env: &'static str,
        /// Its configuration field.
        field: &'static str,
    },
    /// A key file cannot be read or written.
    #[error("key file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A key file others can read (unix).
    #[error("key file {path} is accessible to other users (mode {mode:03o}); chmod 600 it")]
    Permissions {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The value is not a valid key; the text says which key, never its value.
    #[error("the {0} is not valid")]
    Invalid(&'static str),
}

/// Where the keys are (environment variables take precedence).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KeyConfig {
    /// File holding the authority's Ed25519 PKCS#8 key in hex. Default none.
    pub authority_key_file: Option<PathBuf>,
    /// File holding the 32-byte transport key in hex. Default none.
    pub transport_key_file: Option<PathBuf>,
}

impl KeyConfig {
    /// Checks the configured paths are absolute or relative file paths (not empty).
    pub fn validate(&self) -> Result<(), KeyError> {
        for (p, what) in [
            (&self.authority_key_file, "authority key file path"),
            (&self.transport_key_file, "transport key file path"),
        ] {
            if p.as_ref().is_some_and(|p| p.as_os_str().is_empty()) {
                return Err(KeyError::Invalid(what));
            }
        }
        Ok(())
    }

    /// The keys of a folder written by [`generate`].
    pub fn in_dir(dir: &Path) -> Self {
        Self {
            authority_key_file: Some(dir.join(AUTHORITY_KEY_FILE)),
            transport_key_file: Some(dir.join(TRANSPORT_KEY_FILE)),
        }
    }
}

/// The loaded secrets.
pub struct AuthorityKeys {
    signing: SigningKeyPair,
    transport: SealingKey,
}

impl std::fmt::Debug for AuthorityKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthorityKeys")
            .field("authority_public_key", &self.signing.public_key().to_hex())
            .finish_non_exhaustive()
    }
}

fn read_secret(path: &Path) -> Result<Zeroizing<String>, KeyError> {
    let io = |source| KeyError::Io {
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(KeyError::Permissions {
                path: path.to_path_buf(),
                mode,
            });
        }
    }
    if !meta.is_file() || meta.len() > MAX_KEY_FILE {
        return Err(KeyError::Io {
            path: path.to_path_buf(),
            source: std::io::Error::other("not a key file (a folder, or far too large)"),
        });
    }
    Ok(Zeroizing::new(std::fs::read_to_string(path).map_err(io)?))
}

/// The hex text of a key: the environment variable, else the file.
fn secret_hex(
    env: &'static str,
    file: Option<&Path>,
    what: &'static str,
    field: &'static str,
) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let text = match std::env::var(env) {
        Ok(v) => Zeroizing::new(v),
        Err(_) => match file {
            Some(path) => read_secret(path)?,
            None => return Err(KeyError::Missing { what, env, field }),
        },
    };
    hex::decode(text.trim())
        .map(Zeroizing::new)
        .map_err(|_| KeyError::Invalid(what))
}

impl AuthorityKeys {
    /// Loads both keys (environment first, then the configured files).
    pub fn load(config: &KeyConfig) -> Result<Self, KeyError> {
        config.validate()?;
        let pkcs8 = secret_hex(
            AUTHORITY_KEY_ENV,
            config.authority_key_file.as_deref(),
            "authority signing key",
            "authority_key_file",
        )?;
        let transport = secret_hex(
            TRANSPORT_KEY_ENV,
            config.transport_key_file.as_deref(),
            "transport key",
            "transport_key_file",
        )?;
        Self::from_bytes(&pkcs8, &transport)
    }

    /// From the PKCS#8 document and the 32 transport-key bytes.
    pub fn from_bytes(pkcs8: &[u8], transport: &[u8]) -> Result<Self, KeyError> {
        Ok(Self {
            signing: SigningKeyPair::from_pkcs8(pkcs8)
                .map_err(|_| KeyError::Invalid("authority signing key"))?,
            transport: SealingKey::new(transport)
                .map_err(|_| KeyError::Invalid("transport key"))?,
        })
    }

    /// The key that signs issued templates.
    pub fn signing(&self) -> &SigningKeyPair {
        &self.signing
    }

    /// Its public half, which the phones pin.
    pub fn authority_public_key(&self) -> PublicKey {
        self.signing.public_key()
    }

    /// The transport key.
    pub fn transport(&self) -> &SealingKey {
        &self.transport
    }
}

/// Writes a fresh authority key and transport key into `dir` ([`AUTHORITY_KEY_FILE`],
/// [`TRANSPORT_KEY_FILE`], mode 0600; the folder is created 0700). Refuses to overwrite.
pub fn generate(dir: &Path) -> Result<KeyConfig, KeyError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| KeyError::Io { path, source }
    };
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(io(dir))?;
    let pkcs8 =
        SigningKeyPair::generate_pkcs8().map_err(|_| KeyError::Invalid("generated signing key"))?;
    let transport = Zeroizing::new(
        random_bytes::<32>().map_err(|_| KeyError::Invalid("generated transport key"))?,
    );
    let config = KeyConfig::in_dir(dir);
    for (path, bytes) in [
        (config.authority_key_file.as_deref(), pkcs8.as_slice()),
        (config.transport_key_file.as_deref(), transport.as_slice()),
    ] {
        let Some(path) = path else { continue };
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let text = Zeroizing::new(format!("{}\n", hex::encode(bytes)));
        use std::io::Write;
        options
            .open(path)
            .and_then(|mut f| f.write_all(text.as_bytes()))
            .map_err(io(path))?;
    }
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_load_and_are_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let keys_dir = dir.path().join("keys");
        let config = generate(&keys_dir).unwrap();
        let keys = AuthorityKeys::load(&config).unwrap();
        let again = AuthorityKeys::load(&config).unwrap();
        assert_eq!(keys.authority_public_key(), again.authority_public_key());
        assert!(generate(&keys_dir).is_err(), "overwrote existing keys");
    }

    #[cfg(unix)]
    #[test]
    fn a_key_file_others_can_read_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let config = generate(dir.path()).unwrap();
        let path = config.transport_key_file.clone().unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            AuthorityKeys::load(&config),
            Err(KeyError::Permissions { .. })
        ));
    }

    #[test]
    fn missing_and_invalid_keys_are_named() {
        let err = AuthorityKeys::load(&KeyConfig::default()).unwrap_err();
        assert!(matches!(err, KeyError::Missing { .. }), "{err}");
        assert!(matches!(
            AuthorityKeys::from_bytes(b"not a key", &[0; 32]),
            Err(KeyError::Invalid("authority signing key"))
        ));
        let pkcs8 = SigningKeyPair::generate_pkcs8().unwrap();
        assert!(matches!(
            AuthorityKeys::from_bytes(&pkcs8, &[0; 16]),
            Err(KeyError::Invalid("transport key"))
        ));
    }
}
