//! The use cases over every stored credential: checking at start-up that the configured
//! keys open them all, and re-sealing them under the first key (rotation), while replicas
//! keep serving.

use feather_domain::integration::ConnectionStatus;
use feather_store::{SealedSecret, SealedWith};

use crate::secrets::{KeyId, Resealed, SecretBox, UnsealError};
use crate::{Service, ServiceResult};

/// Credentials read per page while checking or rotating.
const PAGE: u32 = 200;
/// How often one credential is re-read and re-sealed when another replica keeps changing
/// it under the rotation, before it is left for the next run.
const RESEAL_ATTEMPTS: usize = 5;

/// The stored credentials seen from the configured keys, as `serve` checks them before it
/// starts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SealingKeyCheck {
    /// Credentials stored.
    pub stored: u64,
    /// Sealed with a configured key other than the first: what a rotation has left to do.
    pub under_older_keys: u64,
    /// Sealed with keys that are not configured: how many under each.
    pub missing_keys: Vec<(KeyId, u64)>,
    /// Of the values of the first format (which name no key), those no configured key
    /// opens.
    pub unnamed_unopenable: u64,
    /// Of the values of the first format, those now sealed again naming their key.
    pub named_now: u64,
    /// Values that name a key id of the wrong length: damaged.
    pub damaged: u64,
}

impl SealingKeyCheck {
    /// Credentials that no configured key opens.
    pub fn unopenable(&self) -> u64 {
        self.missing_keys
            .iter()
            .map(|(_, count)| count)
            .sum::<u64>()
            + self.unnamed_unopenable
            + self.damaged
    }
}

/// What a rotation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    /// The key everything was re-sealed with.
    pub key_id: KeyId,
    /// Credentials re-sealed with it.
    pub resealed: u64,
    /// Credentials that were sealed with it already.
    pub already_current: u64,
    /// Credentials no configured key opens, left as they were: how many under each key
    /// (`None`: values that name no key, or a damaged one).
    pub unopenable: Vec<(Option<KeyId>, u64)>,
    /// Unopenable credentials deleted (when asked), their connections made `error`.
    pub forgotten: u64,
    /// Credentials another replica kept changing during the rotation, left for a next run.
    pub changed_meanwhile: u64,
}

impl Rotation {
    /// Credentials left unopenable.
    pub fn unopenable_count(&self) -> u64 {
        self.unopenable.iter().map(|(_, count)| count).sum()
    }

    fn count_unopenable(&mut self, key: Option<KeyId>) {
        match self.unopenable.iter_mut().find(|(known, _)| *known == key) {
            Some((_, count)) => *count += 1,
            None => self.unopenable.push((key, 1)),
        }
    }
}

/// The `status_reason` of a connection whose credentials were forgotten.
const FORGOTTEN_REASON: &str = "Its stored credentials were sealed with a key that is lost, \
     and were deleted: connect it again.";

impl Service {
    /// Checks that the configured keys open every stored credential, from the key ids the
    /// store records (one grouped count). Values of the first format, which name no key,
    /// are opened one by one, and those that open are sealed again naming their key (the
    /// same key: nothing rotates), so that later checks need not open them.
    pub async fn check_sealing_keys(&self) -> ServiceResult<SealingKeyCheck> {
        let mut check = SealingKeyCheck::default();
        let sealing = self.secrets.sealing_key_id();
        let configured = self.secrets.key_ids();
        let mut unnamed = false;
        for group in self.store.sealed_secrets_by_key().await? {
            check.stored += group.count;
            match group.key_id.as_deref().map(KeyId::from_bytes) {
                None => unnamed = true,
                Some(None) => check.damaged += group.count,
                Some(Some(id)) if id == sealing => {}
                Some(Some(id)) if configured.contains(&id) => check.under_older_keys += group.count,
                Some(Some(id)) => check.missing_keys.push((id, group.count)),
            }
        }
        let mut after = None;
        while unnamed {
            let page = self
                .store
                .sealed_secrets(SealedWith::NoRecordedKey, after, PAGE)
                .await?;
            unnamed = page.len() == PAGE as usize;
            after = page.last().map(|secret| secret.connection_id);
            for secret in page {
                match self
                    .secrets
                    .record_key(secret.connection_id, &secret.sealed)
                {
                    Ok(Some((key_id, named))) => {
                        // A miss means another replica changed it meanwhile: then it
                        // names its key already.
                        if self
                            .store
                            .replace_sealed_secret(
                                secret.connection_id,
                                &secret.sealed,
                                &named,
                                self.now(),
                            )
                            .await?
                        {
                            check.named_now += 1;
                        }
                        if key_id != sealing {
                            check.under_older_keys += 1;
                        }
                    }
                    Ok(None) => {}
                    Err(UnsealError) => check.unnamed_unopenable += 1,
                }
            }
        }
        Ok(check)
    }

