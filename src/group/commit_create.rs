//! Creating a group (§11) and creating a Commit with its Welcome (§12.4,
//! §12.4.3.1). Creating a commit changes nothing but the sender's handshake
//! ratchet: the new epoch comes back staged.

use crate::codec::encode;
use crate::crypto::{
    HpkePrivateKey, RandomSource, Secret, SeededRandom, SignaturePrivateKey, Suite,
};
use crate::framing::confirmed_transcript_hash;
use crate::framing::{
    AuthenticatedContent, Content, FramedContent, MlsMessage, MlsMessageBody, Sender, WireFormat,
    sign_content,
};
use crate::group::authorization::Scope;
use crate::group::commit_stage::{CommitSummary, StagedCommit, StagedFrom};
use crate::group::proposal_cache::ProposalCache;
use crate::group::proposal_rules::{ProposalWithSender, apply_list, check_list};
use crate::group::psk_store::{PskStore, PskUse, resolve_psks};
use crate::group::state::GroupState;
use crate::group::state::{
    Confirmation, EpochState, GroupConfig, OwnResumption, Retention, enter_epoch, next_epoch,
};
use crate::group::welcome_open::{GROUP_INFO_LABEL, WELCOME_LABEL, key_package_ref};
use crate::messages::commit::Commit;
use crate::messages::key_package::KeyPackageData;
use crate::messages::proposals::{Proposal, ProposalOrRef};
use crate::messages::welcome::{
    EncryptedGroupSecrets, GroupInfo, GroupSecrets, PathSecret, Welcome,
};
use crate::schedule::{EpochSecret, GroupContext};
use crate::tree::leaf_node::LeafNode;
use crate::tree::private::TreePrivate;
use crate::tree::ratchet_tree::RatchetTree;
use crate::tree::treekem::{LeafContent, NewLeaf, PathContext, generate_update_path};
use crate::tree::update_path::HpkeCiphertext;
use crate::types::ProtocolVersion;
use crate::types::extensions::{Extension, ExtensionType, check_unique_types};
use crate::types::math::LeafIndex;
use crate::{Error, Result};

impl GroupState {
    /// Creates a one-member group (§11) around `leaf`, whose encryption key
    /// is `leaf_key`.
    pub fn create(
        suite: &Suite,
        config: GroupConfig,
        group_id: Vec<u8>,
        extensions: Vec<Extension>,
        leaf: LeafNode,
        leaf_key: HpkePrivateKey,
        rng: &mut dyn RandomSource,
    ) -> Result<Self> {
        check_unique_types(&extensions, "GroupContext extensions")?;
        crate::group::proposal_rules::check_app_data_dictionary(&extensions)?;
        // draft-ietf-mls-extensions, "Negotiating Extensions and
        // Components": the creator is the first member to hold to the
        // required components.
        crate::group::required_components::check_leaf(
            &leaf.extensions,
            &extensions,
            "the creator's leaf",
        )?;
        let tree = RatchetTree::new(leaf)?;
        let context = GroupContext {
            version: ProtocolVersion::MLS10,
            cipher_suite: suite.id(),
            group_id,
            epoch: 0,
            tree_hash: tree.root_tree_hash(suite)?,
            confirmed_transcript_hash: Vec::new(),
            extensions,
        };
        // §11: the epoch secret is fresh randomness of KDF.Nh bytes.
        let mut random = Secret::zero(suite.hash_len());
        random.fill_random(rng)?;
        let secrets = EpochSecret::for_new_group(suite, random)?.into_epoch_secrets(suite)?;
        // §11: a confirmation tag over the (empty) confirmed transcript hash
        // seeds the interim transcript hash.
        let private = TreePrivate::new(LeafIndex(0), leaf_key)?;
        let epoch = enter_epoch(
            suite,
            secrets,
            Confirmation::Make,
            context,
            (tree, private),
            config.secret_tree,
        )?;
        Ok(Self::from_epoch(suite, config, epoch))
    }

    pub(crate) fn from_epoch(suite: &Suite, config: GroupConfig, epoch: EpochState) -> Self {
        Self {
            suite: suite.clone(),
            config,
            epoch,
            proposals: ProposalCache::default(),
            retention: Retention::default(),
            removed: false,
            own_updates: Vec::new(),
            reinit: None,
            authority: crate::group::authorization::Authority::default(),
        }
    }
}

