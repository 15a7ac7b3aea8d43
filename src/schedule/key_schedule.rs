//! The key schedule (§8): from the previous epoch's `init_secret` to the
//! secrets of the new epoch.
//!
//! Each stage is its own type and the next stage is reached by value, so a
//! secret that the RFC consumes (§9.2: `init_secret`, `commit_secret`,
//! `joiner_secret`, `epoch_secret`) is moved into the derivation and
//! zeroized when it ends:
//!
//! ```text
//! InitSecret --(commit_secret, GroupContext)--> JoinerSecret
//! JoinerSecret --(psk_secret)--> WelcomeSecret           (borrowing)
//! JoinerSecret --(psk_secret, GroupContext)--> EpochSecret
//! EpochSecret --> EpochSecrets { ..., init_secret (next epoch) }
//! ```

use crate::codec::encode;
use crate::crypto::{HpkePrivateKey, HpkePublicKey, Secret, Suite};
use crate::types::error::{Error, Result};

use super::GroupContext;
use super::psk::PskSecret;
use super::secret_tree::KeyAndNonce;

/// Fails with a misuse error unless `secret` has `KDF.Nh` bytes. The inputs
/// checked here come from our own layers, so a wrong length is a bug in the
/// caller rather than a peer's fault.
fn check_nh(suite: &Suite, what: &str, secret: &Secret) -> Result<()> {
    if secret.len() == suite.hash_len() {
        Ok(())
    } else {
        Err(Error::Misuse(format!(
            "{what} has {} bytes, KDF.Nh of {:?} is {}",
            secret.len(),
            suite.id(),
            suite.hash_len()
        )))
    }
}

/// `init_secret_[n-1]` (§8): the previous epoch's link into the new epoch's
/// key schedule, or the `init_secret` of an external join (§8.3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InitSecret(Secret);

impl InitSecret {
    /// Wraps an init secret: from [`EpochSecrets::init_secret`] of the
    /// previous epoch, an HPKE export for an external join (§8.3), storage,
    /// or a test vector.
    pub fn new(secret: Secret) -> Self {
        Self(secret)
    }

    /// The secret bytes, e.g. to persist the group state.
    pub fn as_secret(&self) -> &Secret {
        &self.0
    }

    /// `joiner_secret = ExpandWithLabel(KDF.Extract(init_secret,
    /// commit_secret), "joiner", GroupContext_[n], KDF.Nh)` (§8).
    ///
    /// `commit_secret` is `None` for a Commit without a path, which §12.4.1
    /// and §12.4.2 define as the all-zero vector of length `KDF.Nh`.
    /// `group_context` is the context of the new epoch. Both secrets are
    /// consumed (§9.2).
    pub fn into_joiner_secret(
        self,
        suite: &Suite,
        commit_secret: Option<Secret>,
        group_context: &GroupContext,
    ) -> Result<JoinerSecret> {
        let commit_secret = commit_secret.unwrap_or_else(|| Secret::zero(suite.hash_len()));
        check_nh(suite, "commit_secret", &commit_secret)?;
        let context = encode(group_context)?;
        let extracted = suite.extract(self.0.as_bytes(), commit_secret.as_bytes());
        let joiner =
            suite.expand_with_label(extracted.as_bytes(), "joiner", &context, suite.hash_len())?;
        Ok(JoinerSecret(joiner))
    }
}

/// `joiner_secret` (§8): shared with new members in `GroupSecrets`. Not
/// `Clone`: it is consumed by [`JoinerSecret::into_epoch_secret`].
#[derive(Debug, PartialEq, Eq)]
pub struct JoinerSecret(Secret);

impl JoinerSecret {
    /// Wraps a joiner secret, e.g. from a decrypted `GroupSecrets` (§12.4.3.1).
    pub fn new(secret: Secret) -> Self {
        Self(secret)
    }

    /// The secret bytes, to place in `GroupSecrets.joiner_secret`.
    pub fn as_secret(&self) -> &Secret {
        &self.0
    }

    /// `KDF.Extract(joiner_secret, psk_secret)`: the unnamed node of the
    /// schedule both the welcome and epoch secrets hang from.
    fn with_psk(&self, suite: &Suite, psk_secret: &PskSecret) -> Result<Secret> {
        check_nh(suite, "psk_secret", psk_secret.as_secret())?;
        Ok(suite.extract(self.0.as_bytes(), psk_secret.as_secret().as_bytes()))
    }

