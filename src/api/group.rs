//! [`Group`]: the application's handle on one group. Not generic: the
//! cipher suite and provider were fixed when the group was made.

use std::sync::Arc;

use crate::api::clock::Clock;
use crate::codec::encode;
use crate::crypto::{CipherSuite, RandomSource, Secret, SignaturePrivateKey, SignaturePublicKey};
use crate::framing::{MlsMessage, MlsMessageBody};
use crate::group::authorization::{CredentialUse, ValidationContext};
use crate::group::commit_create::CommitParams;
use crate::group::commit_stage::StagedCommit;
use crate::group::engine::Received;
use crate::group::proposal_select::LeftOut;
use crate::group::psk_store::{PskUse, SharedPsks};
use crate::group::state::GroupState;
use crate::group::state::{GroupConfig, PublishGroupInfo};
use crate::group::welcome_open::GROUP_INFO_LABEL;
use crate::messages::proposals::{
    Add, GroupContextExtensions, PreSharedKey, Proposal, Remove, Update,
};
use crate::messages::welcome::GroupInfo;
use crate::persist::group_records::LocalFlags;
use crate::persist::group_store::{GroupStore, Loaded};
use crate::schedule::{PreSharedKeyId, Psk, mls_exporter};
use crate::storage::WriteBatch;
use crate::tree::leaf_node::{LeafNode, LeafNodeSource};
use crate::types::extensions::{Extension, ExtensionType, ExternalPub};
use crate::types::math::LeafIndex;
use crate::{Error, Result};

pub use crate::api::event::Event;
pub use crate::group::member::Member;

/// What a commit produces for the delivery service.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CommitOutput {
    /// The commit (MLSMessage) for the group.
    pub commit: Vec<u8>,
    /// The Welcome (MLSMessage) for added members, if any.
    pub welcome: Option<Vec<u8>>,
    /// Cached proposals this commit could not cover because they conflict
    /// with ones it does (§12.2), each with the reason.
    pub left_out: Vec<LeftOut>,
    /// The signed GroupInfo (MLSMessage) of the epoch this commit starts,
    /// for the delivery service to publish once it accepts the commit
    /// (external joiners need it). Only when
    /// [`GroupConfig::publish_group_info`] asks for it.
    pub group_info: Option<Vec<u8>>,
}

struct Pending {
    message: Vec<u8>,
    staged: StagedCommit,
}

/// One group, from this member's point of view.
pub struct Group {
    pub(crate) state: GroupState,
    pub(crate) signer: SignaturePrivateKey,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) rng: Box<dyn RandomSource>,
    pub(crate) psks: SharedPsks,
    pending: Option<Pending>,
    /// Authenticated data of the next handshake message we send.
    pub(crate) next_aad: Vec<u8>,
    /// We asked to leave: a Remove of ourselves awaits another member's
    /// commit, and we must not commit (§12.1.3).
    pub(crate) leaving: bool,
    /// The external commit we joined with, to recognise its echo.
    pub(crate) joined_with: Option<Vec<u8>>,
    /// Where each transition is persisted before its result is returned.
    pub(crate) store: Option<GroupStore>,
    /// Application messages received in the current epoch, for AppAck.
    pub(crate) received: crate::api::received_generations::ReceivedGenerations,
    /// The GREASE extension our GroupInfos carry (RFC 9420 §13.5), when
    /// the client greases.
    pub(crate) group_info_grease: Option<Extension>,
    /// The `app_data_dictionary` extension our Welcomes' GroupInfos carry,
    /// and whether the GroupInfos we publish carry it too
    /// (`Group::set_group_info_app_data`). In memory only.
    pub(crate) group_info_app_data: Option<(Extension, bool)>,
    /// The `app_data_dictionary` of the GroupInfo we joined with, GREASE
    /// entries dropped (`Group::group_info_app_data`). In memory only.
    pub(crate) joined_app_data: Option<crate::types::app_data::AppDataDictionary>,
}

impl std::fmt::Debug for Group {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Group")
            .field("epoch", &self.state.epoch())
            .field("own_leaf", &self.state.own_leaf())
            .field("members", &self.state.tree().member_count())
            .field("pending_commit", &self.pending.is_some())
            .finish_non_exhaustive()
    }
}

