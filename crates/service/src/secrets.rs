//! Credentials at rest: sealed with XChaCha20-Poly1305 under the service's keys, each bound
//! to its connection so that a sealed value moved to another row does not open. The use
//! cases over all of them (the start-up check, rotation) are in `key_rotation`.
//!
//! Several keys may be configured: the first seals, every one opens, so replicas can move
//! from one key to the next without downtime. A sealed value names the key that sealed it
//! by its [`KeyId`], and the store keeps that id beside each value.

use std::sync::Arc;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// Format of the first sealed values: `[1][nonce][ciphertext]`, the connection id as
/// associated data. They name no key; still opened, by trying each configured key.
const VERSION_UNKEYED: u8 = 1;
/// Format sealed now: `[2][key id][nonce][ciphertext]`, with the version byte, the key id
/// and the connection id as associated data (the header cannot be altered unnoticed).
const VERSION: u8 = 2;
const KEY_ID_BYTES: usize = 8;
const NONCE_BYTES: usize = 24;
const HEADER_BYTES: usize = 1 + KEY_ID_BYTES;
/// Domain separation: the id is a hash of the key under this label, used for nothing else.
const KEY_ID_LABEL: &[u8] = b"feather-integrations sealing key id v1\0";

/// The public name of a sealing key: the first 8 bytes of SHA-256 over a fixed label and
/// the key. Safe to log, store and compare across replicas: the hash does not reveal the
/// key, and it does not help to guess one (a 256-bit key is out of reach of any search,
/// and a sealed value already lets a guess be checked against its authentication tag).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId([u8; KEY_ID_BYTES]);

impl KeyId {
    /// The id of `key`.
    pub fn of(key: &[u8; 32]) -> KeyId {
        let digest = Sha256::new()
            .chain_update(KEY_ID_LABEL)
            .chain_update(key)
            .finalize();
        let mut id = [0u8; KEY_ID_BYTES];
        id.copy_from_slice(&digest[..KEY_ID_BYTES]);
        KeyId(id)
    }

    /// The id as stored (8 bytes); `None` for anything else.
    pub fn from_bytes(bytes: &[u8]) -> Option<KeyId> {
        <[u8; KEY_ID_BYTES]>::try_from(bytes).ok().map(KeyId)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// 16 lowercase hex digits, as logs and messages show it.
impl std::fmt::Display for KeyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.iter().try_for_each(|byte| write!(f, "{byte:02x}"))
    }
}

impl std::fmt::Debug for KeyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyId({self})")
    }
}

/// Seals with one 256-bit key and opens with it and any older ones. `Debug` never shows
/// a key.
#[derive(Clone)]
pub struct SecretBox {
    /// Never empty; the first seals.
    keys: Arc<[SealingKey]>,
}

#[derive(Clone)]
struct SealingKey {
    id: KeyId,
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(…)")
    }
}

/// A sealed value did not open: sealed with a key that is not configured, another
/// connection's value, or damage.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("stored credentials could not be decrypted (wrong FEATHER_SECRET_KEY, or damaged data)")]
pub struct UnsealError;

/// What [`SecretBox::reseal`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resealed {
    /// Already sealed with the sealing key: nothing to write.
    Current,
    /// The same plaintext, sealed with the sealing key.
    Sealed(Vec<u8>),
}

impl SecretBox {
    /// A box with one key, which seals and opens.
    pub fn new(key: [u8; 32]) -> SecretBox {
        SecretBox::with_keys(key, [])
    }

    /// A box that seals with `sealing` and opens with it and every key of `also_opening`
    /// (a key given twice counts once).
    pub fn with_keys(
        sealing: [u8; 32],
        also_opening: impl IntoIterator<Item = [u8; 32]>,
    ) -> SecretBox {
        let mut keys: Vec<SealingKey> = Vec::new();
        for key in std::iter::once(sealing).chain(also_opening) {
            let id = KeyId::of(&key);
            if keys.iter().all(|known| known.id != id) {
                keys.push(SealingKey {
                    id,
                    cipher: XChaCha20Poly1305::new(&key.into()),
                });
            }
        }
        SecretBox { keys: keys.into() }
    }

    /// A fresh random key (for a first start, or for tests).
    pub fn generate_key() -> [u8; 32] {
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        key
    }

    /// The id of the key that seals.
    pub fn sealing_key_id(&self) -> KeyId {
        self.sealing_key().id
    }

