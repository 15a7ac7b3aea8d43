//! The client's own records: its identity and its key packages' private
//! keys, and the index of its groups.

use crate::crypto::credential::Credential;
use crate::crypto::{CipherSuite, SignaturePrivateKey, SignaturePublicKey};
use crate::messages::key_package::{KeyPackageData, KeyPackagePrivate};
use crate::{Error, Result};

use super::group_records::GroupKeys;
use super::records::{
    APPLICATION_PSK_PREFIX, EXTERNAL_PSK_PREFIX, GROUP_INDEX_PREFIX, IDENTITY_KEY, Identity,
    KEY_PACKAGE_PREFIX, Kind, application_psk_key, decode_key_package, encode_key_package,
    external_psk_key, get, group_index_key, key_package_key, open, seal,
};
use crate::crypto::Secret;
use crate::storage::{SharedStorage, WriteBatch, with};

/// The stored identity, if any.
pub(crate) fn load_identity(storage: &SharedStorage) -> Result<Option<Identity>> {
    crate::storage::read(storage, IDENTITY_KEY)?
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
    kp: &KeyPackageData,
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
pub(crate) type StoredKeyPackage = (KeyPackageData, KeyPackagePrivate, bool);

/// Every stored key package, by reference.
pub(crate) fn load_key_packages(
    storage: &SharedStorage,
) -> Result<Vec<(Vec<u8>, StoredKeyPackage)>> {
    crate::storage::read_prefix(storage, KEY_PACKAGE_PREFIX.as_bytes())?
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
    crate::storage::read_prefix(storage, GROUP_INDEX_PREFIX.as_bytes())?
        .into_iter()
        .map(|(key, _)| unhex(&key, GROUP_INDEX_PREFIX))
        .collect()
}

/// Stores an external PSK (before the client holds it in memory).
pub(crate) fn save_external_psk(
    storage: &SharedStorage,
    psk_id: &[u8],
    psk: &Secret,
) -> Result<()> {
    let mut batch = WriteBatch::default();
    batch.put(
        external_psk_key(psk_id),
        seal(Kind::ExternalPsk, |w| crate::codec::Encode::encode(psk, w))?,
    );
    with(storage, |s| s.write(batch))
}

/// Deletes an external PSK.
pub(crate) fn delete_external_psk(storage: &SharedStorage, psk_id: &[u8]) -> Result<()> {
    let mut batch = WriteBatch::default();
    batch.delete(external_psk_key(psk_id));
    with(storage, |s| s.write(batch))
}

/// Every stored external PSK, by id.
pub(crate) fn load_external_psks(storage: &SharedStorage) -> Result<Vec<(Vec<u8>, Secret)>> {
    crate::storage::read_prefix(storage, EXTERNAL_PSK_PREFIX.as_bytes())?
        .into_iter()
        .map(|(key, value)| {
            let psk = open(&key, Kind::ExternalPsk, &value, |r| get(r, "psk"))?;
            Ok((unhex(&key, EXTERNAL_PSK_PREFIX)?, psk))
        })
        .collect()
}

/// Stores an application component's PSK (before the client holds it in
/// memory).
pub(crate) fn save_application_psk(
    storage: &SharedStorage,
    component_id: u16,
    psk_id: &[u8],
    psk: &Secret,
) -> Result<()> {
    let mut batch = WriteBatch::default();
    batch.put(
        application_psk_key(component_id, psk_id),
        seal(Kind::ApplicationPsk, |w| {
            crate::codec::Encode::encode(psk, w)
        })?,
    );
    with(storage, |s| s.write(batch))
}

/// Deletes an application component's PSK.
pub(crate) fn delete_application_psk(
    storage: &SharedStorage,
    component_id: u16,
    psk_id: &[u8],
) -> Result<()> {
    let mut batch = WriteBatch::default();
    batch.delete(application_psk_key(component_id, psk_id));
    with(storage, |s| s.write(batch))
}

/// A stored application PSK: (component id, PSK id) and its value.
pub(crate) type StoredApplicationPsk = ((u16, Vec<u8>), Secret);

/// Every stored application PSK, by (component id, PSK id).
pub(crate) fn load_application_psks(storage: &SharedStorage) -> Result<Vec<StoredApplicationPsk>> {
    crate::storage::read_prefix(storage, APPLICATION_PSK_PREFIX.as_bytes())?
        .into_iter()
        .map(|(key, value)| {
            let psk = open(&key, Kind::ApplicationPsk, &value, |r| get(r, "psk"))?;
            let both = unhex(&key, APPLICATION_PSK_PREFIX)?;
            if both.len() < 2 {
                return Err(crate::Error::Storage(format!(
                    "application PSK record {} has no component id",
                    String::from_utf8_lossy(&key)
                )));
            }
            let component_id = u16::from_be_bytes([both[0], both[1]]);
            Ok(((component_id, both[2..].to_vec()), psk))
        })
        .collect()
}

/// Deletes every record of group `group_id` and its index entry, in one
/// batch; returns whether the group was stored.
pub(crate) fn delete_group(storage: &SharedStorage, group_id: &[u8]) -> Result<bool> {
    let index = group_index_key(group_id);
    let keys = GroupKeys::new(group_id);
    let stored = crate::storage::read(storage, &index)?.is_some()
        || crate::storage::read(storage, &keys.meta())?.is_some();
    let mut batch = WriteBatch::default();
    batch.delete_prefix(keys.all());
    batch.delete(index);
    with(storage, |s| s.write(batch))?;
    Ok(stored)
}