    /// Re-seals every stored credential that the sealing key did not seal, with it, page
    /// by page, while other replicas keep serving: each write is a compare-and-set on the
    /// value read, so a credential changed meanwhile is read again rather than
    /// overwritten. Running it again does nothing more. With `forget_unopenable`, the
    /// credentials no configured key opens are deleted and their connections made `error`
    /// (for a key that is lost for good); otherwise they are left and counted.
    pub async fn rotate_secrets(&self, forget_unopenable: bool) -> ServiceResult<Rotation> {
        let key_id = self.secrets.sealing_key_id();
        let mut rotation = Rotation {
            key_id,
            resealed: 0,
            already_current: 0,
            unopenable: Vec::new(),
            forgotten: 0,
            changed_meanwhile: 0,
        };
        for group in self.store.sealed_secrets_by_key().await? {
            if group.key_id.as_deref() == Some(key_id.as_bytes()) {
                rotation.already_current += group.count;
            }
        }
        let mut after = None;
        loop {
            let page = self
                .store
                .sealed_secrets(SealedWith::AnyKeyBut(key_id.as_bytes()), after, PAGE)
                .await?;
            let last_page = page.len() < PAGE as usize;
            after = page.last().map(|secret| secret.connection_id);
            for secret in page {
                self.rotate_one(secret, forget_unopenable, &mut rotation)
                    .await?;
            }
            if last_page {
                return Ok(rotation);
            }
        }
    }

    async fn rotate_one(
        &self,
        mut secret: SealedSecret,
        forget_unopenable: bool,
        rotation: &mut Rotation,
    ) -> ServiceResult<()> {
        for _ in 0..RESEAL_ATTEMPTS {
            match self.secrets.reseal(secret.connection_id, &secret.sealed) {
                Ok(Resealed::Current) => {
                    rotation.already_current += 1;
                    return Ok(());
                }
                Ok(Resealed::Sealed(resealed)) => {
                    if self
                        .store
                        .replace_sealed_secret(
                            secret.connection_id,
                            &secret.sealed,
                            &resealed,
                            self.now(),
                        )
                        .await?
                    {
                        rotation.resealed += 1;
                        return Ok(());
                    }
                }
                Err(UnsealError) if forget_unopenable => {
                    if self.forget_sealed_secret(&secret).await? {
                        rotation.forgotten += 1;
                        return Ok(());
                    }
                }
                Err(UnsealError) => {
                    rotation.count_unopenable(SecretBox::sealed_with(&secret.sealed));
                    return Ok(());
                }
            }
            // Changed since it was read: read it again (gone with its connection: done).
            match self.store.connection_secret(secret.connection_id).await? {
                Some(sealed) => secret.sealed = sealed,
                None => return Ok(()),
            }
        }
        rotation.changed_meanwhile += 1;
        Ok(())
    }

    /// Deletes credentials no configured key opens, if they are still `secret.sealed`, and
    /// makes their connection `error` with [`FORGOTTEN_REASON`], together. False when they
    /// changed meanwhile or are gone.
    async fn forget_sealed_secret(&self, secret: &SealedSecret) -> ServiceResult<bool> {
        let mut write = self
            .store
            .begin_listing_write(secret.organization_id)
            .await?;
        if !write.delete_sealed_secret(secret).await? {
            return Ok(false);
        }
        write
            .set_connection_status(
                secret.organization_id,
                secret.connection_id,
                ConnectionStatus::Error,
                FORGOTTEN_REASON,
                self.now(),
            )
            .await?;
        write.commit().await?;
        Ok(true)
    }
}
