//! The local key file: created once with fresh keys and permissions 0600, loaded again
//! unchanged, corrupt or exposed files refused with typed errors, the public key exported
//! for `lifecert verify --key`.

mod common;

use common::temp_dir;
use lifecert_cli::keys::{load_public_key, KeyError, Keys, KEY_FILE_FORMAT};
use lifecert_core::crypto::sealing::{open, seal, sign_canonical, verify_canonical};

#[test]
fn the_key_file_is_created_once_and_reloads_the_same_keys() {
    let dir = temp_dir();
    let path = dir.path().join("nested/config/keys.json");
    let first = Keys::open_or_create(&path).unwrap();
    assert!(first.created);
    assert!(first
        .keys
        .creation_notice()
        .contains(&path.display().to_string()));
    assert!(first.keys.creation_notice().contains("keystore"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let text = std::fs::read_to_string(&path).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["format"], KEY_FILE_FORMAT);
    for field in ["sealing_key", "subject_key"] {
        assert_eq!(json[field].as_str().unwrap().len(), 64, "{field}");
    }

    let again = Keys::open_or_create(&path).unwrap();
    assert!(!again.created);
    let (a, b) = (&first.keys, &again.keys);
    assert_eq!(a.device_public_key(), b.device_public_key());
    assert_eq!(a.authority_public_key(), b.authority_public_key());
    assert_ne!(a.device_public_key(), a.authority_public_key());
    assert_eq!(a.sealing_key().key_id(), b.sealing_key().key_id());
    // What one sealed or signed, the other opens or verifies.
    let sealed = seal(a.sealing_key(), b"template", b"subject").unwrap();
    assert_eq!(
        open(b.sealing_key(), &sealed, b"subject")
            .unwrap()
            .as_slice(),
        b"template"
    );
    let signed = sign_canonical(a.device_key(), "test", &42u32).unwrap();
    let value: u32 = verify_canonical(&signed, &b.device_public_key(), "test").unwrap();
    assert_eq!(value, 42);
    // Never overwritten.
    assert!(matches!(Keys::create(&path), Err(KeyError::Write { .. })));
}

#[test]
fn the_public_key_is_exported_for_verify() {
    let dir = temp_dir();
    let keys = Keys::create(&dir.path().join("keys.json")).unwrap();
    let public = dir.path().join("device.pub");
    keys.export_public(&public).unwrap();
    let text = std::fs::read_to_string(&public).unwrap();
    assert_eq!(text.trim(), keys.device_public_key().to_hex());
    assert_eq!(
        load_public_key(public.to_str().unwrap()).unwrap(),
        keys.device_public_key()
    );
    let not_a_key = dir.path().join("not.pub");
    std::fs::write(&not_a_key, "hello").unwrap();
    assert!(matches!(
        load_public_key(not_a_key.to_str().unwrap()),
        Err(KeyError::BadPublicKey(_))
    ));
}

fn write_private(path: &std::path::Path, text: &str) {
    std::fs::write(path, text).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}

#[test]
fn corrupt_key_files_are_typed_errors_that_never_quote_secrets() {
    let dir = temp_dir();
    let path = dir.path().join("keys.json");
    Keys::create(&path).unwrap();
    let good: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let secret = good["sealing_key"].as_str().unwrap().to_owned();

    let corrupt = |text: &str, why: &str| {
        write_private(&path, text);
        match Keys::open(&path) {
            Err(e @ KeyError::Corrupt { .. }) => {
                let message = e.to_string();
                assert!(message.contains(why), "{why}: {message}");
                assert!(!message.contains(&secret[..16]), "{message}");
            }
            other => panic!("{why}: {other:?}"),
        }
    };
    corrupt("not json", "not the expected JSON");
    corrupt(&text_with(&good, "format", "other/v9"), "format");
    corrupt(
        &text_with(&good, "sealing_key", "zz"),
        "sealing_key is not hex",
    );
    corrupt(
        &text_with(&good, "subject_key", "abcd"),
        "subject_key is not 32 bytes",
    );
    corrupt(
        &text_with(&good, "device_pkcs8", "00ff"),
        "device_pkcs8 is not an Ed25519 PKCS#8 key",
    );
    // A public key that does not belong to the private one (e.g. swapped by hand).
    let authority_public = good["authority_public_key"].as_str().unwrap().to_owned();
    corrupt(
        &text_with(&good, "device_public_key", &authority_public),
        "device_public_key does not belong to device_pkcs8",
    );
}

fn text_with(good: &serde_json::Value, field: &str, value: &str) -> String {
    let mut v = good.clone();
    v[field] = serde_json::Value::String(value.into());
    serde_json::to_string_pretty(&v).unwrap()
}

#[cfg(unix)]
#[test]
fn a_key_file_readable_by_others_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_dir();
    let path = dir.path().join("keys.json");
    Keys::create(&path).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = Keys::open(&path).unwrap_err();
    assert!(
        matches!(err, KeyError::Permissions { mode: 0o644, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("chmod 600"));
}