impl Group {
    pub(crate) fn new(
        state: GroupState,
        signer: SignaturePrivateKey,
        clock: Arc<dyn Clock>,
        rng: Box<dyn RandomSource>,
        psks: SharedPsks,
    ) -> Self {
        Self {
            state,
            signer,
            clock,
            rng,
            psks,
            pending: None,
            store: None,
            next_aad: Vec::new(),
            leaving: false,
            joined_with: None,
            received: Default::default(),
            group_info_grease: None,
            group_info_app_data: None,
            joined_app_data: None,
        }
    }

    /// Persists the whole group into `store` (plus `extra`, e.g. the
    /// deletion of the key package a join used); later transitions are
    /// persisted as they happen.
    pub(crate) fn attach_store(&mut self, mut store: GroupStore, extra: WriteBatch) -> Result<()> {
        let local = self.local_flags();
        store.save_new(&mut self.state, &local, extra)?;
        self.store = Some(store);
        Ok(())
    }

    /// A group loaded from storage.
    pub(crate) fn from_loaded(
        loaded: Loaded,
        signer: SignaturePrivateKey,
        clock: Arc<dyn Clock>,
        rng: Box<dyn RandomSource>,
        psks: SharedPsks,
        store: GroupStore,
    ) -> Self {
        let mut group = Self::new(loaded.state, signer, clock, rng, psks);
        group.pending = loaded
            .pending
            .map(|(message, staged)| Pending { message, staged });
        group.next_aad = loaded.local.authenticated_data;
        group.leaving = loaded.local.leaving;
        group.joined_with = loaded.local.joined_with;
        group.store = Some(store);
        group
    }

    /// The group's configuration.
    pub fn config(&self) -> &GroupConfig {
        &self.state.config
    }

    /// Changes the group's configuration. Sending options apply to the next
    /// message; retention and secret-tree limits from the next epoch on.
    pub fn set_config(&mut self, config: GroupConfig) {
        self.state.config = config;
        if let Some(store) = &mut self.store {
            store.settings_changed(&self.state);
        }
    }

    /// The engine state (context, tree, proposals), read-only.
    #[cfg(feature = "unstable-internals")]
    pub fn state(&self) -> &GroupState {
        &self.state
    }

    /// The group id.
    pub fn group_id(&self) -> &[u8] {
        &self.state.context().group_id
    }

    /// The current epoch.
    pub fn epoch(&self) -> u64 {
        self.state.epoch()
    }

    /// Our leaf index.
    pub fn own_leaf(&self) -> LeafIndex {
        self.state.own_leaf()
    }

    /// Whether we are still a member.
    pub fn is_active(&self) -> bool {
        !self.state.is_removed()
    }

    /// The members, by leaf index. Builds a list of every member: to name
    /// the sender of one message, use [`Self::member`].
    pub fn members(&self) -> Vec<Member> {
        Member::all_of(self.state.tree())
    }

    /// The member at `leaf` (e.g. the sender of an
    /// [`Event::Application`]), or `None` for a blank or out-of-range
    /// leaf. O(1): it reads one leaf of the tree.
    pub fn member(&self, leaf: LeafIndex) -> Option<Member> {
        Member::at(self.state.tree(), leaf)
    }

    /// The group's cipher suite.
    pub fn suite_id(&self) -> CipherSuite {
        self.state.context().cipher_suite
    }

    /// The epoch authenticator (§8.7): equal for all members of the epoch.
    pub fn epoch_authenticator(&self) -> &[u8] {
        self.state.epoch_authenticator()
    }

    /// A 12-digit code derived from the epoch authenticator, for people to
    /// compare out of band ("1234 5678 9012"): equal codes mean the same
    /// group state.
    pub fn verification_code(&self) -> Result<String> {
        let suite = &self.state.suite;
        let bytes = suite.expand_with_label(
            self.state.epoch_authenticator(),
            "arbor verification code",
            &[],
            8,
        )?;
        let mut n = [0u8; 8];
        n.copy_from_slice(bytes.as_bytes());
        let v = u64::from_be_bytes(n) % 1_000_000_000_000;
        let digits = format!("{v:012}");
        Ok(format!(
            "{} {} {}",
            &digits[0..4],
            &digits[4..8],
            &digits[8..12]
        ))
    }

    /// `MLS-Exporter(label, context, length)` (§8.5).
    pub fn export_secret(&self, label: &str, context: &[u8], length: usize) -> Result<Secret> {
        mls_exporter(
            &self.state.suite,
            &self.state.epoch.keys.exporter_secret,
            label,
            context,
            length,
        )
    }

