//! The instance's secret key, used to sign tokens (tracking links, unsubscribe links) and to
//! encrypt the secrets Herald keeps (provider passwords and tokens, DKIM private keys). Given by
//! `HERALD_SECRET_KEY`, or generated once and kept in the data directory, never in the repository.

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use std::path::Path;

/// The key, keyed into HMAC-SHA256 once (every tracking hit checks a signature: cloning the
/// keyed state skips hashing the key's pads again), and its id.
#[derive(Clone)]
pub struct SecretKey {
    mac: Hmac<Sha256>,
    id: u16,
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

impl SecretKey {
    pub fn from_text(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.len() < 32 {
            return Err("HERALD_SECRET_KEY must be at least 32 characters".into());
        }
        let mac =
            Hmac::<Sha256>::new_from_slice(text.as_bytes()).expect("HMAC takes any key length");
        let mut key = SecretKey { mac, id: 0 };
        let tag = key.sign(b"herald key id v1");
        key.id = u16::from_be_bytes([tag[0], tag[1]]);
        Ok(key)
    }

    /// Reads `dir/secret.key`, creating it (readable by its owner only) when missing.
    pub fn load_or_create(dir: &Path) -> std::io::Result<Self> {
        let path = dir.join("secret.key");
        if let Ok(text) = std::fs::read_to_string(&path) {
            return Self::from_text(&text).map_err(std::io::Error::other);
        }
        std::fs::create_dir_all(dir)?;
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let text: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        use std::io::Write;
        options.open(&path)?.write_all(text.as_bytes())?;
        Self::from_text(&text).map_err(std::io::Error::other)
    }

    /// HMAC-SHA256 of `data` under this key, for signing tokens.
    pub fn sign(&self, data: &[u8]) -> [u8; 32] {
        let mut mac = self.mac.clone();
        mac.update(data);
        mac.finalize().into_bytes().into()
    }

    /// The key's id: written into tokens so that, after the key is replaced, tokens signed with
    /// an earlier one (given in `HERALD_PREVIOUS_SECRET_KEYS`) still verify.
    pub fn id(&self) -> u16 {
        self.id
    }

    /// Whether the leftmost bytes of the signature of `data` are `tag` (a truncated tag, at
    /// least 16 bytes), compared in constant time.
    pub fn verify_truncated(&self, data: &[u8], tag: &[u8]) -> bool {
        if tag.len() < 16 {
            return false;
        }
        let mut mac = self.mac.clone();
        mac.update(data);
        mac.verify_truncated_left(tag).is_ok()
    }

    /// Whether `tag` is the signature of `data`, compared in constant time.
    pub fn verify(&self, data: &[u8], tag: &[u8]) -> bool {
        let mut mac = self.mac.clone();
        mac.update(data);
        mac.verify_slice(tag).is_ok()
    }
}

/// Prefix of a value encrypted by [`SecretKey::encrypt`] (the scheme's version).
const SEALED: &str = "v1:";

impl SecretKey {
    /// The encryption key: derived from the secret key, apart from the signing one.
    fn cipher(&self) -> chacha20poly1305::XChaCha20Poly1305 {
        use chacha20poly1305::KeyInit;
        let key = self.sign(b"herald encryption key v1");
        chacha20poly1305::XChaCha20Poly1305::new(&key.into())
    }

    /// `plain` encrypted and authenticated (XChaCha20-Poly1305, a random nonce), as text to
    /// store: `v1:` and base64 of nonce and ciphertext.
    pub fn encrypt(&self, plain: &str) -> String {
        use base64::Engine;
        use chacha20poly1305::aead::{Aead, AeadCore, OsRng};
        let nonce = chacha20poly1305::XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = self
            .cipher()
            .encrypt(&nonce, plain.as_bytes())
            .expect("encryption of a short text cannot fail");
        let mut bytes = nonce.to_vec();
        bytes.extend(sealed);
        format!(
            "{SEALED}{}",
            base64::engine::general_purpose::STANDARD.encode(bytes)
        )
    }

    /// The text [`SecretKey::encrypt`] sealed; `None` when it was sealed with another key, was
    /// changed, or is not a sealed value.
    pub fn decrypt(&self, sealed: &str) -> Option<String> {
        use base64::Engine;
        use chacha20poly1305::aead::Aead;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(sealed.strip_prefix(SEALED)?)
            .ok()?;
        if bytes.len() < 24 {
            return None;
        }
        let (nonce, data) = bytes.split_at(24);
        let plain = self
            .cipher()
            .decrypt(chacha20poly1305::XNonce::from_slice(nonce), data)
            .ok()?;
        String::from_utf8(plain).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_sealed_and_only_this_key_opens_them() {
        let k = SecretKey::from_text(&"k".repeat(40)).unwrap();
        let sealed = k.encrypt("smtp-password-123");
        assert!(sealed.starts_with("v1:") && !sealed.contains("password"));
        assert_ne!(
            sealed,
            k.encrypt("smtp-password-123"),
            "a fresh nonce each time"
        );
        assert_eq!(k.decrypt(&sealed).as_deref(), Some("smtp-password-123"));
        let other = SecretKey::from_text(&"j".repeat(40)).unwrap();
        let mut tampered = sealed.clone().into_bytes();
        let last = tampered.len() - 3;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        for bad in [
            other.encrypt("x"),
            String::from_utf8(tampered).unwrap(),
            "v1:".into(),
            "v1:!!!".into(),
            "plain text".into(),
            sealed[..sealed.len() - 4].to_owned(),
        ] {
            assert_eq!(k.decrypt(&bad), None, "{bad}");
        }
    }

    #[test]
    fn generated_once_then_reused() {
        let dir = std::env::temp_dir().join(format!("herald-secret-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let a = SecretKey::load_or_create(&dir).unwrap();
        let b = SecretKey::load_or_create(&dir).unwrap();
        assert_eq!(a.sign(b"x"), b.sign(b"x"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join("secret.key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn short_keys_are_refused_and_keys_differ() {
        assert!(SecretKey::from_text("too short").is_err());
        let a = SecretKey::from_text(&"a".repeat(32)).unwrap();
        let b = SecretKey::from_text(&"b".repeat(32)).unwrap();
        assert_ne!(a.sign(b"x"), b.sign(b"x"));
    }
}
