//! KeyPackage (§10): wire form.

use crate::Error;
use crate::codec::{Encode, Writer, wire_struct};
use crate::crypto::credential::Credential;
use crate::crypto::{
    CipherSuite, HpkePrivateKey, HpkePublicKey, RandomSource, SignaturePrivateKey,
    SignaturePublicKey, Suite,
};
use crate::tree::leaf_node::LeafNode;
use crate::tree::leaf_node::{Capabilities, LeafNodeSource, Lifetime};
use crate::tree::leaf_validation::{LeafRole, LifetimePolicy, validate_leaf_node};
use crate::tree::private::generate_hpke_key_pair;
use crate::types::Extension;
use crate::types::ProtocolVersion;
use crate::types::extensions::{RequiredCapabilities, check_unique_types};

wire_struct! {
    /// The `KeyPackage` structure of §10, as carried in an Add proposal.
    /// (The crate root's [`KeyPackage`](crate::KeyPackage) is the
    /// MLSMessage an application receives and publishes, holding one.)
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct KeyPackageData {
        /// Protocol version.
        pub version: ProtocolVersion,
        /// Cipher suite the package is for.
        pub cipher_suite: CipherSuite,
        /// HPKE key a Welcome is encrypted to.
        pub init_key: HpkePublicKey,
        /// The leaf node the member will occupy.
        pub leaf_node: LeafNode,
        /// Key package extensions.
        pub extensions: Vec<Extension>,
        /// `SignWithLabel(., "KeyPackageTBS", KeyPackageTBS)`.
        pub signature: Vec<u8>,
    }
}

impl KeyPackageData {
    /// Encodes `KeyPackageTBS`: every field but the signature.
    pub fn to_be_signed(&self) -> crate::Result<Vec<u8>> {
        let mut w = Writer::new();
        self.version.encode(&mut w);
        self.cipher_suite.encode(&mut w);
        self.init_key.encode(&mut w);
        self.leaf_node.encode(&mut w);
        self.extensions.encode(&mut w);
        Ok(w.finish()?)
    }
}

/// Label of the KeyPackage signature (§10).
pub const KEY_PACKAGE_LABEL: &str = "KeyPackageTBS";

/// The private keys behind a key package: the init key a Welcome is
/// encrypted to and the leaf's encryption key.
#[derive(Debug, Clone)]
pub struct KeyPackagePrivate {
    /// Private half of `init_key`.
    pub init_key: HpkePrivateKey,
    /// Private half of `leaf_node.encryption_key`.
    pub encryption_key: HpkePrivateKey,
}

/// What goes into a new key package besides fresh keys.
#[derive(Debug, Clone)]
pub struct KeyPackageParams {
    /// The member's credential.
    pub credential: Credential,
    /// Validity window.
    pub lifetime: Lifetime,
    /// Capabilities to advertise.
    pub capabilities: Capabilities,
    /// Extensions of the leaf node.
    pub leaf_extensions: Vec<Extension>,
    /// Extensions of the key package.
    pub extensions: Vec<Extension>,
}

impl KeyPackageData {
    internal_pub! {
        /// Creates and signs a key package with fresh init and encryption keys
        /// (§10).
        pub fn create(
            suite: &Suite,
            signature_key: &SignaturePrivateKey,
            signature_public: &SignaturePublicKey,
            params: KeyPackageParams,
            rng: &mut dyn RandomSource,
        ) -> crate::Result<(Self, KeyPackagePrivate)> {
            let (init_priv, init_key) = generate_hpke_key_pair(suite, rng)?;
            let (enc_priv, encryption_key) = generate_hpke_key_pair(suite, rng)?;
            let mut leaf_node = LeafNode {
                encryption_key,
                signature_key: signature_public.clone(),
                credential: params.credential,
                capabilities: params.capabilities,
                leaf_node_source: LeafNodeSource::KeyPackage(params.lifetime),
                extensions: params.leaf_extensions,
                signature: Vec::new(),
            };
            leaf_node.sign(suite, signature_key, None)?;
            let mut kp = Self {
                version: ProtocolVersion::MLS10,
                cipher_suite: suite.id(),
                init_key,
                leaf_node,
                extensions: params.extensions,
                signature: Vec::new(),
            };
            kp.signature =
                suite.sign_with_label(signature_key, KEY_PACKAGE_LABEL, &kp.to_be_signed()?)?;
            Ok((
                kp,
                KeyPackagePrivate {
                    init_key: init_priv,
                    encryption_key: enc_priv,
                },
            ))
        }
    }