    /// The encoded ratchet tree, for members that join without it.
    pub fn ratchet_tree(&self) -> Result<Vec<u8>> {
        self.state.tree().to_bytes()
    }

    /// A signed GroupInfo (MLSMessage) with the external public key, for
    /// external joiners (§12.4.3); `with_tree` includes the ratchet tree.
    pub fn group_info(&self, with_tree: bool) -> Result<Vec<u8>> {
        self.signed_group_info(&self.state.epoch, with_tree)
    }

    /// The GroupInfo of `epoch` (ours, or the one our commit starts),
    /// signed by us.
    fn signed_group_info(
        &self,
        epoch: &crate::group::state::EpochState,
        with_tree: bool,
    ) -> Result<Vec<u8>> {
        let suite = &self.state.suite;
        let (_, external_pub) =
            crate::schedule::external_key_pair(suite, &epoch.keys.external_secret)?;
        let mut extensions = vec![Extension {
            extension_type: ExtensionType::EXTERNAL_PUB,
            extension_data: encode(&ExternalPub { external_pub })?,
        }];
        if with_tree {
            extensions.push(Extension {
                extension_type: ExtensionType::RATCHET_TREE,
                extension_data: epoch.tree.to_bytes()?,
            });
        }
        if let Some((app_data, true)) = &self.group_info_app_data {
            extensions.push(app_data.clone());
        }
        extensions.extend(self.group_info_grease.clone());
        let mut info = GroupInfo {
            group_context: epoch.context.clone(),
            extensions,
            confirmation_tag: epoch.confirmation_tag.clone(),
            signer: epoch.own_leaf(),
            signature: Vec::new(),
        };
        info.signature =
            suite.sign_with_label(&self.signer, GROUP_INFO_LABEL, &info.to_be_signed()?)?;
        Ok(encode(&MlsMessage::new(MlsMessageBody::GroupInfo(
            Box::new(info),
        )))?)
    }

    /// §5.3.1: a key package we are about to add is validated first; in a
    /// group that requires media types, it must advertise them
    /// (draft-ietf-mls-extensions, Content Advertisement).
    fn check_key_package(&self, leaf: &LeafNode) -> Result<()> {
        self.check_joiner_media_types(leaf)?;
        self.state.authority().check(
            ValidationContext {
                purpose: CredentialUse::KeyPackage,
                group_id: self.group_id(),
                epoch: self.epoch(),
                leaf: None,
                binding: None,
            },
            &leaf.credential,
            &leaf.signature_key,
        )
    }

    /// Commits `by_value` proposals plus, when `include_cached`, the
    /// proposals received this epoch that do not conflict with them or each
    /// other (see [`Self::commit`]). `force_path` adds an UpdatePath even
    /// when no proposal requires one. The commit becomes pending.
    pub fn commit_with(
        &mut self,
        by_value: Vec<Proposal>,
        include_cached: bool,
        force_path: bool,
    ) -> Result<CommitOutput> {
        self.commit_with_psks(
            by_value,
            include_cached,
            force_path,
            Vec::new(),
            PskUse::Normal,
        )
    }