/// How to build a commit.
pub struct CommitParams<'a> {
    /// Proposals the committer includes by value.
    pub by_value: Vec<Proposal>,
    /// Cached proposals to include by reference.
    pub by_reference: Vec<Vec<u8>>,
    /// Include a path even when no proposal requires one.
    pub force_path: bool,
    /// PublicMessage or PrivateMessage.
    pub wire_format: WireFormat,
    /// Put the ratchet tree into the Welcome's GroupInfo.
    pub ratchet_tree_in_welcome: bool,
    /// Authenticated data of the commit message.
    pub authenticated_data: Vec<u8>,
    /// The committer's signature key.
    pub signer: &'a SignaturePrivateKey,
    /// New content for the committer's leaf; `None` keeps the current one.
    pub leaf: Option<LeafContent>,
    /// Source of PSKs the proposals name.
    pub psks: &'a dyn PskStore,
    /// The current time.
    pub now: u64,
    /// Skips the §12.2 list rules. Only for tests that must produce invalid
    /// commits to check that receivers reject them.
    pub dangerous_skip_validation: bool,
    /// PSKs injected without a proposal: the resumption PSK that links the
    /// first epoch of a reinitialized or branched group to the old group
    /// (§11.2, §11.3). They go into the Welcome's GroupSecrets.
    pub extra_psks: Vec<crate::schedule::PreSharedKeyId>,
    /// Which resumption usages `extra_psks` may have.
    pub psk_use: PskUse,
    /// Extensions added to the Welcome's GroupInfo after `ratchet_tree`:
    /// an `app_data_dictionary` for the joiners
    /// (draft-ietf-mls-extensions, "Attaching Application Data to MLS
    /// Messages") and GREASE (RFC 9420 §13.5). Unused without a Welcome.
    pub group_info_extensions: Vec<Extension>,
}

/// A commit ready to send, and the epoch it leads to.
#[derive(Debug)]
pub struct CreatedCommit {
    /// The MLSMessage carrying the commit.
    pub message: Vec<u8>,
    /// The MLSMessage carrying the Welcome, if members were added.
    pub welcome: Option<Vec<u8>>,
    /// The next epoch, to merge once the delivery service accepted the
    /// commit.
    pub staged: StagedCommit,
}

/// Encrypts GroupSecrets to each added member and builds the Welcome
/// (§12.4.3.1).
#[allow(clippy::too_many_arguments)]
fn build_welcome(
    suite: &Suite,
    info: &GroupInfo,
    joiner_secret: &Secret,
    welcome_key: &crate::schedule::KeyAndNonce,
    added: &[(LeafIndex, KeyPackageData)],
    committer: LeafIndex,
    path_secrets: &[(crate::types::math::NodeIndex, Secret)],
    psks: &[crate::schedule::PreSharedKeyId],
    leaves: crate::types::math::LeafCount,
    rng: &mut dyn RandomSource,
) -> Result<Welcome> {
    let encrypted_group_info = suite.aead_seal(
        welcome_key.key.as_bytes(),
        welcome_key.nonce.as_bytes(),
        &[],
        &encode(info)?,
    )?;
    // Every GroupSecrets is encrypted with the encrypted GroupInfo (O(n)
    // bytes) as context: hash it into HPKE's key schedule once, not once
    // per new member.
    let context = suite.prepare_encrypt_context(WELCOME_LABEL, &encrypted_group_info)?;
    let committer_node = committer
        .node()
        .ok_or(Error::Internal("committer outside the tree"))?;
    // One job per new member, each with its own seeded randomness, so the
    // result does not depend on how the jobs are spread over threads.
    let mut jobs = Vec::with_capacity(added.len());
    for (leaf, kp) in added {
        let node = leaf
            .node()
            .ok_or(Error::Internal("new leaf outside the tree"))?;
        let lca = node.common_ancestor(committer_node, leaves);
        let path_secret = lca
            .and_then(|a| path_secrets.iter().find(|(x, _)| *x == a))
            .map(|(_, s)| PathSecret {
                path_secret: s.clone(),
            });
        let group_secrets = GroupSecrets {
            joiner_secret: joiner_secret.clone(),
            path_secret,
            psks: psks.to_vec(),
        };
        let plaintext = Secret::new(encode(&group_secrets)?);
        jobs.push((kp, plaintext, SeededRandom::split(rng)?));
    }
    let secrets = crate::parallel::try_map(jobs, |(kp, plaintext, mut rng)| {
        let (kem_output, ciphertext) =
            suite.encrypt_with_prepared(&kp.init_key, &context, plaintext.as_bytes(), &mut rng)?;
        Ok(EncryptedGroupSecrets {
            new_member: key_package_ref(suite, kp)?,
            encrypted_group_secrets: HpkeCiphertext {
                kem_output,
                ciphertext,
            },
        })
    })?;
    Ok(Welcome {
        cipher_suite: suite.id(),
        secrets,
        encrypted_group_info,
    })
}