    /// `welcome_secret = DeriveSecret(KDF.Extract(joiner_secret, psk_secret),
    /// "welcome")` (§8). Borrows: the joiner secret still yields the epoch
    /// secret.
    pub fn welcome_secret(&self, suite: &Suite, psk_secret: &PskSecret) -> Result<WelcomeSecret> {
        let member = self.with_psk(suite, psk_secret)?;
        Ok(WelcomeSecret(
            suite.derive_secret(member.as_bytes(), "welcome")?,
        ))
    }

    /// `epoch_secret = ExpandWithLabel(KDF.Extract(joiner_secret,
    /// psk_secret), "epoch", GroupContext_[n], KDF.Nh)` (§8). Consumes the
    /// joiner secret (§9.2).
    pub fn into_epoch_secret(
        self,
        suite: &Suite,
        psk_secret: &PskSecret,
        group_context: &GroupContext,
    ) -> Result<EpochSecret> {
        let member = self.with_psk(suite, psk_secret)?;
        let context = encode(group_context)?;
        let epoch =
            suite.expand_with_label(member.as_bytes(), "epoch", &context, suite.hash_len())?;
        Ok(EpochSecret(epoch))
    }
}

/// `welcome_secret` (§8): protects the GroupInfo inside a Welcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WelcomeSecret(Secret);

impl WelcomeSecret {
    /// The secret bytes.
    pub fn as_secret(&self) -> &Secret {
        &self.0
    }

    /// `welcome_key = ExpandWithLabel(welcome_secret, "key", "", AEAD.Nk)`
    /// and `welcome_nonce = ExpandWithLabel(welcome_secret, "nonce", "",
    /// AEAD.Nn)` (§12.4.3.1).
    pub fn key_and_nonce(&self, suite: &Suite) -> Result<KeyAndNonce> {
        Ok(KeyAndNonce {
            key: suite.expand_with_label(self.0.as_bytes(), "key", &[], suite.aead_key_len())?,
            nonce: suite.expand_with_label(
                self.0.as_bytes(),
                "nonce",
                &[],
                suite.aead_nonce_len(),
            )?,
        })
    }
}

/// `epoch_secret` (§8): the root of one epoch's secrets. Not `Clone`: it is
/// consumed by [`EpochSecret::into_epoch_secrets`].
#[derive(Debug, PartialEq, Eq)]
pub struct EpochSecret(Secret);

impl EpochSecret {
    /// The epoch secret of epoch 0 of a new group: "a fresh random value of
    /// size `KDF.Nh`" (§11). The caller supplies the randomness.
    pub fn for_new_group(suite: &Suite, random: Secret) -> Result<Self> {
        // §11: the creator's epoch secret MUST be KDF.Nh random bytes.
        check_nh(suite, "new group's epoch_secret", &random)?;
        Ok(Self(random))
    }

    /// Wraps an epoch secret, e.g. from storage.
    pub fn new(secret: Secret) -> Self {
        Self(secret)
    }

    /// The secret bytes.
    pub fn as_secret(&self) -> &Secret {
        &self.0
    }

    /// Derives every epoch-derived secret of the table in §8 and the next
    /// epoch's `init_secret`. Consumes the epoch secret (§9.2).
    pub fn into_epoch_secrets(self, suite: &Suite) -> Result<EpochSecrets> {
        let derive = |label: &str| suite.derive_secret(self.0.as_bytes(), label);
        Ok(EpochSecrets {
            sender_data_secret: derive("sender data")?,
            encryption_secret: derive("encryption")?,
            exporter_secret: derive("exporter")?,
            external_secret: derive("external")?,
            confirmation_key: derive("confirm")?,
            membership_key: derive("membership")?,
            resumption_psk: derive("resumption")?,
            epoch_authenticator: derive("authentication")?,
            application_export_secret: derive(APPLICATION_EXPORT_LABEL)?,
            init_secret: InitSecret(derive("init")?),
        })
    }
}

/// The label of `application_export_secret`, derived from the epoch secret
/// like the secrets of RFC 9420's table (draft-ietf-mls-extensions,
/// "Exported Secrets").
pub const APPLICATION_EXPORT_LABEL: &str = "application_export";