    /// Commits `by_value` proposals plus, when `include_cached`, the
    /// non-conflicting proposals received this epoch. The commit becomes
    /// pending: merge it
    /// when the delivery service echoes it ([`Self::process`] does that) or
    /// discard it. A new commit replaces a pending one.
    /// `extra_psks` are injected without proposals (the resumption PSK that
    /// links a reinitialized or branched group to its predecessor).
    pub(crate) fn commit_with_psks(
        &mut self,
        by_value: Vec<Proposal>,
        include_cached: bool,
        force_path: bool,
        extra_psks: Vec<PreSharedKeyId>,
        psk_use: PskUse,
    ) -> Result<CommitOutput> {
        crate::trace::span!(
            "mls.commit",
            group = crate::trace::short_id(self.group_id()),
            epoch = self.epoch(),
            members = self.state.tree().member_count(),
            by_value = by_value.len()
        );
        if self.leaving {
            return Err(Error::Misuse(
                "this member asked to leave: it cannot commit (RFC 9420 §12.1.3 forbids \
                 committing one's own Remove); wait for another member to commit it"
                    .into(),
            ));
        }
        let now = self.clock.now();
        // draft-ietf-mls-extensions: a member "includes [a received
        // SelfRemove] along with any other pending Proposals when sending a
        // Commit", so every commit covers the valid cached SelfRemoves, even
        // one asked to cover no cached proposal.
        let selection = if include_cached {
            self.state.select_proposals(&by_value, &self.psks, now)
        } else {
            self.state.select_self_removes(&by_value, &self.psks, now)
        };
        let (created, group_info) = self.transition(|g| {
            let params = CommitParams {
                by_value,
                by_reference: selection.references,
                force_path,
                wire_format: g.state.handshake_format(),
                ratchet_tree_in_welcome: g.state.config.ratchet_tree_in_welcome,
                authenticated_data: g.framed_aad(&g.next_aad)?,
                signer: &g.signer,
                leaf: None,
                psks: &g.psks,
                now,
                dangerous_skip_validation: false,
                extra_psks,
                psk_use,
                group_info_extensions: g.welcome_group_info_extensions(),
            };
            let created = g.state.create_commit(params, &mut *g.rng)?;
            // Signed before anything is stored, so that a failure leaves
            // no pending commit behind.
            let with_tree = match g.state.config.publish_group_info {
                PublishGroupInfo::No => None,
                PublishGroupInfo::WithoutTree => Some(false),
                PublishGroupInfo::WithTree => Some(true),
            };
            let group_info = match (with_tree, created.staged.next.as_ref()) {
                (Some(with_tree), Some(next)) => Some(g.signed_group_info(next, with_tree)?),
                _ => None,
            };
            if let Some(store) = &mut g.store {
                // The authenticated data is used up with the commit's record.
                let after = (!g.next_aad.is_empty()).then(|| LocalFlags {
                    authenticated_data: Vec::new(),
                    leaving: g.leaving,
                    joined_with: g.joined_with.clone(),
                });
                store.save_pending(
                    &mut g.state,
                    &created.message,
                    &created.staged,
                    after.as_ref(),
                )?;
            }
            Ok((created, group_info))
        })?;
        self.next_aad.clear();
        let output = CommitOutput {
            commit: created.message.clone(),
            welcome: created.welcome,
            left_out: selection.left_out,
            group_info,
        };
        self.pending = Some(Pending {
            message: created.message,
            staged: created.staged,
        });
        Ok(output)
    }

    /// Adds members from their key packages (MLSMessages).
    pub fn add(&mut self, key_packages: &[&[u8]]) -> Result<CommitOutput> {
        let mut adds = Vec::with_capacity(key_packages.len());
        for bytes in key_packages {
            let message: MlsMessage = crate::decode_exact("MLSMessage", bytes)?;
            let MlsMessageBody::KeyPackage(kp) = message.body else {
                return Err(Error::Misuse("expected a KeyPackage message".into()));
            };
            self.check_key_package(&kp.leaf_node)?;
            adds.push(Proposal::Add(Add { key_package: *kp }));
        }
        self.commit_with(adds, false, false)
    }

    /// Removes the member at `leaf`. Our own leaf cannot be removed by our
    /// own commit (RFC 9420 §12.2): [`Self::leave`] asks another member to.
    pub fn remove(&mut self, leaf: LeafIndex) -> Result<CommitOutput> {
        if leaf == self.own_leaf() {
            return Err(Error::Misuse(format!(
                "leaf {} is our own: a member cannot commit its own removal (RFC 9420 \
                 §12.2); call Group::leave(), which proposes it for another member to commit",
                leaf.0
            )));
        }
        self.commit_with(
            vec![Proposal::Remove(Remove { removed: leaf })],
            false,
            false,
        )
    }

    /// Refreshes our own keys: a commit with a fresh path.
    pub fn update(&mut self) -> Result<CommitOutput> {
        self.commit_with(Vec::new(), false, true)
    }

    /// Commits the proposals received this epoch: every one that still
    /// leaves a valid list (§12.2, §12.4; Removes win over Updates of the
    /// same leaf). The others are reported in [`CommitOutput::left_out`].
    pub fn commit(&mut self) -> Result<CommitOutput> {
        self.commit_with(Vec::new(), true, false)
    }

    /// Sends `proposal` as a handshake message from us, and caches it.
    pub(crate) fn propose(&mut self, proposal: Proposal) -> Result<Vec<u8>> {
        let leaving = self.leaving;
        self.transition(|g| {
            let (message, _) = g.propose_with_ref(proposal)?;
            g.persist_sent_proposal(leaving)?;
            Ok(message)
        })
    }