    /// The ids of every key that opens, the sealing key's first.
    pub fn key_ids(&self) -> Vec<KeyId> {
        self.keys.iter().map(|key| key.id).collect()
    }

    /// The id of the key that sealed `sealed`, when its format names one.
    pub fn sealed_with(sealed: &[u8]) -> Option<KeyId> {
        match sealed {
            [VERSION, rest @ ..] => rest.get(..KEY_ID_BYTES).and_then(KeyId::from_bytes),
            _ => None,
        }
    }

    /// `plaintext` sealed for the connection `owner`, with the sealing key.
    pub fn seal(&self, owner: Uuid, plaintext: &[u8]) -> Vec<u8> {
        seal_with(self.sealing_key(), owner, plaintext)
    }

    /// The plaintext of a value sealed for `owner`, with whichever configured key sealed
    /// it.
    pub fn open(&self, owner: Uuid, sealed: &[u8]) -> Result<Vec<u8>, UnsealError> {
        self.open_naming_key(owner, sealed)
            .map(|(_, plaintext)| plaintext)
    }

    /// `sealed` as the sealing key would have sealed it: for a rotation.
    pub fn reseal(&self, owner: Uuid, sealed: &[u8]) -> Result<Resealed, UnsealError> {
        if Self::sealed_with(sealed) == Some(self.sealing_key_id()) {
            return Ok(Resealed::Current);
        }
        let plaintext = self.open(owner, sealed)?;
        Ok(Resealed::Sealed(self.seal(owner, &plaintext)))
    }

    /// A value of the first format sealed again with the key that opens it, so that it
    /// names that key from now on (no key changes); `None` when it names one already.
    pub fn record_key(
        &self,
        owner: Uuid,
        sealed: &[u8],
    ) -> Result<Option<(KeyId, Vec<u8>)>, UnsealError> {
        if sealed.first() != Some(&VERSION_UNKEYED) {
            return Ok(None);
        }
        let (key, plaintext) = self.open_naming_key(owner, sealed)?;
        Ok(Some((key.id, seal_with(key, owner, &plaintext))))
    }

    fn sealing_key(&self) -> &SealingKey {
        // `with_keys` always puts the sealing key first.
        &self.keys[0]
    }

    /// The plaintext, and the key that opened it.
    fn open_naming_key(
        &self,
        owner: Uuid,
        sealed: &[u8],
    ) -> Result<(&SealingKey, Vec<u8>), UnsealError> {
        match sealed.first() {
            Some(&VERSION) => {
                let (header, rest) = sealed.split_at_checked(HEADER_BYTES).ok_or(UnsealError)?;
                let id = Self::sealed_with(header).ok_or(UnsealError)?;
                let key = self
                    .keys
                    .iter()
                    .find(|key| key.id == id)
                    .ok_or(UnsealError)?;
                let plaintext = open_with(key, &associated_data(header, owner), rest)?;
                Ok((key, plaintext))
            }
            // The first format names no key: the one whose tag verifies is the one.
            Some(&VERSION_UNKEYED) => self
                .keys
                .iter()
                .find_map(|key| {
                    open_with(key, owner.as_bytes(), &sealed[1..])
                        .ok()
                        .map(|plaintext| (key, plaintext))
                })
                .ok_or(UnsealError),
            _ => Err(UnsealError),
        }
    }
}

fn seal_with(key: &SealingKey, owner: Uuid, plaintext: &[u8]) -> Vec<u8> {
    let mut nonce = [0u8; NONCE_BYTES];
    rand::rng().fill_bytes(&mut nonce);
    let mut sealed = Vec::with_capacity(HEADER_BYTES + NONCE_BYTES + plaintext.len() + 16);
    sealed.push(VERSION);
    sealed.extend_from_slice(key.id.as_bytes());
    let payload = Payload {
        msg: plaintext,
        aad: &associated_data(&sealed, owner),
    };
    // The AEAD refuses only messages of 256 GiB or more; what this service seals is
    // bounded by the request body limit, so a failure here is a broken invariant.
    let ciphertext = key
        .cipher
        .encrypt(&XNonce::from(nonce), payload)
        .expect("XChaCha20-Poly1305 seals any message under 256 GiB");
    sealed.extend_from_slice(&nonce);
    sealed.extend_from_slice(&ciphertext);
    sealed
}

