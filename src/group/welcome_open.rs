//! Opening a Welcome (§12.4.3.1): the cryptographic steps a new member takes
//! before it imports the tree. The group engine builds the join on these.

use crate::codec::encode;
use crate::crypto::{HpkePrivateKey, SignaturePublicKey, Suite};
use crate::messages::key_package::KeyPackageData;
use crate::messages::welcome::{GroupInfo, GroupSecrets, Welcome};
use crate::schedule::{JoinerSecret, PskSecret};
use crate::{Error, Result, decode_exact};

/// Label of the HPKE encryption of GroupSecrets (§12.4.3.1).
pub const WELCOME_LABEL: &str = "Welcome";
/// Label of the GroupInfo signature (§12.4.3).
pub const GROUP_INFO_LABEL: &str = "GroupInfoTBS";

/// `MakeKeyPackageRef` of a key package (§5.2).
pub fn key_package_ref(suite: &Suite, key_package: &KeyPackageData) -> Result<Vec<u8>> {
    Ok(suite.key_package_ref(&encode(key_package)?)?)
}

/// Finds the entry for `key_package_ref` and decrypts its GroupSecrets with
/// the key package's init private key (§12.4.3.1).
pub fn decrypt_group_secrets(
    suite: &Suite,
    welcome: &Welcome,
    key_package_ref: &[u8],
    init_private_key: &HpkePrivateKey,
) -> Result<GroupSecrets> {
    if welcome.cipher_suite != suite.id() {
        return Err(Error::protocol(
            "§12.4.3.1",
            format!(
                "Welcome is for cipher suite {:?}, the key package for {:?}",
                welcome.cipher_suite,
                suite.id()
            ),
        ));
    }
    // §12.4.3.1: "Identify an entry in the secrets array where the
    // new_member value corresponds to one of this client's KeyPackages".
    let entry = welcome
        .secrets
        .iter()
        .find(|s| s.new_member == key_package_ref)
        .ok_or_else(|| {
            Error::protocol(
                "§12.4.3.1",
                "the Welcome has no entry for this key package".to_string(),
            )
        })?;
    let plaintext = suite.decrypt_with_label(
        init_private_key,
        WELCOME_LABEL,
        &welcome.encrypted_group_info,
        &entry.encrypted_group_secrets.kem_output,
        &entry.encrypted_group_secrets.ciphertext,
    )?;
    decode_exact("GroupSecrets", plaintext.as_bytes())
}

/// Decrypts the GroupInfo with the welcome key derived from the joiner
/// secret and the PSK secret (§12.4.3.1).
pub fn decrypt_group_info(
    suite: &Suite,
    welcome: &Welcome,
    joiner_secret: &JoinerSecret,
    psk_secret: &PskSecret,
) -> Result<GroupInfo> {
    let key = joiner_secret
        .welcome_secret(suite, psk_secret)?
        .key_and_nonce(suite)?;
    let plaintext = suite.aead_open(
        key.key.as_bytes(),
        key.nonce.as_bytes(),
        &[],
        &welcome.encrypted_group_info,
    )?;
    let info: GroupInfo = decode_exact("GroupInfo", plaintext.as_bytes())?;
    if info.group_context.cipher_suite != welcome.cipher_suite {
        return Err(Error::protocol(
            "§12.4.3.1",
            format!(
                "GroupInfo names cipher suite {:?} but the Welcome {:?}",
                info.group_context.cipher_suite, welcome.cipher_suite
            ),
        ));
    }
    Ok(info)
}

/// Verifies the GroupInfo signature with the signer's leaf key (§12.4.3).
pub fn verify_group_info(
    suite: &Suite,
    info: &GroupInfo,
    signer_key: &SignaturePublicKey,
) -> Result<()> {
    suite
        .verify_with_label(
            signer_key,
            GROUP_INFO_LABEL,
            &info.to_be_signed()?,
            &info.signature,
        )
        .map_err(|_| {
            Error::protocol(
                "§12.4.3",
                format!(
                    "GroupInfo signature by leaf {} does not verify",
                    info.signer.0
                ),
            )
        })
}
