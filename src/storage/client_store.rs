//! The client's own records: its identity and its key packages' private
//! keys, and the index of its groups.

use crate::crypto::credential::Credential;
use crate::crypto::{CipherSuite, SignaturePrivateKey, SignaturePublicKey};
use crate::group::key_package::{KeyPackage, KeyPackagePrivate};
use crate::{Error, Result};

use super::records::{
    GROUP_INDEX_PREFIX, IDENTITY_KEY, Identity, KEY_PACKAGE_PREFIX, decode_key_package,
    encode_key_package, key_package_key,
};
use super::{SharedStorage, WriteBatch, with};

/// The stored identity, if any.
pub(crate) fn load_identity(storage: &SharedStorage) -> Result<Option<Identity>> {
    with(storage, |s| s.get(IDENTITY_KEY))?
        .map(|bytes| Identity::decode(&bytes))
        .transpose()
}

/// Stores a new client's identity.
pub(crate) fn save_identity(
    storage: &SharedStorage,
    suite: CipherSuite,
    credential: &Credential,
    signer: &SignaturePrivateKey,
    public: &SignaturePublicKey,
) -> Result<()> {
    let record = Identity {
        suite: suite.0,
        credential: credential.clone(),
        signer: signer.clone(),
        public: public.clone(),
    }
    .encode()?;
    let mut batch = WriteBatch::default();
    batch.put(IDENTITY_KEY.to_vec(), record);
    with(storage, |s| s.write(batch))
}

/// A key package and its private keys, stored before it is published.
pub(crate) fn save_key_package(
    storage: &SharedStorage,
    kp_ref: &[u8],
    kp: &KeyPackage,
    private: &KeyPackagePrivate,
    last_resort: bool,
) -> Result<()> {
    let mut batch = WriteBatch::default();
    batch.put(
        key_package_key(kp_ref),
        encode_key_package(kp, private, last_resort)?,
    );
    with(storage, |s| s.write(batch))
}

/// Deletes a key package's private keys.
pub(crate) fn delete_key_package(storage: &SharedStorage, kp_ref: &[u8]) -> Result<()> {
    let mut batch = WriteBatch::default();
    batch.delete(key_package_key(kp_ref));
    with(storage, |s| s.write(batch))
}

fn unhex(key: &[u8], prefix: &str) -> Result<Vec<u8>> {
    let bad = || {
        Error::Storage(format!(
            "record key {:?} is not a valid index key: the database is corrupt",
            String::from_utf8_lossy(key)
        ))
    };
    let hex = key.strip_prefix(prefix.as_bytes()).ok_or_else(bad)?;
    if hex.len() % 2 != 0 {
        return Err(bad());
    }
    hex.chunks(2)
        .map(|pair| {
            std::str::from_utf8(pair)
                .ok()
                .and_then(|p| u8::from_str_radix(p, 16).ok())
                .ok_or_else(bad)
        })
        .collect()
}

/// A stored key package, its private keys and whether it is last resort.
pub(crate) type StoredKeyPackage = (KeyPackage, KeyPackagePrivate, bool);

/// Every stored key package, by reference.
pub(crate) fn load_key_packages(
    storage: &SharedStorage,
) -> Result<Vec<(Vec<u8>, StoredKeyPackage)>> {
    with(storage, |s| s.scan(KEY_PACKAGE_PREFIX.as_bytes()))?
        .into_iter()
        .map(|(key, value)| {
            Ok((
                unhex(&key, KEY_PACKAGE_PREFIX)?,
                decode_key_package(&key, &value)?,
            ))
        })
        .collect()
}

/// The ids of the stored groups.
pub(crate) fn group_ids(storage: &SharedStorage) -> Result<Vec<Vec<u8>>> {
    with(storage, |s| s.scan(GROUP_INDEX_PREFIX.as_bytes()))?
        .into_iter()
        .map(|(key, _)| unhex(&key, GROUP_INDEX_PREFIX))
        .collect()
}