    /// Frames, sends and caches `proposal` ([`GroupState::send_proposal`])
    /// with our next authenticated data, returning the message and its
    /// ProposalRef. Not stored yet: callers persist it in the same
    /// [`Self::transition`].
    pub(crate) fn propose_with_ref(&mut self, proposal: Proposal) -> Result<(Vec<u8>, Vec<u8>)> {
        let aad = self.framed_aad(&self.next_aad)?;
        self.state
            .send_proposal(proposal, &aad, &self.signer, &mut *self.rng)
    }

    /// [`Self::propose_with_ref`] in `format`, whatever the group's policy.
    pub(crate) fn propose_with_ref_as(
        &mut self,
        proposal: Proposal,
        format: crate::framing::WireFormat,
    ) -> Result<(Vec<u8>, Vec<u8>)> {
        let aad = self.framed_aad(&self.next_aad)?;
        self.state
            .send_proposal_as(proposal, format, &aad, &self.signer, &mut *self.rng)
    }

    /// Proposes adding the member of `key_package` (an MLSMessage).
    pub fn propose_add(&mut self, key_package: &[u8]) -> Result<Vec<u8>> {
        let message: MlsMessage = crate::decode_exact("MLSMessage", key_package)?;
        let MlsMessageBody::KeyPackage(kp) = message.body else {
            return Err(Error::Misuse("expected a KeyPackage message".into()));
        };
        self.check_key_package(&kp.leaf_node)?;
        self.propose(Proposal::Add(Add { key_package: *kp }))
    }

    /// Proposes removing the member at `leaf`.
    pub fn propose_remove(&mut self, leaf: LeafIndex) -> Result<Vec<u8>> {
        self.propose(Proposal::Remove(Remove { removed: leaf }))
    }

    /// Proposes injecting the external PSK `psk_id` (registered with the
    /// client) into the next epoch.
    pub fn propose_external_psk(&mut self, psk_id: Vec<u8>) -> Result<Vec<u8>> {
        let mut nonce = Secret::zero(self.state.suite.hash_len());
        nonce.fill_random(&mut *self.rng)?;
        self.propose(Proposal::PreSharedKey(PreSharedKey {
            psk: PreSharedKeyId {
                psk: Psk::External { psk_id },
                psk_nonce: nonce.as_bytes().to_vec(),
            },
        }))
    }

    /// Proposes injecting this group's resumption PSK of a retained past
    /// `epoch` (§8.6) into the next epoch.
    pub fn propose_resumption_psk(&mut self, epoch: u64) -> Result<Vec<u8>> {
        let psk_nonce = self.psk_nonce()?;
        self.propose(Proposal::PreSharedKey(PreSharedKey {
            psk: PreSharedKeyId {
                psk: Psk::Resumption {
                    usage: crate::schedule::ResumptionPskUsage::Application,
                    psk_group_id: self.group_id().to_vec(),
                    psk_epoch: epoch,
                },
                psk_nonce,
            },
        }))
    }

    /// Proposes reinitializing the group (§12.1.5) as `group_id` with
    /// `extensions`, same version and cipher suite. A commit must cover it
    /// alone; [`Self::reinit`] proposes and commits in one step.
    pub fn propose_reinit(
        &mut self,
        group_id: Vec<u8>,
        extensions: Vec<Extension>,
    ) -> Result<Vec<u8>> {
        self.propose_reinit_to(group_id, self.state.suite.id(), extensions)
    }

    /// Proposes reinitializing the group (§12.1.5) as `group_id` in
    /// `cipher_suite` with `extensions`. The new group is created and
    /// joined by clients of that suite
    /// ([`Client::create_reinit_group`](crate::Client::create_reinit_group),
    /// [`Client::join_reinit`](crate::Client::join_reinit)).
    pub fn propose_reinit_to(
        &mut self,
        group_id: Vec<u8>,
        cipher_suite: CipherSuite,
        extensions: Vec<Extension>,
    ) -> Result<Vec<u8>> {
        self.propose(Proposal::ReInit(crate::messages::proposals::ReInit {
            group_id,
            version: crate::types::ProtocolVersion::MLS10,
            cipher_suite,
            extensions,
        }))
    }

