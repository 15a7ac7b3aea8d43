//! [`ClientBuilder`]: what a [`Client`] is made of (identity, credential,
//! suite, storage, clock, randomness, validation and application hooks),
//! checked and assembled by [`ClientBuilder::build`].

use std::collections::HashMap;
use std::sync::Arc;

use crate::api::authentication::CredentialValidator;
use crate::api::clock::Clock;
use crate::codec::encode;
use crate::crypto::credential::Credential;
use crate::crypto::{
    CipherSuite, CryptoProvider, RandomSource, SignaturePrivateKey, SignaturePublicKey, Suite,
};
use crate::group::app_data_rules::{AppComponents, advertise_components};
use crate::group::psk_store::SharedPsks;
use crate::persist::client_store;
use crate::storage::SharedStorage;
use crate::tree::leaf_node::Capabilities;
use crate::types::extensions::Extension;
use crate::{Error, Result};

use super::{Client, StoredKeyPackage, describe_credential, multi_credential};

/// Builds a [`Client`].
pub struct ClientBuilder {
    pub(super) identity: Vec<u8>,
    /// Built by [`Client::restore`]: the stored client, whatever its
    /// identity, and no new one.
    pub(super) restore_only: bool,
    pub(super) suite: CipherSuite,
    pub(super) provider: Arc<dyn CryptoProvider>,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) rng: Box<dyn RandomSource>,
    pub(super) validator: Arc<dyn CredentialValidator>,
    pub(super) signature_key: Option<(SignaturePrivateKey, SignaturePublicKey)>,
    pub(super) credential: Option<Credential>,
    pub(super) capabilities: Option<Capabilities>,
    pub(super) leaf_extensions: Vec<Extension>,
    pub(super) max_key_package_lifetime: u64,
    pub(super) storage: Option<SharedStorage>,
    pub(super) app_components: Option<Arc<dyn AppComponents>>,
    pub(super) content_media_types: Option<crate::types::content_media::MediaTypeList>,
    pub(super) grease: bool,
    pub(super) multi: Option<multi_credential::MultiSpec>,
}

