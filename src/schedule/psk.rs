//! Combining pre-shared keys into `psk_secret` (§8.4).

use crate::codec::encode;
use crate::crypto::{Secret, Suite};
use crate::types::error::{Error, Result};

use super::{PreSharedKeyId, PskLabel};

/// `psk_secret` (§8.4): the PSKs of a Commit or Welcome chained into one
/// secret of length `KDF.Nh`, an input of the key schedule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PskSecret(Secret);

impl PskSecret {
    /// `psk_secret_[0]`: the all-zero vector of length `KDF.Nh`, used when a
    /// Commit injects no PSKs (§8.4).
    pub fn zero(suite: &Suite) -> Self {
        Self(Secret::zero(suite.hash_len()))
    }

    /// Wraps an already computed `psk_secret` (e.g. from a test vector).
    pub fn from_secret(secret: Secret) -> Self {
        Self(secret)
    }

    /// Chains `psks`, each an id and the PSK value it names, in the order of
    /// the Commit's PreSharedKey proposals or the GroupSecrets' `psks` (§8.4):
    ///
    /// ```text
    /// psk_extracted_[i] = KDF.Extract(0, psk_[i])
    /// psk_input_[i]     = ExpandWithLabel(psk_extracted_[i], "derived psk", PSKLabel, KDF.Nh)
    /// psk_secret_[i+1]  = KDF.Extract(psk_input_[i], psk_secret_[i])
    /// ```
    ///
    /// No PSKs give the all-zero vector. More than 65535 PSKs cannot be
    /// labelled (`PSKLabel.count` is a `uint16`) and are refused, as is a
    /// `psk_nonce` whose length is not `KDF.Nh`.
    pub fn compute<'a, I>(suite: &Suite, psks: I) -> Result<Self>
    where
        I: IntoIterator<Item = (&'a PreSharedKeyId, &'a [u8])>,
        I::IntoIter: ExactSizeIterator,
    {
        let psks = psks.into_iter();
        let count = u16::try_from(psks.len()).map_err(|_| {
            Error::protocol(
                "§8.4",
                format!(
                    "{} PSKs cannot be combined: PSKLabel.count is a uint16",
                    psks.len()
                ),
            )
        })?;
        let nh = suite.hash_len();
        let zero = Secret::zero(nh);
        let mut psk_secret = Secret::zero(nh);
        for (index, (id, psk)) in (0..count).zip(psks) {
            // §8.4 / §12.1.4: the psk_nonce MUST have length KDF.Nh.
            if id.psk_nonce.len() != nh {
                return Err(Error::protocol(
                    "§12.1.4",
                    format!(
                        "PSK {index}: psk_nonce has {} bytes, KDF.Nh is {nh}",
                        id.psk_nonce.len()
                    ),
                ));
            }
            let label = encode(&PskLabel {
                id: id.clone(),
                index,
                count,
            })?;
            let extracted = suite.extract(zero.as_bytes(), psk);
            let input = suite.expand_with_label(extracted.as_bytes(), "derived psk", &label, nh)?;
            psk_secret = suite.extract(input.as_bytes(), psk_secret.as_bytes());
        }
        Ok(Self(psk_secret))
    }

    /// The secret bytes.
    pub fn as_secret(&self) -> &Secret {
        &self.0
    }
}
