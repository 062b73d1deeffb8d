//! The key credentials are sealed with: given in configuration, or generated once into the
//! data directory (readable by the owner only).

use std::io::Write;
use std::path::Path;

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use feather_service::SecretBox;

const KEY_FILE: &str = "secret.key";

/// The configured key: base64 of 32 bytes.
pub fn decode_configured(encoded: &str) -> anyhow::Result<[u8; 32]> {
    decode(encoded).context("FEATHER_SECRET_KEY must be the base64 of 32 bytes")
}

/// The data directory's key file, created with a fresh random key on first use.
pub fn load_or_create(data_dir: &Path) -> anyhow::Result<[u8; 32]> {
    let path = data_dir.join(KEY_FILE);
    match std::fs::read_to_string(&path) {
        Ok(encoded) => {
            decode(encoded.trim()).with_context(|| format!("{} is not a valid key", path.display()))
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => create(&path),
        Err(error) => Err(error).with_context(|| format!("could not read {}", path.display())),
    }
}

/// A new random key, encoded as `FEATHER_SECRET_KEY` takes it.
pub fn generate() -> String {
    STANDARD.encode(SecretBox::generate_key())
}

fn decode(encoded: &str) -> anyhow::Result<[u8; 32]> {
    let bytes = STANDARD.decode(encoded.trim())?;
    match <[u8; 32]>::try_from(bytes.as_slice()) {
        Ok(key) => Ok(key),
        Err(_) => bail!("the key is {} bytes, not 32", bytes.len()),
    }
}

fn create(path: &Path) -> anyhow::Result<[u8; 32]> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("could not create {}", dir.display()))?;
    }
    let key = SecretBox::generate_key();
    let mut options = std::fs::OpenOptions::new();
    // create_new: two processes starting at once must not overwrite each other's key.
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(mut file) => {
            writeln!(file, "{}", STANDARD.encode(key))
                .with_context(|| format!("could not write {}", path.display()))?;
            tracing::info!(path = %path.display(), "generated the credentials key");
            Ok(key)
        }
        // Another process created it first: use theirs.
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
            load_or_create(path.parent().unwrap_or(Path::new(".")))
        }
        Err(error) => Err(error).with_context(|| format!("could not create {}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_is_kept_owner_only_and_read_back() {
        let dir = tempfile::tempdir().expect("temp dir");
        let first = load_or_create(dir.path()).expect("generate");
        let second = load_or_create(dir.path()).expect("read back");
        assert_eq!(first, second);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(KEY_FILE))
                .expect("metadata")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_configured_key_must_be_32_bytes_of_base64() {
        let key = [9u8; 32];
        assert_eq!(decode_configured(&STANDARD.encode(key)).expect("key"), key);
        assert!(decode_configured(&STANDARD.encode([1u8; 16])).is_err());
        assert!(decode_configured("not base64!").is_err());
    }

    #[test]
    fn a_generated_key_is_accepted_as_configured() {
        let generated = generate();
        assert!(decode_configured(&generated).is_ok());
        assert_ne!(generated, generate());
    }
}
