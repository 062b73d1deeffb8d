//! The keys credentials are sealed with: given in configuration (several, during a
//! rotation), or generated once into the data directory (readable by the owner only).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use feather_service::SecretBox;

const KEY_FILE: &str = "secret.key";

/// The configured keys: comma-separated base64 of 32 bytes each; the first seals, all
/// open.
pub fn decode_configured(encoded: &str) -> anyhow::Result<Vec<[u8; 32]>> {
    let entries: Vec<&str> = encoded.split(',').map(str::trim).collect();
    let mut keys = Vec::with_capacity(entries.len());
    for (index, entry) in entries.iter().enumerate() {
        let key = decode(entry).with_context(|| {
            if entries.len() == 1 {
                "FEATHER_SECRET_KEY must be the base64 of 32 bytes (or several such keys, \
                 comma-separated)"
                    .to_owned()
            } else {
                format!(
                    "entry {} of FEATHER_SECRET_KEY must be the base64 of 32 bytes",
                    index + 1
                )
            }
        })?;
        keys.push(key);
    }
    Ok(keys)
}

/// Where the data directory keeps its key.
pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join(KEY_FILE)
}

/// The data directory's key, if its key file exists.
pub fn read(data_dir: &Path) -> anyhow::Result<Option<[u8; 32]>> {
    let path = path(data_dir);
    match std::fs::read_to_string(&path) {
        Ok(encoded) => decode(encoded.trim())
            .map(Some)
            .with_context(|| format!("{} is not a valid key", path.display())),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error).with_context(|| format!("could not read {}", path.display())),
    }
}

/// A fresh random key written to the data directory's key file (mode 0600); if another
/// process created the file first, its key.
pub fn create(data_dir: &Path) -> anyhow::Result<[u8; 32]> {
    let path = path(data_dir);
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("could not create {}", data_dir.display()))?;
    let key = SecretBox::generate_key();
    let mut options = std::fs::OpenOptions::new();
    // create_new: two processes starting at once must not overwrite each other's key.
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(&path) {
        Ok(mut file) => {
            writeln!(file, "{}", STANDARD.encode(key))
                .with_context(|| format!("could not write {}", path.display()))?;
            tracing::info!(path = %path.display(), "generated the credentials key");
            Ok(key)
        }
        // Another process created it first: use theirs.
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => read(data_dir)?
            .with_context(|| format!("{} disappeared while being read", path.display())),
        Err(error) => Err(error).with_context(|| format!("could not create {}", path.display())),
    }
}

/// A new random key, encoded as `FEATHER_SECRET_KEY` takes it.
pub fn generate() -> String {
    STANDARD.encode(SecretBox::generate_key())
}

fn decode(encoded: &str) -> anyhow::Result<[u8; 32]> {
    if encoded.is_empty() {
        bail!("it is empty");
    }
    let bytes = STANDARD.decode(encoded)?;
    match <[u8; 32]>::try_from(bytes.as_slice()) {
        Ok(key) => Ok(key),
        Err(_) => bail!("the key is {} bytes, not 32", bytes.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_is_kept_owner_only_and_read_back() {
        let dir = tempfile::tempdir().expect("temp dir");
        assert_eq!(read(dir.path()).expect("read"), None);
        let first = create(dir.path()).expect("generate");
        assert_eq!(read(dir.path()).expect("read back"), Some(first));
        // A second create (another process starting at once) keeps the first key.
        assert_eq!(create(dir.path()).expect("create again"), first);
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
        assert_eq!(
            decode_configured(&STANDARD.encode(key)).expect("key"),
            vec![key]
        );
        assert!(decode_configured(&STANDARD.encode([1u8; 16])).is_err());
        assert!(decode_configured("not base64!").is_err());
        assert!(decode_configured("").is_err());
    }

    #[test]
    fn several_configured_keys_are_kept_in_order() {
        let (new, old) = ([1u8; 32], [2u8; 32]);
        let list = format!("{}, {}", STANDARD.encode(new), STANDARD.encode(old));
        assert_eq!(decode_configured(&list).expect("keys"), vec![new, old]);
        let error =
            decode_configured(&format!("{},", STANDARD.encode(new))).expect_err("an empty entry");
        assert!(format!("{error:#}").contains("entry 2"), "{error:#}");
    }

    #[test]
    fn a_generated_key_is_accepted_as_configured() {
        let generated = generate();
        assert!(decode_configured(&generated).is_ok());
        assert_ne!(generated, generate());
    }
}