    /// Proposes replacing the group context extensions.
    pub fn propose_group_context_extensions(
        &mut self,
        extensions: Vec<Extension>,
    ) -> Result<Vec<u8>> {
        self.propose(Proposal::GroupContextExtensions(GroupContextExtensions {
            extensions,
        }))
    }

    /// Proposes a new leaf for ourselves (an Update, §12.1.2). Its private
    /// key is kept until a commit covers it.
    pub fn propose_update(&mut self) -> Result<Vec<u8>> {
        let suite = self.state.suite.clone();
        let own = self.state.own_leaf();
        let current = self
            .state
            .tree()
            .leaf(own)
            .ok_or(Error::Internal("own leaf is blank"))?
            .clone();
        let (sk, pk) = crate::tree::private::generate_hpke_key_pair(&suite, &mut *self.rng)?;
        let mut leaf = LeafNode {
            encryption_key: pk,
            leaf_node_source: LeafNodeSource::Update,
            signature: Vec::new(),
            ..current
        };
        leaf.sign(&suite, &self.signer, Some((self.group_id(), own)))?;
        let leaving = self.leaving;
        self.transition(|g| {
            let (message, reference) =
                g.propose_with_ref(Proposal::Update(Update { leaf_node: leaf }))?;
            g.state.remember_own_update(reference, sk);
            g.persist_sent_proposal(leaving)?;
            Ok(message)
        })
    }

    /// Commits a ReInit (§11.2): the group closes and its members continue
    /// in a new group `group_id` with `extensions` (same version and cipher
    /// suite), which one of them creates with
    /// [`Client::create_reinit_group`](crate::Client::create_reinit_group).
    pub fn reinit(
        &mut self,
        group_id: Vec<u8>,
        extensions: Vec<Extension>,
    ) -> Result<CommitOutput> {
        self.reinit_to(group_id, self.state.suite.id(), extensions)
    }

    /// Commits a ReInit (§11.2) into `cipher_suite`: like [`Self::reinit`],
    /// but the new group uses another suite, so its members continue with
    /// clients of that suite.
    pub fn reinit_to(
        &mut self,
        group_id: Vec<u8>,
        cipher_suite: CipherSuite,
        extensions: Vec<Extension>,
    ) -> Result<CommitOutput> {
        let proposal = Proposal::ReInit(crate::messages::proposals::ReInit {
            group_id,
            version: crate::types::ProtocolVersion::MLS10,
            cipher_suite,
            extensions,
        });
        self.commit_with(vec![proposal], false, false)
    }

    /// The ReInit this group was closed with, if any.
    pub fn reinitialized(&self) -> Option<&crate::messages::proposals::ReInit> {
        self.state.reinitialized()
    }

    /// The resumption PSK of the current epoch (§8.6) with its id parts.
    pub(crate) fn resumption(&self) -> (Vec<u8>, u64, Secret) {
        (
            self.group_id().to_vec(),
            self.epoch(),
            self.state.resumption_psk().clone(),
        )
    }

    /// Registers a resumption PSK of another group (reinit or branch).
    pub(crate) fn add_resumption_psk(&mut self, group_id: Vec<u8>, epoch: u64, psk: Secret) {
        self.psks.write().resumption.insert((group_id, epoch), psk);
    }

    /// A fresh `psk_nonce` of `KDF.Nh` bytes.
    pub(crate) fn psk_nonce(&mut self) -> Result<Vec<u8>> {
        let mut nonce = Secret::zero(self.state.suite.hash_len());
        nonce.fill_random(&mut *self.rng)?;
        Ok(nonce.as_bytes().to_vec())
    }