impl ClientBuilder {
    /// wasm32-unknown-unknown without `wasm-js`: the defaults cannot work
    /// ([`SystemClock`] says 0, [`OsRandom`] fails), so the host must have
    /// replaced both.
    #[cfg(all(
        target_family = "wasm",
        target_os = "unknown",
        not(feature = "wasm-js")
    ))]
    fn check_host_supplied(&mut self) -> Result<()> {
        if self.clock.now() == 0 {
            return Err(Error::Misuse(
                "wasm32-unknown-unknown has no system clock: pass the host's time with \
                 ClientBuilder::clock (or build with the feature wasm-js)"
                    .into(),
            ));
        }
        if self.rng.fill(&mut [0u8; 1]).is_err() {
            return Err(Error::Misuse(
                "wasm32-unknown-unknown has no OS randomness: pass the host's with \
                 ClientBuilder::random (or build with the feature wasm-js)"
                    .into(),
            ));
        }
        Ok(())
    }

    /// Persist the client and its groups in `storage`. If it already holds
    /// a client, that client (identity, keys, key packages) is restored and
    /// the builder's suite and signature key are not used; its identity (or
    /// [`Self::credential`]) must be the stored client's, or building
    /// fails with [`Error::Misuse`]: a database is one client's.
    pub fn storage(mut self, storage: SharedStorage) -> Self {
        self.storage = Some(storage);
        self
    }

    /// The credential, instead of a basic one with the builder's identity:
    /// an X.509 chain or an application-defined type (§5.3). The library
    /// carries it and hands it to the [`CredentialValidator`] (which must
    /// then accept its type: the default accepts basic credentials only);
    /// it does not parse certificates.
    pub fn credential(mut self, credential: Credential) -> Self {
        self.credential = Some(credential);
        self
    }

    /// The capabilities our leaves announce (§7.2). Default: MLS 1.0, the
    /// client's suite, the credential's type, the SelfRemove proposal of
    /// draft-ietf-mls-extensions, and no other non-default extension or
    /// proposal type. `build` adds what a leaf must list (the suite,
    /// the version, the credential type), so pass only what is extra.
    pub fn capabilities(mut self, capabilities: Capabilities) -> Self {
        self.capabilities = Some(capabilities);
        self
    }

    /// Leaf-node extensions of every leaf we create (key packages, new
    /// groups, external joins). Their types must be in the capabilities
    /// unless they are default types (§7.2).
    pub fn leaf_extensions(mut self, extensions: Vec<Extension>) -> Self {
        self.leaf_extensions = extensions;
        self
    }

    /// The longest lifetime of a key package we create (§7.2: applications
    /// MUST define one). Default: 366 days, the longest that this library's
    /// groups accept by default ([`GroupConfig::max_lifetime`](crate::GroupConfig::max_lifetime)); a key
    /// package asked for longer is refused with [`Error::Misuse`], since
    /// peers would reject it.
    pub fn max_key_package_lifetime(mut self, seconds: u64) -> Self {
        self.max_key_package_lifetime = seconds;
        self
    }

    /// Cipher suite (default 0x0001).
    pub fn cipher_suite(mut self, suite: CipherSuite) -> Self {
        self.suite = suite;
        self
    }

    /// Crypto provider (default [`RustCryptoProvider`](crate::crypto::rust_crypto::RustCryptoProvider)).
    pub fn provider(mut self, provider: Arc<dyn CryptoProvider>) -> Self {
        self.provider = provider;
        self
    }

    /// Clock (default [`SystemClock`](crate::SystemClock)).
    ///
    /// On wasm32-unknown-unknown without the feature `wasm-js`, required:
    /// the host's time.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Random source (default [`OsRandom`](crate::crypto::OsRandom)).
    ///
    /// On wasm32-unknown-unknown without the feature `wasm-js`, required:
    /// the host's (e.g. `crypto.getRandomValues`).
    pub fn random(mut self, rng: Box<dyn RandomSource>) -> Self {
        self.rng = rng;
        self
    }

    /// Credential checks the library runs where §5.3.1 requires them
    /// (default: accept basic credentials).
    pub fn credential_validator(mut self, validator: Arc<dyn CredentialValidator>) -> Self {
        self.validator = validator;
        self
    }

    /// The application's component logic (draft-ietf-mls-extensions), which
    /// decides on AppDataUpdate and AppEphemeral proposals in every group
    /// of this client. Our leaves then also advertise what it needs: the
    /// `app_data_dictionary` extension and both proposal types in their
    /// capabilities, and the components of
    /// [`AppComponents::components`] (with `app_components` and `safe_aad`)
    /// in the `app_components` entry of a leaf `app_data_dictionary`.
    /// Without it (the default) the client knows no component and refuses
    /// every such proposal.
    pub fn app_components(mut self, app: Arc<dyn AppComponents>) -> Self {
        self.app_components = Some(app);
        self
    }

    /// The media types this client can receive (draft-ietf-mls-extensions,
    /// Content Advertisement): our leaves carry them as the
    /// `content_media_types` component of a leaf `app_data_dictionary`, list
    /// `content_media_types` in their `app_components`, and support the
    /// `app_data_dictionary` extension in their capabilities, as the draft
    /// describes. Default: none advertised.
    pub fn content_media_types(
        mut self,
        types: crate::types::content_media::MediaTypeList,
    ) -> Self {
        self.content_media_types = Some(types);
        self
    }

    /// Include random GREASE values in what our leaves and key packages
    /// carry (RFC 9420 §13.5, draft-ietf-mls-extensions "GREASE"): one
    /// GREASE cipher suite, extension, proposal and credential type in the
    /// capabilities, a leaf extension of that GREASE extension type (empty
    /// data), and, in a leaf that carries an `app_data_dictionary`, one
    /// GREASE component id in its `app_components` and one GREASE entry
    /// (empty data) in the dictionary; the leaf's values are chosen once,
    /// when the client is built. Each key package also gets a GREASE
    /// extension holding 0 to 15 random bytes and, when it carries an
    /// `app_data_dictionary` (last resort), a GREASE entry in it.
    /// Groups of this client add a GREASE extension (chosen when the group
    /// is created, joined or loaded) to the GroupInfo that
    /// [`Group::group_info`](crate::Group::group_info) returns. Default: off, so that
    /// existing leaves and test vectors keep their bytes; receivers ignore
    /// GREASE values either way.
    pub fn grease(mut self, grease: bool) -> Self {
        self.grease = grease;
        self
    }

    /// Use an existing signature key pair instead of a fresh one.
    pub fn signature_key(
        mut self,
        private: SignaturePrivateKey,
        public: SignaturePublicKey,
    ) -> Self {
        self.signature_key = Some((private, public));
        self
    }

    /// The client.
    ///
    /// On wasm32-unknown-unknown without the feature `wasm-js` there is no
    /// system clock or randomness: fails with [`Error::Misuse`] unless
    /// [`Self::clock`] and [`Self::random`] supplied the host's.
    pub fn build(mut self) -> Result<Client> {
        #[cfg(all(
            target_family = "wasm",
            target_os = "unknown",
            not(feature = "wasm-js")
        ))]
        self.check_host_supplied()?;
        // A stored client is restored: its identity replaces the builder's.
        let mut restored = false;
        let mut key_packages = HashMap::new();
        let psks = SharedPsks::default();
        if let Some(storage) = &self.storage
            && let Some(stored) = client_store::load_identity(storage)?
        {
            restored = true;
            let asked = if self.restore_only
                || self
                    .multi
                    .as_ref()
                    .is_some_and(|m| m.matches(&stored.credential))
            {
                stored.credential.clone()
            } else {
                self.credential
                    .take()
                    .unwrap_or_else(|| Credential::basic(std::mem::take(&mut self.identity)))
            };
            if asked != stored.credential {
                return Err(Error::Misuse(format!(
                    "the storage holds the client {}, not {}: open the database of that \
                     client, or a new database for a new one",
                    describe_credential(&stored.credential),
                    describe_credential(&asked)
                )));
            }
            self.suite = CipherSuite(stored.suite);
            self.credential = Some(stored.credential);
            self.signature_key = Some((stored.signer, stored.public));
            for (kp_ref, (key_package, private, last_resort)) in
                client_store::load_key_packages(storage)?
            {
                let stored = StoredKeyPackage {
                    key_package,
                    private,
                    last_resort,
                };
                key_packages.insert(kp_ref, stored);
            }
            psks.write()
                .external
                .extend(client_store::load_external_psks(storage)?);
            psks.write()
                .application
                .extend(client_store::load_application_psks(storage)?);
        }
        if self.restore_only && !restored {
            return Err(Error::Misuse(
                "Client::restore: the storage holds no client; build a new one with \
                 Client::builder(identity).storage(..)"
                    .into(),
            ));
        }
        let suite =
            Suite::from_provider(&*self.provider, self.suite)?.with_provider(self.provider.clone());
        let (signer, public) = match self.signature_key.take() {
            Some(k) => k,
            None => suite.primitives().signature_key_pair(&mut *self.rng)?,
        };
        let credential = match self.multi.take().filter(|_| !restored) {
            Some(multi) => multi.sign(&*self.provider, &public)?,
            None => self
                .credential
                .take()
                .unwrap_or_else(|| Credential::basic(std::mem::take(&mut self.identity))),
        };
        let mut capabilities = self
            .capabilities
            .take()
            .unwrap_or_else(|| Capabilities::for_suite(suite.id()));
        // §7.2: a leaf lists its own suite, version and credential type.
        if !capabilities.cipher_suites.contains(&suite.id()) {
            capabilities.cipher_suites.push(suite.id());
        }
        if !capabilities
            .versions
            .contains(&crate::types::ProtocolVersion::MLS10)
        {
            capabilities
                .versions
                .push(crate::types::ProtocolVersion::MLS10);
        }
        if !capabilities
            .credentials
            .contains(&credential.credential_type())
        {
            capabilities.credentials.push(credential.credential_type());
        }
        multi_credential::advertise_bindings(&credential, &mut capabilities);
        let mut leaf_extensions = self.leaf_extensions;
        if let Some(app) = &self.app_components {
            use crate::crypto::component::component_ids::{APP_COMPONENTS, SAFE_AAD};
            use crate::types::{ExtensionType, ProposalType};
            // draft-ietf-mls-extensions: an implementation that advertises
            // app_data_dictionary "MUST understand and advertise the
            // app_components component".
            if !capabilities
                .extensions
                .contains(&ExtensionType::APP_DATA_DICTIONARY)
            {
                capabilities
                    .extensions
                    .push(ExtensionType::APP_DATA_DICTIONARY);
            }
            for t in [ProposalType::APP_DATA_UPDATE, ProposalType::APP_EPHEMERAL] {
                if !capabilities.proposals.contains(&t) {
                    capabilities.proposals.push(t);
                }
            }
            let mut ids = vec![APP_COMPONENTS, SAFE_AAD];
            ids.extend(app.components());
            advertise_components(&mut leaf_extensions, &ids)?;
        }
        if let Some(types) = &self.content_media_types {
            use crate::crypto::component::component_ids::{
                APP_COMPONENTS, CONTENT_MEDIA_TYPES, SAFE_AAD,
            };
            crate::types::app_data::put_component(
                &mut leaf_extensions,
                CONTENT_MEDIA_TYPES,
                encode(types)?,
                true,
            )?;
            advertise_components(
                &mut leaf_extensions,
                &[APP_COMPONENTS, SAFE_AAD, CONTENT_MEDIA_TYPES],
            )?;
            let dictionary = crate::types::ExtensionType::APP_DATA_DICTIONARY;
            if !capabilities.extensions.contains(&dictionary) {
                capabilities.extensions.push(dictionary);
            }
        }
        if self.grease {
            use crate::types::grease::{COMPONENT_GREASE, MLS_GREASE, pick};
            let rng = &mut *self.rng;
            let extension = crate::types::ExtensionType(pick(&MLS_GREASE, rng)?);
            capabilities.extensions.push(extension);
            // RFC 9420 §13.5 lists `LeafNode.extensions` too; the type is
            // the one just advertised, as leaf validation (§7.3) requires.
            leaf_extensions.push(Extension {
                extension_type: extension,
                extension_data: Vec::new(),
            });
            capabilities
                .proposals
                .push(crate::types::ProposalType(pick(&MLS_GREASE, rng)?));
            // RFC 9420 §13.5 reserves the same values for cipher suites.
            capabilities
                .cipher_suites
                .push(CipherSuite(pick(&MLS_GREASE, rng)?));
            capabilities
                .credentials
                .push(crate::crypto::credential::CredentialType(pick(
                    &MLS_GREASE,
                    rng,
                )?));
            // "A random selection of GREASE values SHOULD be included in any
            // of these fields that would otherwise be present."
            if leaf_extensions
                .iter()
                .any(|e| e.extension_type == crate::types::ExtensionType::APP_DATA_DICTIONARY)
            {
                advertise_components(&mut leaf_extensions, &[pick(&COMPONENT_GREASE, rng)?])?;
                crate::types::app_data::put_component(
                    &mut leaf_extensions,
                    pick(&COMPONENT_GREASE, rng)?,
                    Vec::new(),
                    false,
                )?;
            }
        }
        let client = Client {
            suite,
            capabilities,
            leaf_extensions,
            max_key_package_lifetime: self.max_key_package_lifetime,
            credential,
            signer,
            public,
            clock: self.clock,
            rng: self.rng,
            validator: self.validator,
            app_components: self.app_components,
            key_packages,
            psks,
            storage: self.storage,
            grease: self.grease,
        };
        if let Some(storage) = &client.storage
            && !restored
        {
            client_store::save_identity(
                storage,
                client.suite.id(),
                &client.credential,
                &client.signer,
                &client.public,
            )?;
        }
        Ok(client)
    }
}
