//! Credentials at rest: sealed with XChaCha20-Poly1305 under the service's key, each bound
//! to its connection so that a sealed value moved to another row does not open.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use uuid::Uuid;

/// Format marker of a sealed value, so that the scheme or key can change later.
const VERSION: u8 = 1;
const NONCE_BYTES: usize = 24;

/// Seals and opens secrets with one 256-bit key. `Debug` never shows the key.
#[derive(Clone)]
pub struct SecretBox {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(…)")
    }
}

/// A sealed value did not open: wrong key, another connection's value, or damage.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("stored credentials could not be decrypted (wrong FEATHER_SECRET_KEY, or damaged data)")]
pub struct UnsealError;

impl SecretBox {
    pub fn new(key: [u8; 32]) -> SecretBox {
        SecretBox {
            cipher: XChaCha20Poly1305::new(&key.into()),
        }
    }

    /// A fresh random key (for a first start, or for tests).
    pub fn generate_key() -> [u8; 32] {
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        key
    }

    /// `plaintext` sealed for the connection `owner`.
    pub fn seal(&self, owner: Uuid, plaintext: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_BYTES];
        rand::rng().fill_bytes(&mut nonce);
        let payload = Payload {
            msg: plaintext,
            aad: owner.as_bytes(),
        };
        // The AEAD refuses only messages of 256 GiB or more; what this service seals is
        // bounded by the request body limit, so a failure here is a broken invariant.
        let ciphertext = self
            .cipher
            .encrypt(&XNonce::from(nonce), payload)
            .expect("XChaCha20-Poly1305 seals any message under 256 GiB");
        let mut sealed = Vec::with_capacity(1 + NONCE_BYTES + ciphertext.len());
        sealed.push(VERSION);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        sealed
    }

    /// The plaintext of a value sealed for `owner`.
    pub fn open(&self, owner: Uuid, sealed: &[u8]) -> Result<Vec<u8>, UnsealError> {
        let (&version, rest) = sealed.split_first().ok_or(UnsealError)?;
        if version != VERSION || rest.len() < NONCE_BYTES {
            return Err(UnsealError);
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_BYTES);
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().map_err(|_| UnsealError)?;
        let payload = Payload {
            msg: ciphertext,
            aad: owner.as_bytes(),
        };
        self.cipher
            .decrypt(&XNonce::from(nonce), payload)
            .map_err(|_| UnsealError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_for_their_owner_only() {
        let secrets = SecretBox::new(SecretBox::generate_key());
        let owner = Uuid::now_v7();
        let sealed = secrets.seal(owner, b"token");
        assert!(!sealed.windows(5).any(|window| window == b"token"));
        assert_eq!(secrets.open(owner, &sealed), Ok(b"token".to_vec()));
        assert_eq!(secrets.open(Uuid::now_v7(), &sealed), Err(UnsealError));
    }

    #[test]
    fn another_key_or_damage_does_not_open() {
        let owner = Uuid::now_v7();
        let sealed = SecretBox::new(SecretBox::generate_key()).seal(owner, b"token");
        let other = SecretBox::new(SecretBox::generate_key());
        assert_eq!(other.open(owner, &sealed), Err(UnsealError));
        let secrets = SecretBox::new(SecretBox::generate_key());
        let mut damaged = secrets.seal(owner, b"token");
        if let Some(last) = damaged.last_mut() {
            *last ^= 1;
        }
        assert_eq!(secrets.open(owner, &damaged), Err(UnsealError));
        assert_eq!(secrets.open(owner, &[]), Err(UnsealError));
        assert_eq!(secrets.open(owner, &[VERSION, 1, 2]), Err(UnsealError));
    }

    #[test]
    fn sealing_twice_gives_different_bytes() {
        let secrets = SecretBox::new(SecretBox::generate_key());
        let owner = Uuid::now_v7();
        assert_ne!(secrets.seal(owner, b"same"), secrets.seal(owner, b"same"));
    }

    #[test]
    fn debug_never_shows_the_key() {
        assert_eq!(format!("{:?}", SecretBox::new([7; 32])), "SecretBox(…)");
    }
}