    /// Encrypts application data as a PrivateMessage (§6.3).
    ///
    /// The ratchet step is stored before the ciphertext leaves, so that
    /// after a crash no generation (and its nonce) is used twice. It is
    /// handed to storage first and made durable after signing and sealing,
    /// which run while the disk writes. If handing it over fails, nothing
    /// changed; if only making it durable fails, the step is kept in memory
    /// (the storage may hold it), no ciphertext is returned and the error
    /// says to reopen the client.
    ///
    /// In a group that uses Safe AAD ([`Self::uses_safe_aad`]) the
    /// authenticated data must be one valid
    /// [`SafeAad`](crate::wire::SafeAad) (empty means no items), or it is
    /// refused ([`Error::Misuse`]): see [`Self::encrypt_with_safe_aad`].
    pub fn encrypt(&mut self, plaintext: &[u8], authenticated_data: &[u8]) -> Result<Vec<u8>> {
        let authenticated_data = &self.framed_aad(authenticated_data)?;
        let key = self.transition(|g| {
            let key = g.state.take_application_key()?;
            g.persist_messages_unflushed()?;
            Ok(key)
        })?;
        let generation = key.generation();
        let message = self.state.seal_application(
            key,
            plaintext,
            authenticated_data,
            &self.signer,
            &mut *self.rng,
        )?;
        self.flush_messages(generation)?;
        // Room for the whole message: its variable parts plus headers.
        let capacity = message.ciphertext.len()
            + message.encrypted_sender_data.len()
            + message.group_id.len()
            + message.authenticated_data.len()
            + 32;
        Ok(crate::codec::encode_with_capacity(
            &MlsMessage::new(MlsMessageBody::PrivateMessage(Box::new(message))),
            capacity,
        )?)
    }

    /// Processes a message from the delivery service. Recognises our own
    /// pending commit echoed back and merges it; a valid commit from someone
    /// else is staged, and merging it discards our pending one (reported in
    /// the event).
    pub fn process(&mut self, message: &[u8]) -> Result<Event> {
        crate::trace::span!(
            "mls.process",
            group = crate::trace::short_id(self.group_id()),
            epoch = self.epoch(),
            bytes = message.len()
        );
        if let Some(echo) = self.own_commit_echo(message) {
            return echo;
        }
        self.transition(|g| {
            let received = g.state.process(message, &g.psks, g.clock.now())?;
            g.event(received)
        })
    }

    /// [`Self::process`] for a message already decoded (e.g. routed by
    /// [`Message::group_id`](crate::Message::group_id) and
    /// [`Message::epoch`](crate::Message::epoch)).
    pub fn process_message(&mut self, message: &crate::api::Message) -> Result<Event> {
        crate::trace::span!(
            "mls.process",
            group = crate::trace::short_id(self.group_id()),
            epoch = self.epoch(),
            bytes = message.as_bytes().len()
        );
        if let Some(echo) = self.own_commit_echo(message.as_bytes()) {
            return echo;
        }
        self.transition(|g| {
            let received =
                g.state
                    .process_message(message.mls().clone(), &g.psks, g.clock.now())?;
            g.event(received)
        })
    }

    /// Our pending commit, or the external commit we joined with, echoed
    /// back by the delivery service: it is merged (the service accepted it).
    fn own_commit_echo(&mut self, message: &[u8]) -> Option<Result<Event>> {
        if let Some(pending) = &self.pending
            && pending.message == message
        {
            return Some(self.merge_pending());
        }
        if self.joined_with.as_deref() == Some(message) {
            let after = LocalFlags {
                joined_with: None,
                ..self.local_flags()
            };
            if let Err(e) = self.persist_local(&after) {
                return Some(Err(e));
            }
            self.joined_with = None;
            return Some(Ok(Event::OwnCommitMerged {
                epoch: self.state.epoch(),
            }));
        }
        None
    }

    /// Persists what processing consumed (ratchet steps, a cached
    /// proposal) before the result leaves the library, then reports it.
    fn event(&mut self, received: Received) -> Result<Event> {
        self.persist_messages(matches!(received, Received::Proposal(_)))?;
        match received {
            Received::Application {
                sender,
                epoch,
                data,
                authenticated_data,
                generation,
            } => {
                self.received.record(epoch, sender.0, generation);
                Ok(Event::Application {
                    sender,
                    epoch,
                    data,
                    authenticated_data,
                })
            }
            Received::Proposal(p) => Ok(Event::Proposal {
                sender: p.sender,
                proposal: Box::new(p.proposal),
            }),
            Received::Commit(staged) => Ok(Event::Commit {
                staged,
                supersedes_own: self.pending.is_some(),
            }),
            Received::OwnEcho { epoch, kind } => Ok(Event::OwnMessageEcho { epoch, kind }),
        }
    }