impl GroupState {
    /// Builds a commit of the given proposals (§12.4), with a path when
    /// required or forced, and the Welcome for added members. Only the
    /// sender's handshake ratchet moves (for a PrivateMessage); the new epoch
    /// is returned staged.
    pub fn create_commit(
        &mut self,
        params: CommitParams<'_>,
        rng: &mut dyn RandomSource,
    ) -> Result<CreatedCommit> {
        if self.is_removed() {
            return Err(Error::Misuse(
                "this member was removed from the group".into(),
            ));
        }
        if self.reinit.is_some() {
            return Err(Error::Misuse(
                "the group was reinitialized: continue in the new group (RFC 9420 §11.2)".into(),
            ));
        }
        let suite = self.suite.clone();
        let state = &self.epoch;
        let own = state.own_leaf();
        let committer = Sender::Member(own);
        let mut list: Vec<ProposalWithSender> = Vec::new();
        let mut proposals: Vec<ProposalOrRef> = Vec::new();
        for r in &params.by_reference {
            let cached = self
                .proposals
                .find(r)
                .ok_or_else(|| Error::Misuse("no cached proposal has this reference".into()))?;
            list.push(ProposalWithSender {
                proposal: cached.proposal.clone(),
                sender: cached.sender,
                reference: Some(r.clone()),
            });
            proposals.push(ProposalOrRef::Reference(r.clone()));
        }
        for p in params.by_value {
            proposals.push(ProposalOrRef::Proposal(Box::new(p.clone())));
            list.push(ProposalWithSender {
                proposal: p,
                sender: committer,
                reference: None,
            });
        }
        let lifetime = self.config.lifetime_at(params.now);
        if !params.dangerous_skip_validation {
            check_list(&state.tree, Some(own), &list)?;
        }
        // §5.3.1: our own commit holds no credential our validator refuses
        // (cached proposals were checked on receipt; this covers by-value
        // ones and a new credential in our path).
        Scope {
            authority: &self.authority,
            context: &state.context,
            tree: &state.tree,
        }
        .commit(
            Some(own),
            &list,
            params
                .leaf
                .as_ref()
                .map(|c| (&c.credential, &c.signature_key)),
        )?;
        let mut tree = state.tree.clone();
        let mut context = state.context.clone();
        let effects = apply_list(
            &suite,
            &mut tree,
            &mut context,
            &list,
            lifetime,
            self.authority.app_components(),
            false,
        )?;
        crate::group::join::check_group_size(&tree, self.config.max_leaves)?;
        let with_path = params.force_path || list.is_empty() || effects.path_required;

        let mut private = state.private.clone();
        let mut commit_secret = None;
        let mut path_secrets = Vec::new();
        let mut path = None;
        if with_path {
            let content = match params.leaf {
                Some(c) => c,
                None => LeafContent::from_leaf(
                    tree.leaf(own).ok_or(Error::Internal("own leaf is blank"))?,
                ),
            };
            let mut provisional = context.clone();
            provisional.epoch = next_epoch(state.context.epoch)?;
            let generated = generate_update_path(
                &suite,
                &mut tree,
                &mut private,
                NewLeaf {
                    content: &content,
                    signer: params.signer,
                },
                PathContext {
                    group_id: &context.group_id,
                    joiners: &effects.added,
                    external: false,
                },
                |h| {
                    provisional.tree_hash = h.to_vec();
                    Ok(encode(&provisional)?)
                },
                rng,
            )?;
            commit_secret = Some(generated.commit_secret);
            path_secrets = generated.path_secrets;
            path = Some(generated.update_path);
        }

        // §12.4: sign with the current epoch's context.
        let framed = FramedContent {
            group_id: state.context.group_id.clone(),
            epoch: state.context.epoch,
            sender: committer,
            authenticated_data: params.authenticated_data.clone(),
            content: Content::Commit(Box::new(Commit { proposals, path })),
        };
        let mut signed: AuthenticatedContent = sign_content(
            &suite,
            params.wire_format,
            framed,
            &state.context,
            params.signer,
        )?;
        let confirmed = confirmed_transcript_hash(&suite, &state.interim_transcript_hash, &signed)?;
        context.epoch = next_epoch(state.context.epoch)?;
        context.tree_hash = tree.root_tree_hash(&suite)?;
        context.confirmed_transcript_hash = confirmed;

        let own_psks = OwnResumption {
            group_id: &state.context.group_id,
            current: (state.context.epoch, &state.keys.resumption_psk),
            retained: &self.retention.resumption,
        };
        let mut all_psks = effects.psks.clone();
        all_psks.extend(params.extra_psks.iter().cloned());
        let psk_secret = resolve_psks(&suite, &all_psks, params.psks, &own_psks, params.psk_use)?;
        let joiner =
            state
                .keys
                .init_secret
                .clone()
                .into_joiner_secret(&suite, commit_secret, &context)?;
        let joiner_secret = joiner.as_secret().clone();
        let welcome_key = joiner
            .welcome_secret(&suite, &psk_secret)?
            .key_and_nonce(&suite)?;
        let secrets = joiner
            .into_epoch_secret(&suite, &psk_secret, &context)?
            .into_epoch_secrets(&suite)?;
        let next = enter_epoch(
            &suite,
            secrets,
            Confirmation::Make,
            context,
            (tree, private),
            self.config.secret_tree,
        )?;
        let tag = next.confirmation_tag.clone();
        signed.auth.confirmation_tag = Some(tag.clone());

        let message = self.frame_handshake(signed, params.wire_format, rng)?;

        let added: Vec<(LeafIndex, KeyPackageData)> = effects
            .added
            .iter()
            .zip(list.iter().filter_map(|p| match &p.proposal {
                Proposal::Add(a) => Some(a.key_package.clone()),
                _ => None,
            }))
            .map(|(l, kp)| (*l, kp))
            .collect();
        let welcome = if added.is_empty() {
            None
        } else {
            let mut extensions = Vec::new();
            if params.ratchet_tree_in_welcome {
                extensions.push(Extension {
                    extension_type: ExtensionType::RATCHET_TREE,
                    extension_data: next.tree.to_bytes()?,
                });
            }
            extensions.extend(params.group_info_extensions.iter().cloned());
            let mut info = GroupInfo {
                group_context: next.context.clone(),
                extensions,
                confirmation_tag: tag.clone(),
                signer: own,
                signature: Vec::new(),
            };
            info.signature =
                suite.sign_with_label(params.signer, GROUP_INFO_LABEL, &info.to_be_signed()?)?;
            let welcome = build_welcome(
                &suite,
                &info,
                &joiner_secret,
                &welcome_key,
                &added,
                own,
                &path_secrets,
                &all_psks,
                next.tree.leaf_count(),
                rng,
            )?;
            Some(encode(&MlsMessage::new(MlsMessageBody::Welcome(
                Box::new(welcome),
            )))?)
        };

        let summary = CommitSummary {
            committer,
            external_joiner: None,
            added: effects.added.clone(),
            removed: effects.removed.clone(),
            updated: effects.updated.clone(),
            psks: all_psks,
            extensions: effects.extensions.clone(),
            reinit: effects.reinit.clone(),
            self_removed: false,
            removed_members: crate::group::member::Member::all_at(self.tree(), &effects.removed),
            path_updated: with_path,
            authenticated_data: params.authenticated_data,
            app_ephemeral: effects.app_data.ephemeral.clone(),
            app_data_updated: effects.app_data.updated.clone(),
        };
        Ok(CreatedCommit {
            message,
            welcome,
            staged: StagedCommit {
                summary,
                base: StagedFrom::of(self),
                next: Some(next),
            },
        })
    }
}