/// `nonce ‖ ciphertext` opened with `key`.
fn open_with(key: &SealingKey, aad: &[u8], rest: &[u8]) -> Result<Vec<u8>, UnsealError> {
    let (nonce, ciphertext) = rest.split_at_checked(NONCE_BYTES).ok_or(UnsealError)?;
    let nonce: [u8; NONCE_BYTES] = nonce.try_into().map_err(|_| UnsealError)?;
    let payload = Payload {
        msg: ciphertext,
        aad,
    };
    key.cipher
        .decrypt(&XNonce::from(nonce), payload)
        .map_err(|_| UnsealError)
}

fn associated_data(header: &[u8], owner: Uuid) -> Vec<u8> {
    [header, owner.as_bytes().as_slice()].concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A value in the first format, as the service sealed them before key ids.
    fn seal_unkeyed(key: [u8; 32], owner: Uuid, plaintext: &[u8]) -> Vec<u8> {
        let cipher = XChaCha20Poly1305::new(&key.into());
        let nonce = [3u8; NONCE_BYTES];
        let ciphertext = cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: owner.as_bytes(),
                },
            )
            .expect("seal");
        [&[VERSION_UNKEYED][..], &nonce, &ciphertext].concat()
    }

    /// The first-format value that `crates/cli/tests/sealing_key.rs` stores to test the
    /// upgrade: key `[7; 32]`, this connection id and plaintext, nonce `[3; 24]`.
    const CLI_FIXTURE_OWNER: &str = "01900000-0000-7000-8000-000000000001";
    const CLI_FIXTURE_PLAINTEXT: &[u8] = br#"{"bearer_token":"token-of-the-support-desk"}"#;
    const CLI_FIXTURE_HEX: &str = "01030303030303030303030303030303030303030303030303ff24297e1453a38228642c9022bfec7308ee1f0c667b1b7acc724865450952cfbc7ceeb76c7101e8cfb69f0c388e764140c65f3bf7890b75f3a058c8";

    #[test]
    fn the_cli_tests_first_format_fixture_is_what_the_first_format_sealed() {
        let owner: Uuid = CLI_FIXTURE_OWNER.parse().expect("uuid");
        let sealed = seal_unkeyed([7; 32], owner, CLI_FIXTURE_PLAINTEXT);
        let hex: String = sealed.iter().map(|byte| format!("{byte:02x}")).collect();
        assert_eq!(hex, CLI_FIXTURE_HEX);
        assert_eq!(
            SecretBox::new([7; 32]).open(owner, &sealed),
            Ok(CLI_FIXTURE_PLAINTEXT.to_vec())
        );
    }

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
        assert_eq!(
            secrets.open(owner, &[VERSION_UNKEYED, 1, 2]),
            Err(UnsealError)
        );
        assert_eq!(secrets.open(owner, &[9, 1, 2]), Err(UnsealError));
    }

    #[test]
    fn a_sealed_value_names_its_key_by_id_and_the_header_is_authenticated() {
        let key = SecretBox::generate_key();
        let secrets = SecretBox::new(key);
        let owner = Uuid::now_v7();
        let sealed = secrets.seal(owner, b"token");
        assert_eq!(sealed[0], VERSION);
        assert_eq!(&sealed[1..HEADER_BYTES], KeyId::of(&key).as_bytes());
        assert_eq!(SecretBox::sealed_with(&sealed), Some(KeyId::of(&key)));
        assert_eq!(secrets.sealing_key_id(), KeyId::of(&key));
        // Another key's id in the header: that key is not configured, so nothing opens.
        let mut renamed = sealed.clone();
        renamed[1..HEADER_BYTES].copy_from_slice(KeyId::of(&[1; 32]).as_bytes());
        let both = SecretBox::with_keys(key, [[1; 32]]);
        assert_eq!(both.open(owner, &renamed), Err(UnsealError));
        assert_eq!(both.open(owner, &sealed), Ok(b"token".to_vec()));
    }

    #[test]
    fn the_first_key_seals_and_every_key_opens() {
        let (old, new) = (SecretBox::generate_key(), SecretBox::generate_key());
        let owner = Uuid::now_v7();
        let under_old = SecretBox::new(old).seal(owner, b"old");
        let under_new = SecretBox::new(new).seal(owner, b"new");
        let rotating = SecretBox::with_keys(new, [old]);
        assert_eq!(rotating.open(owner, &under_old), Ok(b"old".to_vec()));
        assert_eq!(rotating.open(owner, &under_new), Ok(b"new".to_vec()));
        assert_eq!(
            SecretBox::sealed_with(&rotating.seal(owner, b"x")),
            Some(KeyId::of(&new))
        );
        assert_eq!(rotating.key_ids(), vec![KeyId::of(&new), KeyId::of(&old)]);
        // The replica not yet switched opens what the switched one sealed, and back.
        let not_yet = SecretBox::with_keys(old, [new]);
        assert_eq!(
            not_yet.open(owner, &rotating.seal(owner, b"a")),
            Ok(b"a".to_vec())
        );
        assert_eq!(
            rotating.open(owner, &not_yet.seal(owner, b"b")),
            Ok(b"b".to_vec())
        );
        // Without the old key, what it sealed stays shut.
        assert_eq!(
            SecretBox::new(new).open(owner, &under_old),
            Err(UnsealError)
        );
    }

    #[test]
    fn a_key_given_twice_counts_once() {
        let key = SecretBox::generate_key();
        assert_eq!(
            SecretBox::with_keys(key, [key, key]).key_ids(),
            vec![KeyId::of(&key)]
        );
    }

    #[test]
    fn values_of_the_first_format_open_with_whichever_key_sealed_them() {
        let (old, new) = (SecretBox::generate_key(), SecretBox::generate_key());
        let owner = Uuid::now_v7();
        let unkeyed = seal_unkeyed(old, owner, b"token");
        assert_eq!(SecretBox::sealed_with(&unkeyed), None);
        let rotating = SecretBox::with_keys(new, [old]);
        assert_eq!(rotating.open(owner, &unkeyed), Ok(b"token".to_vec()));
        assert_eq!(rotating.open(Uuid::now_v7(), &unkeyed), Err(UnsealError));
        assert_eq!(SecretBox::new(new).open(owner, &unkeyed), Err(UnsealError));
    }

    #[test]
    fn recording_the_key_of_a_first_format_value_keeps_its_key() {
        let (old, new) = (SecretBox::generate_key(), SecretBox::generate_key());
        let owner = Uuid::now_v7();
        let rotating = SecretBox::with_keys(new, [old]);
        let (key_id, named) = rotating
            .record_key(owner, &seal_unkeyed(old, owner, b"token"))
            .expect("opens")
            .expect("was unnamed");
        assert_eq!(key_id, KeyId::of(&old));
        assert_eq!(SecretBox::sealed_with(&named), Some(KeyId::of(&old)));
        assert_eq!(
            SecretBox::new(old).open(owner, &named),
            Ok(b"token".to_vec())
        );
        assert_eq!(rotating.record_key(owner, &named), Ok(None));
        assert_eq!(
            SecretBox::new(new).record_key(owner, &seal_unkeyed(old, owner, b"token")),
            Err(UnsealError)
        );
    }

    #[test]
    fn resealing_moves_a_value_to_the_first_key_once() {
        let (old, new) = (SecretBox::generate_key(), SecretBox::generate_key());
        let owner = Uuid::now_v7();
        let rotating = SecretBox::with_keys(new, [old]);
        for sealed in [
            SecretBox::new(old).seal(owner, b"token"),
            seal_unkeyed(old, owner, b"token"),
        ] {
            let Ok(Resealed::Sealed(resealed)) = rotating.reseal(owner, &sealed) else {
                panic!("an old value is re-sealed");
            };
            assert_eq!(
                SecretBox::new(new).open(owner, &resealed),
                Ok(b"token".to_vec())
            );
            assert_eq!(rotating.reseal(owner, &resealed), Ok(Resealed::Current));
        }
        let lost = SecretBox::new(SecretBox::generate_key()).seal(owner, b"token");
        assert_eq!(rotating.reseal(owner, &lost), Err(UnsealError));
    }

    #[test]
    fn a_key_id_is_stable_distinct_and_not_the_key() {
        let key = [7u8; 32];
        assert_eq!(KeyId::of(&key), KeyId::of(&key));
        assert_ne!(KeyId::of(&key), KeyId::of(&[8u8; 32]));
        assert!(!key.starts_with(KeyId::of(&key).as_bytes()));
        let shown = KeyId::of(&key).to_string();
        assert_eq!(shown.len(), 16);
        assert!(
            shown
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_eq!(
            KeyId::from_bytes(KeyId::of(&key).as_bytes()),
            Some(KeyId::of(&key))
        );
        assert_eq!(KeyId::from_bytes(&[1, 2, 3]), None);
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