    /// Merges a commit staged by [`Self::process`] in this group's current
    /// epoch (any other is refused, changing nothing). Our pending commit,
    /// which lost to it, is discarded.
    ///
    /// A persisted group writes the new epoch before merging in memory and
    /// returns once it is durable ([`crate::storage::Storage::flush`]). If
    /// writing fails, nothing changed; if only that final flush fails, the
    /// group is in the new epoch in memory and the [`Error::Storage`] says
    /// to reopen the client (see `docs/errors.md`).
    pub fn merge(&mut self, staged: StagedCommit) -> Result<()> {
        crate::trace::span!(
            "mls.merge",
            group = crate::trace::short_id(self.group_id()),
            epoch = self.epoch()
        );
        self.persist_merge(&staged, false)?;
        self.state.merge(staged)?;
        self.pending = None;
        self.joined_with = None;
        // Proposals live one epoch (§12.1): a Remove of ours not covered by
        // this commit is void, so we are a full member again and may ask
        // to leave anew (or commit).
        self.leaving = false;
        self.flush_merge()
    }

    /// Our pending commit, as sent and as staged.
    pub(crate) fn pending_commit(&self) -> Option<(&[u8], &StagedCommit)> {
        self.pending
            .as_ref()
            .map(|p| (p.message.as_slice(), &p.staged))
    }

    /// Merges our pending commit (e.g. once the delivery service accepted
    /// it without echoing). Storage failures as in [`Self::merge`].
    pub fn merge_pending(&mut self) -> Result<Event> {
        crate::trace::span!(
            "mls.merge_pending",
            group = crate::trace::short_id(self.group_id()),
            epoch = self.epoch()
        );
        let pending = self
            .pending
            .take()
            .ok_or_else(|| Error::Misuse("no pending commit".into()))?;
        if let Err(e) = self.persist_merge(&pending.staged, self.leaving) {
            self.pending = Some(pending);
            return Err(e);
        }
        self.state.merge(pending.staged)?;
        self.joined_with = None;
        self.flush_merge()?;
        Ok(Event::OwnCommitMerged {
            epoch: self.state.epoch(),
        })
    }

    /// Drops our pending commit (e.g. the delivery service rejected it).
    pub fn discard_pending(&mut self) -> bool {
        if let Some(store) = &mut self.store {
            // A failed delete is harmless: the stored commit belongs to an
            // epoch the delivery service rejected it in, so it is never
            // echoed, and the next merge deletes it.
            let _ = store.delete_pending();
        }
        self.pending.take().is_some()
    }

    /// Whether a commit of ours awaits merging.
    pub fn has_pending_commit(&self) -> bool {
        self.pending.is_some()
    }

    /// The signature key this member signs with.
    pub fn signature_key(&self) -> Result<SignaturePublicKey> {
        Ok(self
            .state
            .suite
            .primitives()
            .signature_public_key(self.signer.as_bytes())?)
    }

    /// Frames `content` as a PublicMessage from this member in the current
    /// epoch, signed and with a valid membership tag (a commit gets a dummy
    /// confirmation tag). For fuzzing the semantic rules behind the
    /// signature: it signs whatever it is given, valid or not.
    #[cfg(all(feature = "test-support", feature = "unstable-internals"))]
    pub fn dangerous_frame_as_member(&self, content: crate::framing::Content) -> Result<Vec<u8>> {
        use crate::framing::{
            Content, FramedContent, Sender, WireFormat, sign_content, to_public_message,
        };
        let state = &self.state.epoch;
        let is_commit = matches!(content, Content::Commit(_));
        let framed = FramedContent {
            group_id: state.context.group_id.clone(),
            epoch: state.context.epoch,
            sender: Sender::Member(state.own_leaf()),
            authenticated_data: Vec::new(),
            content,
        };
        let mut signed = sign_content(
            &self.state.suite,
            WireFormat::PUBLIC_MESSAGE,
            framed,
            &state.context,
            &self.signer,
        )?;
        if is_commit {
            signed.auth.confirmation_tag = Some(vec![0; self.state.suite.hash_len()]);
        }
        let message = to_public_message(
            &self.state.suite,
            signed,
            &state.keys.membership_key,
            &state.context,
        )?;
        Ok(encode(&MlsMessage::new(MlsMessageBody::PublicMessage(
            Box::new(message),
        )))?)
    }

    /// Decodes an MLSMessage (e.g. to route it by group id and epoch).
    #[cfg(feature = "unstable-internals")]
    pub fn decode_message(bytes: &[u8]) -> Result<MlsMessage> {
        crate::codec::decode_exact(bytes).map_err(|e| Error::malformed("MLSMessage", e))
    }
}