    internal_pub! {
        /// Validates a key package (§10.1) for a group using `suite`, with the
        /// group's required capabilities if any.
        pub fn validate(
            &self,
            suite: &Suite,
            required: Option<&RequiredCapabilities>,
            lifetime: LifetimePolicy,
        ) -> crate::Result<()> {
            // §10.1: cipher suite and protocol version match the group's.
            if self.version != ProtocolVersion::MLS10 || self.cipher_suite != suite.id() {
                return Err(Error::protocol(
                    "§10.1",
                    format!(
                        "key package for version {:?} and suite {:?}, group uses MLS10 and {:?}",
                        self.version,
                        self.cipher_suite,
                        suite.id()
                    ),
                ));
            }
            // §10.1: the leaf must be valid for a key package (§7.3).
            validate_leaf_node(
                suite,
                &self.leaf_node,
                LeafRole::KeyPackage,
                required,
                lifetime,
            )?;
            // §10.1: signature by the leaf's signature key.
            suite
                .verify_with_label(
                    &self.leaf_node.signature_key,
                    KEY_PACKAGE_LABEL,
                    &self.to_be_signed()?,
                    &self.signature,
                )
                .map_err(|_| Error::protocol("§10.1", "KeyPackage signature does not verify"))?;
            // §10.1: init_key and the leaf's encryption_key differ.
            if self.init_key == self.leaf_node.encryption_key {
                return Err(Error::protocol(
                    "§10.1",
                    "init_key equals the leaf's encryption_key",
                ));
            }
            check_unique_types(&self.extensions, "KeyPackage extensions")?;
            check_app_data(&self.extensions)
        }
    }
}

/// The rule cited by the checks of the `app_data_dictionary` extension
/// and the `last_resort_key_package` component (draft-ietf-mls-extensions).
pub const APP_DATA_RULE: &str = "mls-extensions: app_data_dictionary";

/// draft-ietf-mls-extensions: an `app_data_dictionary` is sorted by
/// component id with one entry per id, and a `last_resort_key_package`
/// component "contains the `component_id` with an empty `data` field".
fn check_app_data(extensions: &[Extension]) -> crate::Result<()> {
    use crate::crypto::component::component_ids::LAST_RESORT_KEY_PACKAGE;
    use crate::types::ExtensionType;
    use crate::types::app_data::AppDataDictionary;
    let Some(e) =
        crate::types::extensions::find_extension(extensions, ExtensionType::APP_DATA_DICTIONARY)
    else {
        return Ok(());
    };
    let dictionary: AppDataDictionary =
        crate::codec::decode_exact(&e.extension_data).map_err(|err| {
            Error::protocol(
                APP_DATA_RULE,
                format!("the KeyPackage's app_data_dictionary does not decode: {err}"),
            )
        })?;
    if dictionary
        .get(LAST_RESORT_KEY_PACKAGE)
        .is_some_and(|data| !data.is_empty())
    {
        return Err(Error::protocol(
            APP_DATA_RULE,
            "a last_resort_key_package component with data; it must be empty",
        ));
    }
    Ok(())
}

impl KeyPackageData {
    /// Whether this is a last-resort key package: its `app_data_dictionary`
    /// extension has the `last_resort_key_package` component
    /// (draft-ietf-mls-extensions, "Last-Resort KeyPackages"). Such a key
    /// package "MAY be used more than once in scenarios where all other
    /// KeyPackages have already been used".
    pub fn is_last_resort(&self) -> bool {
        crate::types::app_data::has_component(
            &self.extensions,
            crate::crypto::component::component_ids::LAST_RESORT_KEY_PACKAGE,
        )
    }
}

#[cfg(test)]
#[path = "key_package_tests.rs"]
mod tests;
