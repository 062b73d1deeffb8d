//! Organizations and API keys: creation, revocation, and authenticating a presented key.

use chrono::{DateTime, Utc};
use feather_domain::api_key::{ApiKey, Grants, Scope};
use feather_domain::input_config::FieldError;
use feather_domain::last_used;
use feather_domain::organization::Organization;
use feather_domain::slug::is_single_line_text;
use feather_store::NewApiKey;
use rand::Rng;
use rand::distr::Alphanumeric;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::{Service, ServiceError, ServiceResult};

/// Every key starts with this, so a leaked key is easy to recognize in a scan.
const KEY_MARKER: &str = "fth_";
/// Random characters after the marker: 40 alphanumerics carry about 238 bits.
const KEY_RANDOM_CHARS: usize = 40;
/// How much of the key is kept in the clear to tell keys apart in a listing.
const KEY_PREFIX_CHARS: usize = 12;
const KEY_NAME_MAX_CHARS: usize = 255;
const MAX_SCOPES: usize = 50;

/// The organization a request acts for, the key that proved it, and what it may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Principal {
    pub organization_id: Uuid,
    pub key_id: Uuid,
    pub grants: Grants,
}

/// A new key: the stored record and the plain-text key, which exists only in this value.
#[derive(Debug, Clone)]
pub struct CreatedApiKey {
    pub key: ApiKey,
    pub plain_text_key: String,
}

/// What a caller asks for when creating a key.
#[derive(Debug, Clone, Default)]
pub struct NewApiKeyInput {
    pub name: String,
    pub scopes: Vec<String>,
    pub expires_at: Option<DateTime<Utc>>,
}