/// The secrets of one epoch (§8, table "Epoch-Derived Secrets").
///
/// Fields are public so each can be moved to its user, e.g.
/// `encryption_secret` into a [`SecretTree`](super::SecretTree), which then
/// owns and deletes it as §9.2 requires.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EpochSecrets {
    /// `"sender data"`: keys for SenderData encryption (§6.3.2).
    pub sender_data_secret: Secret,
    /// `"encryption"`: root of the secret tree (§9).
    pub encryption_secret: Secret,
    /// `"exporter"`: input of MLS-Exporter (§8.5).
    pub exporter_secret: Secret,
    /// `"external"`: seed of the external key pair (§8).
    pub external_secret: Secret,
    /// `"confirm"`: key of the confirmation tag (§6.1).
    pub confirmation_key: Secret,
    /// `"membership"`: key of the membership tag of PublicMessages (§6.2).
    pub membership_key: Secret,
    /// `"resumption"`: the epoch's resumption PSK (§8.6).
    pub resumption_psk: Secret,
    /// `"authentication"`: the epoch authenticator (§8.7).
    pub epoch_authenticator: Secret,
    /// `"application_export"`: root of the Exporter Tree of the safe
    /// exporter (draft-ietf-mls-extensions, "Exported Secrets").
    pub application_export_secret: Secret,
    /// `"init"`: `init_secret_[n]`, the next epoch's input.
    pub init_secret: InitSecret,
}

impl EpochSecrets {
    /// `MLS-Exporter(label, context, length)` (§8.5).
    pub fn export(
        &self,
        suite: &Suite,
        label: &str,
        context: &[u8],
        length: usize,
    ) -> Result<Secret> {
        mls_exporter(suite, &self.exporter_secret, label, context, length)
    }

    /// The external key pair `KEM.DeriveKeyPair(external_secret)` (§8).
    pub fn external_key_pair(&self, suite: &Suite) -> Result<(HpkePrivateKey, HpkePublicKey)> {
        external_key_pair(suite, &self.external_secret)
    }

    /// `confirmation_tag = MAC(confirmation_key, confirmed_transcript_hash)`
    /// (§6.1).
    pub fn confirmation_tag(&self, suite: &Suite, confirmed_transcript_hash: &[u8]) -> Vec<u8> {
        confirmation_tag(suite, &self.confirmation_key, confirmed_transcript_hash)
    }

    /// Checks a received confirmation tag in constant time (§6.1).
    pub fn verify_confirmation_tag(
        &self,
        suite: &Suite,
        confirmed_transcript_hash: &[u8],
        tag: &[u8],
    ) -> Result<()> {
        verify_confirmation_tag(
            suite,
            &self.confirmation_key,
            confirmed_transcript_hash,
            tag,
        )
    }
}

/// `MLS-Exporter(Label, Context, Length) =
/// ExpandWithLabel(DeriveSecret(exporter_secret, Label), "exported",
/// Hash(Context), Length)` (§8.5).
pub fn mls_exporter(
    suite: &Suite,
    exporter_secret: &Secret,
    label: &str,
    context: &[u8],
    length: usize,
) -> Result<Secret> {
    let derived = suite.derive_secret(exporter_secret.as_bytes(), label)?;
    Ok(suite.expand_with_label(derived.as_bytes(), "exported", &suite.hash(context), length)?)
}

/// `external_priv, external_pub = KEM.DeriveKeyPair(external_secret)` (§8).
pub fn external_key_pair(
    suite: &Suite,
    external_secret: &Secret,
) -> Result<(HpkePrivateKey, HpkePublicKey)> {
    Ok(suite.derive_key_pair(external_secret.as_bytes())?)
}

/// `MAC(confirmation_key, confirmed_transcript_hash)` (§6.1).
pub fn confirmation_tag(
    suite: &Suite,
    confirmation_key: &Secret,
    confirmed_transcript_hash: &[u8],
) -> Vec<u8> {
    suite.mac(confirmation_key.as_bytes(), confirmed_transcript_hash)
}

/// Verifies `tag == MAC(confirmation_key, confirmed_transcript_hash)` in
/// constant time; a mismatch is
/// [`CryptoError::InvalidMac`](crate::crypto::CryptoError::InvalidMac). §12.4.2 and
/// §12.4.3.1 require this check on every Commit and GroupInfo received.
pub fn verify_confirmation_tag(
    suite: &Suite,
    confirmation_key: &Secret,
    confirmed_transcript_hash: &[u8],
    tag: &[u8],
) -> Result<()> {
    Ok(suite.verify_mac(confirmation_key.as_bytes(), confirmed_transcript_hash, tag)?)
}

#[cfg(test)]
#[path = "key_schedule_tests.rs"]
mod tests;