fn hash_key(key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn generate_key() -> String {
    let random: String = rand::rng()
        .sample_iter(&Alphanumeric)
        .take(KEY_RANDOM_CHARS)
        .map(char::from)
        .collect();
    format!("{KEY_MARKER}{random}")
}

/// Every problem with a new key's name (already trimmed), scopes and expiry.
fn key_input_problems(
    name: &str,
    scopes: &[String],
    expires_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Vec<FieldError> {
    let problem = |loc: Vec<String>, msg: String, kind| FieldError { loc, msg, kind };
    let mut problems = Vec::new();
    if name.is_empty() {
        problems.push(problem(
            vec!["name".into()],
            "The key name must not be blank.".into(),
            "string_too_short",
        ));
    } else if name.chars().count() > KEY_NAME_MAX_CHARS {
        problems.push(problem(
            vec!["name".into()],
            format!("The key name must be at most {KEY_NAME_MAX_CHARS} characters."),
            "string_too_long",
        ));
    } else if !is_single_line_text(name) {
        problems.push(problem(
            vec!["name".into()],
            "The key name must not contain control characters.".into(),
            "value_error",
        ));
    }
    if scopes.len() > MAX_SCOPES {
        problems.push(problem(
            vec!["scopes".into()],
            format!("At most {MAX_SCOPES} scopes are allowed."),
            "too_long",
        ));
    }
    for (index, scope) in scopes.iter().enumerate() {
        if Scope::parse(scope).is_none() {
            let known: Vec<&str> = Scope::ALL.iter().map(|scope| scope.as_str()).collect();
            problems.push(problem(
                vec!["scopes".into(), index.to_string()],
                format!(
                    "Unknown scope {:?}: the scopes are {}.",
                    scope.chars().take(100).collect::<String>(),
                    known.join(", ")
                ),
                "enum",
            ));
        }
    }
    if expires_at.is_some_and(|expires_at| expires_at <= now) {
        problems.push(problem(
            vec!["expires_at".into()],
            "The expiry must be in the future.".into(),
            "value_error",
        ));
    }
    problems
}

fn looks_like_a_key(presented: &str) -> bool {
    presented.len() == KEY_MARKER.len() + KEY_RANDOM_CHARS
        && presented.starts_with(KEY_MARKER)
        && presented[KEY_MARKER.len()..]
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric())
}

impl Service {
    /// Every organization, oldest first.
    pub async fn list_organizations(&self) -> ServiceResult<Vec<Organization>> {
        Ok(self.store.list_organizations().await?)
    }

    /// Creates an organization and its first API key.
    pub async fn create_organization(
        &self,
        name: &str,
    ) -> ServiceResult<(Organization, CreatedApiKey)> {
        let name = name.trim();
        if name.is_empty() || !is_single_line_text(name) {
            return Err(ServiceError::invalid(
                &["name"],
                "The organization name must be one line of text, not blank.",
                "value_error",
            ));
        }
        let organization = Organization {
            id: Uuid::now_v7(),
            name: name.to_owned(),
            created_at: self.now(),
        };
        self.store.insert_organization(&organization).await?;
        let key = self
            .create_api_key(
                organization.id,
                Grants::EVERYTHING,
                NewApiKeyInput {
                    name: "Initial key".to_owned(),
                    ..NewApiKeyInput::default()
                },
            )
            .await?;
        Ok((organization, key))
    }

    /// Creates a key for the organization. `creator` is what the key asking may do: it can
    /// mint only keys that do no more (an operator's command grants everything).
    pub async fn create_api_key(
        &self,
        organization_id: Uuid,
        creator: Grants,
        input: NewApiKeyInput,
    ) -> ServiceResult<CreatedApiKey> {
        let name = input.name.trim();
        let created_at = self.now();
        let problems = key_input_problems(name, &input.scopes, input.expires_at, created_at);
        if !problems.is_empty() {
            return Err(ServiceError::Invalid(problems));
        }
        let requested = Grants::of(&input.scopes);
        if !creator.covers(requested) {
            let missing: Vec<&str> = requested
                .scopes()
                .into_iter()
                .filter(|scope| !creator.allows(*scope))
                .map(Scope::as_str)
                .collect();
            return Err(ServiceError::Forbidden(format!(
                "This API key cannot create a key that may do more than itself: it lacks {} \
                 (a key without scopes may do everything).",
                missing.join(", ")
            )));
        }
        let plain_text_key = generate_key();
        let key = self
            .store
            .insert_api_key(&NewApiKey {
                id: Uuid::now_v7(),
                organization_id,
                name: name.to_owned(),
                key_prefix: plain_text_key[..KEY_PREFIX_CHARS].to_owned(),
                key_hash: hash_key(&plain_text_key),
                scopes: input.scopes,
                created_at,
                expires_at: input.expires_at,
            })
            .await?;
        Ok(CreatedApiKey {
            key,
            plain_text_key,
        })
    }

    pub async fn list_api_keys(&self, organization_id: Uuid) -> ServiceResult<Vec<ApiKey>> {
        Ok(self.store.list_api_keys(organization_id).await?)
    }

    pub async fn revoke_api_key(&self, organization_id: Uuid, key_id: Uuid) -> ServiceResult<()> {
        if self
            .store
            .revoke_api_key(organization_id, key_id, self.now())
            .await?
        {
            self.keys.evict(key_id);
            Ok(())
        } else {
            Err(ServiceError::NotFound("API key"))
        }
    }

    /// The principal of a presented key, or None when the key is unknown, revoked or expired.
    /// A key checked in the last second is trusted without asking the store (so a
    /// revocation elsewhere takes effect here within a second).
    pub async fn authenticate(&self, presented: &str) -> ServiceResult<Option<Principal>> {
        if !looks_like_a_key(presented) {
            return Ok(None);
        }
        let key_hash = hash_key(presented);
        let at = self.now();
        if let Some(principal) = self.keys.get(&key_hash, at) {
            return Ok(Some(principal));
        }
        let Some(key) = self.store.find_api_key_by_hash(&key_hash).await? else {
            return Ok(None);
        };
        if !key.state(at).is_active() {
            return Ok(None);
        }
        if last_used::is_due(key.last_used_at, at) {
            self.store.touch_api_key(key.id, at).await?;
        }
        let principal = Principal {
            organization_id: key.organization_id,
            key_id: key.id,
            grants: Grants::of(&key.scopes),
        };
        self.keys.insert(key_hash, principal, at);
        Ok(Some(principal))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_have_the_marker_and_pass_the_shape_check() {
        let key = generate_key();
        assert!(key.starts_with(KEY_MARKER));
        assert!(looks_like_a_key(&key));
        assert_ne!(generate_key(), key);
    }

    #[test]
    fn malformed_keys_fail_the_shape_check_without_a_lookup() {
        assert!(!looks_like_a_key(""));
        assert!(!looks_like_a_key("fth_short"));
        assert!(!looks_like_a_key(&format!(
            "xxx_{}",
            "a".repeat(KEY_RANDOM_CHARS)
        )));
        assert!(!looks_like_a_key(&format!(
            "fth_{}!",
            "a".repeat(KEY_RANDOM_CHARS - 1)
        )));
        // Multi-byte characters must not be sliced mid-character.
        assert!(!looks_like_a_key(&format!(
            "fth_{}é",
            "a".repeat(KEY_RANDOM_CHARS - 2)
        )));
    }

    #[test]
    fn every_problem_with_a_new_key_is_reported() {
        let now = feather_store::now();
        let scopes = vec!["read".to_owned(), String::new(), "admin".to_owned()];
        let problems = key_input_problems("", &scopes, Some(now), now);
        let locs: Vec<Vec<String>> = problems.into_iter().map(|p| p.loc).collect();
        assert_eq!(
            locs,
            vec![
                vec!["name".to_owned()],
                vec!["scopes".to_owned(), "1".to_owned()],
                vec!["scopes".to_owned(), "2".to_owned()],
                vec!["expires_at".to_owned()],
            ]
        );
    }

    #[test]
    fn a_valid_new_key_has_no_problems() {
        let now = feather_store::now();
        let scopes = vec!["read".to_owned(), "invoke".to_owned()];
        let expiry = Some(now + chrono::Duration::days(30));
        assert!(key_input_problems("ci", &scopes, expiry, now).is_empty());
        assert!(!key_input_problems("a\nb", &[], None, now).is_empty());
        assert!(!key_input_problems(&"k".repeat(256), &[], None, now).is_empty());
    }

    #[test]
    fn key_hash_is_hex_sha256() {
        assert_eq!(
            hash_key("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
