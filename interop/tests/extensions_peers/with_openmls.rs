//! With openmls 0.9.2 and its `extensions-draft` feature: SelfRemove
//! (`0x000a` on both sides), AppDataUpdate (`0x0008`) on the
//! `app_data_dictionary` GroupContext extension (`0x0006`), AppEphemeral
//! (`0x0009`), the safe
//! exporter, and last-resort key packages (different marks: openmls's
//! KeyPackage extension `0x000a`, the `last_resort_key_package` component
//! `0x0004` of ours).
//!
//! openmls sends SelfRemove only as a PublicMessage (as the draft says), so
//! these groups send handshakes as PublicMessage on both sides (our
//! default; openmls's mixed-plaintext policy).

use super::*;
use arbor_mls::api::KeyPackageOptions;
use arbor_mls::wire::{AppDataOperation, ComponentsList, Proposal as ArborProposal};
use openmls::component::ComponentData;
use openmls::prelude::tls_codec::{Deserialize as _, Serialize as _};
use openmls::prelude::*;
use openmls_basic_credential::SignatureKeyPair;
use openmls_rust_crypto::OpenMlsRustCrypto;

/// The draft's `app_components` component: the components a leaf
/// supports. openmls does not know it; we require every member to list a
/// component there before an AppDataUpdate of it is valid.
const APP_COMPONENTS: ComponentId = 0x0001;

fn suite() -> Ciphersuite {
    Ciphersuite::try_from(SUITE).expect("openmls knows suite 1")
}

/// An openmls client: provider (crypto + in-memory storage), signer and
/// basic credential.
struct OpenMls {
    provider: OpenMlsRustCrypto,
    signer: SignatureKeyPair,
    credential: CredentialWithKey,
}

/// openmls leaves supporting SelfRemove and, with `app_data`,
/// AppDataUpdate, AppEphemeral and the `app_data_dictionary` extension.
fn capabilities(app_data: bool) -> Capabilities {
    if app_data {
        Capabilities::new(
            None,
            None,
            Some(&[ExtensionType::AppDataDictionary]),
            Some(&[
                ProposalType::SelfRemove,
                ProposalType::AppDataUpdate,
                ProposalType::AppEphemeral,
            ]),
            None,
        )
    } else {
        Capabilities::new(None, None, None, Some(&[ProposalType::SelfRemove]), None)
    }
}

/// A leaf `app_data_dictionary` whose `app_components` lists
/// `app_components` and [`LOG`], encoded with our `ComponentsList`.
fn leaf_extensions(app_data: bool) -> Extensions<LeafNode> {
    if !app_data {
        return Extensions::empty();
    }
    let list = ComponentsList {
        component_ids: vec![APP_COMPONENTS, LOG],
    };
    let mut dictionary = AppDataDictionary::new();
    dictionary.insert(
        APP_COMPONENTS,
        arbor_mls::codec::encode(&list).expect("encode ComponentsList"),
    );
    Extensions::single(Extension::AppDataDictionary(
        AppDataDictionaryExtension::new(dictionary),
    ))
    .expect("a leaf may carry app_data_dictionary")
}

fn join_config() -> MlsGroupJoinConfig {
    MlsGroupJoinConfig::builder()
        .wire_format_policy(MIXED_PLAINTEXT_WIRE_FORMAT_POLICY)
        .use_ratchet_tree_extension(true)
        .build()
}

impl OpenMls {
    fn new(identity: &[u8]) -> Self {
        let provider = OpenMlsRustCrypto::default();
        let signer = SignatureKeyPair::new(suite().signature_algorithm()).expect("openmls signer");
        signer.store(provider.storage()).expect("store signer");
        let credential = CredentialWithKey {
            credential: BasicCredential::new(identity.to_vec()).into(),
            signature_key: signer.to_public_vec().into(),
        };
        Self {
            provider,
            signer,
            credential,
        }
    }

    /// A key package as an MLSMessage.
    fn key_package(&self, app_data: bool, last_resort: bool) -> Vec<u8> {
        let mut builder = KeyPackage::builder()
            .leaf_node_capabilities(capabilities(app_data))
            .leaf_node_extensions(leaf_extensions(app_data));
        if last_resort {
            builder = builder.mark_as_last_resort();
        }
        let bundle = builder
            .build(
                suite(),
                &self.provider,
                &self.signer,
                self.credential.clone(),
            )
            .expect("openmls key package");
        MlsMessageOut::from(bundle.key_package().clone())
            .to_bytes()
            .expect("encode key package")
    }

    /// A group of openmls's with a leaf like [`Self::key_package`]'s.
    fn create_group(&self, app_data: bool) -> MlsGroup {
        MlsGroup::builder()
            .ciphersuite(suite())
            .with_wire_format_policy(MIXED_PLAINTEXT_WIRE_FORMAT_POLICY)
            .use_ratchet_tree_extension(true)
            .with_capabilities(capabilities(app_data))
            .with_leaf_node_extensions(leaf_extensions(app_data))
            .expect("leaf extensions")
            .build(&self.provider, &self.signer, self.credential.clone())
            .expect("openmls creates a group")
    }

    /// Joins from a Welcome carrying the tree.
    fn join(&self, welcome: &[u8]) -> MlsGroup {
        let welcome = match MlsMessageIn::tls_deserialize_exact(welcome)
            .expect("openmls decodes the Welcome")
            .extract()
        {
            MlsMessageBodyIn::Welcome(w) => w,
            other => panic!("expected a Welcome, got {other:?}"),
        };
        StagedWelcome::new_from_welcome(&self.provider, &join_config(), welcome, None)
            .expect("openmls stages the Welcome")
            .into_group(&self.provider)
            .expect("openmls joins")
    }

    /// Decodes and validates one of our key packages.
    fn validate(&self, bytes: &[u8]) -> KeyPackage {
        match MlsMessageIn::tls_deserialize_exact(bytes)
            .expect("openmls decodes our key package")
            .extract()
        {
            MlsMessageBodyIn::KeyPackage(kp) => kp
                .validate(self.provider.crypto(), ProtocolVersion::Mls10)
                .expect("openmls validates our key package"),
            other => panic!("expected a KeyPackage, got {other:?}"),
        }
    }

    fn process(&self, group: &mut MlsGroup, bytes: &[u8]) -> ProcessedMessageContent {
        let message = MlsMessageIn::tls_deserialize_exact(bytes)
            .expect("openmls decodes our message")
            .try_into_protocol_message()
            .expect("a protocol message");
        group
            .process_message(&self.provider, message)
            .expect("openmls accepts the message")
            .into_content()
    }

    /// Processes a proposal and stores it for the next commit.
    fn store_proposal(&self, group: &mut MlsGroup, bytes: &[u8]) -> Proposal {
        match self.process(group, bytes) {
            ProcessedMessageContent::ProposalMessage(p) => {
                let proposal = p.proposal().clone();
                group
                    .store_pending_proposal(self.provider.storage(), *p)
                    .expect("store the proposal");
                proposal
            }
            other => panic!("openmls expected a proposal, got {other:?}"),
        }
    }

    /// Processes and merges a commit without AppDataUpdates.
    fn follow(&self, group: &mut MlsGroup, commit: &[u8]) {
        match self.process(group, commit) {
            ProcessedMessageContent::StagedCommitMessage(staged) => group
                .merge_staged_commit(&self.provider, *staged)
                .expect("openmls merges the commit"),
            other => panic!("openmls expected a commit, got {other:?}"),
        }
    }

    /// Processes a commit covering AppDataUpdates of [`LOG`], computes
    /// the new data with [`concat_log`] from the proposals in the order
    /// openmls hands them out, and merges.
    fn follow_app_data(&self, group: &mut MlsGroup, commit: &[u8]) {
        let unresolved = match self.process(group, commit) {
            ProcessedMessageContent::UnresolvedAppDataCommit(u) => u,
            other => panic!("openmls expected an app-data commit, got {other:?}"),
        };
        let mut updater = group.app_data_dictionary_updater();
        apply_log(&mut updater, unresolved.app_data_update_proposals());
        let changes = updater.changes();
        let staged = group
            .stage_app_data_commit(&self.provider, *unresolved, changes)
            .expect("openmls stages the commit");
        group
            .merge_staged_commit(&self.provider, staged)
            .expect("openmls merges the commit");
    }

    /// Builds (and stages, not merges) a commit carrying one AppDataUpdate
    /// of [`LOG`] by value, applying [`LOG`]'s logic as openmls asks.
    fn commit_app_data_update(&self, group: &mut MlsGroup, data: &[u8]) -> Vec<u8> {
        let mut stage = group
            .commit_builder()
            .add_proposals(vec![Proposal::AppDataUpdate(Box::new(
                AppDataUpdateProposal::update(LOG, data.to_vec()),
            ))])
            .load_psks(self.provider.storage())
            .expect("psks");
        let mut updater = stage.app_data_dictionary_updater();
        apply_log(&mut updater, stage.app_data_update_proposals());
        let changes = updater.changes();
        stage.with_app_data_dictionary_updates(changes);
        stage
            .build(
                self.provider.rand(),
                self.provider.crypto(),
                &self.signer,
                |_| true,
            )
            .expect("openmls builds")
            .stage_commit(&self.provider)
            .expect("openmls stages")
            .into_commit()
            .to_bytes()
            .expect("encode commit")
    }

    /// Commits what openmls has stored (no AppDataUpdates among them).
    fn commit_pending(&self, group: &mut MlsGroup) -> Vec<u8> {
        let (commit, _, _) = group
            .commit_to_pending_proposals(&self.provider, &self.signer)
            .expect("openmls commits");
        group
            .merge_pending_commit(&self.provider)
            .expect("openmls merges its commit");
        commit.to_bytes().expect("encode commit")
    }

    /// Adds our key package; returns (commit, Welcome).
    fn add(&self, group: &mut MlsGroup, key_package: &[u8]) -> (Vec<u8>, Vec<u8>) {
        let kp = self.validate(key_package);
        let (commit, welcome, _) = group
            .add_members(&self.provider, &self.signer, &[kp])
            .expect("openmls adds");
        group
            .merge_pending_commit(&self.provider)
            .expect("openmls merges its commit");
        (
            commit.to_bytes().expect("encode commit"),
            welcome.to_bytes().expect("encode Welcome"),
        )
    }
}

/// [`LOG`]'s logic on openmls's side, over the AppDataUpdates of a commit.
fn apply_log<'a>(
    updater: &mut AppDataDictionaryUpdater<'_>,
    proposals: impl Iterator<Item = &'a AppDataUpdateProposal>,
) {
    let mut updates: Vec<&[u8]> = Vec::new();
    for p in proposals {
        assert_eq!(p.component_id(), LOG, "only LOG is updated");
        match p.operation() {
            AppDataUpdateOperation::Update(data) => updates.push(data.as_slice()),
            AppDataUpdateOperation::Remove => {
                updater.remove(&LOG);
                return;
            }
        }
    }
    if updates.is_empty() {
        return;
    }
    let data = concat_log(updater.old_value(LOG), updates.into_iter());
    updater.set(ComponentData::from_parts(LOG, data.into()));
}

/// Same epoch, epoch authenticator and GroupContext (so the same
/// `app_data_dictionary` bytes). openmls's GroupContext is read from the
/// GroupInfo `client` signs for `theirs`.
fn assert_agree(ours: &Group, theirs: &MlsGroup, client: &OpenMls) {
    assert_eq!(ours.epoch(), theirs.epoch().as_u64(), "epoch");
    assert_eq!(
        ours.epoch_authenticator(),
        theirs.epoch_authenticator().as_slice(),
        "epoch authenticator"
    );
    let info = theirs
        .export_group_info(client.provider.crypto(), &client.signer, false)
        .expect("openmls GroupInfo")
        .to_bytes()
        .expect("encode GroupInfo");
    let their_context = match Group::decode_message(&info).expect("decode").body {
        arbor_mls::framing::MlsMessageBody::GroupInfo(gi) => {
            arbor_mls::codec::encode(&gi.group_context).expect("encode")
        }
        other => panic!("expected a GroupInfo, got {other:?}"),
    };
    assert_eq!(arbor_context(ours), their_context, "GroupContext");
}

/// openmls's `app_data_dictionary` GroupContext extension, as bytes of
/// its body (the `AppDataDictionary`).
fn openmls_dictionary(group: &MlsGroup) -> Option<Vec<u8>> {
    group.extensions().app_data_dictionary().map(|d| {
        d.dictionary()
            .tls_serialize_detached()
            .expect("encode dictionary")
    })
}

fn arbor_dictionary(group: &Group) -> Vec<u8> {
    group
        .app_data_dictionary()
        .expect("our dictionary decodes")
        .expect("a dictionary")
        .to_bytes()
        .expect("encode dictionary")
}

/// An openmls member self-removes (SelfRemove `0x000a`, PublicMessage);
/// we commit it (with the path the draft requires); the remaining openmls
/// member and we agree, and the leaver sees itself removed. Then one of
/// ours self-removes and openmls commits it.
#[test]
fn self_remove_both_ways() {
    let mut alice = arbor_client("arbor-alice", false);
    let bob = OpenMls::new(b"openmls-bob");
    let dave = OpenMls::new(b"openmls-dave");
    let mut carol = arbor_client("arbor-carol", false);

    let mut ours = alice.create_group(Default::default()).expect("group");
    let out = ours
        .add(&[
            &bob.key_package(false, false),
            &dave.key_package(false, false),
            &carol.key_package(KeyPackageOptions::default()).unwrap(),
        ])
        .expect("add");
    arbor_merge_own(&mut ours, &out.commit, 1);
    let welcome = out.welcome.expect("Welcome");
    let mut bob_g = bob.join(&welcome);
    let mut dave_g = dave.join(&welcome);
    let mut carol_g = carol.join(&welcome, None).expect("carol joins");
    assert_agree(&ours, &bob_g, &bob);
    assert_agree(&carol_g, &dave_g, &dave);

    // openmls's bob leaves by SelfRemove.
    let leave = bob_g
        .leave_group_via_self_remove(&bob.provider, &bob.signer)
        .expect("openmls self-removes")
        .to_bytes()
        .unwrap();
    assert!(matches!(
        Group::decode_message(&leave).unwrap().body,
        arbor_mls::framing::MlsMessageBody::PublicMessage(_)
    ));
    for g in [&mut ours, &mut carol_g] {
        assert!(matches!(
            arbor_cache_proposal(g, &leave),
            ArborProposal::SelfRemove(_)
        ));
    }
    assert!(matches!(
        dave.store_proposal(&mut dave_g, &leave),
        Proposal::SelfRemove
    ));

    // We commit it: covered by reference, with a path.
    let out = ours.commit().expect("we commit the SelfRemove");
    assert!(out.left_out.is_empty(), "{:?}", out.left_out);
    arbor_merge_own(&mut ours, &out.commit, 2);
    let summary = arbor_follow(&mut carol_g, &out.commit);
    assert_eq!(summary.removed, vec![arbor_mls::types::math::LeafIndex(1)]);
    assert!(
        summary.path_updated,
        "a commit covering SelfRemove has a path"
    );
    dave.follow(&mut dave_g, &out.commit);
    bob.follow(&mut bob_g, &out.commit);
    assert!(!bob_g.is_active(), "openmls's leaver is out");
    assert_agree(&ours, &dave_g, &dave);
    assert_agree(&carol_g, &dave_g, &dave);
    assert_eq!(ours.members().len(), 3);

    // Our carol leaves by SelfRemove (every member lists it), openmls's
    // dave commits it.
    let leave = carol_g.leave().expect("we self-remove");
    assert!(matches!(
        arbor_cache_proposal(&mut ours, &leave),
        ArborProposal::SelfRemove(_)
    ));
    assert!(matches!(
        dave.store_proposal(&mut dave_g, &leave),
        Proposal::SelfRemove
    ));
    let commit = dave.commit_pending(&mut dave_g);
    let summary = arbor_follow(&mut ours, &commit);
    assert_eq!(summary.removed, vec![carol_g.own_leaf()]);
    let summary = arbor_follow(&mut carol_g, &commit);
    assert!(summary.self_removed);
    assert!(!carol_g.is_active(), "our leaver is out");
    assert_eq!(ours.epoch(), 3);
    assert_agree(&ours, &dave_g, &dave);
    assert_eq!(dave_g.members().count(), 2);
}

/// AppDataUpdates of [`LOG`] from both sides, by reference and by value,
/// committed by us and then by openmls: the `app_data_dictionary` bytes,
/// the whole GroupContext and the epoch authenticator are equal on both
/// sides after each commit, and the data is the updates concatenated in
/// commit order. Then the safe exporter of the epoch agrees.
#[test]
fn app_data_update_both_ways_and_safe_exporter() {
    let mut alice = arbor_client("arbor-alice", true);
    let bob = OpenMls::new(b"openmls-bob");

    let mut ours = alice.create_group(Default::default()).expect("group");
    let out = ours.add(&[&bob.key_package(true, false)]).expect("add");
    arbor_merge_own(&mut ours, &out.commit, 1);
    let mut theirs = bob.join(&out.welcome.expect("Welcome"));
    assert_agree(&ours, &theirs, &bob);
    assert_eq!(openmls_dictionary(&theirs), None);

    // openmls proposes, we propose; we commit both by reference.
    let (p, _) = theirs
        .propose_app_data_update(
            &bob.provider,
            &bob.signer,
            LOG,
            AppDataUpdateOperation::Update(b"om1;".to_vec().into()),
        )
        .expect("openmls proposes");
    arbor_cache_proposal(&mut ours, &p.to_bytes().unwrap());
    let p = ours
        .propose_app_data_update(LOG, AppDataOperation::Update(b"ar1;".to_vec()))
        .expect("we propose");
    bob.store_proposal(&mut theirs, &p);
    let out = ours.commit().expect("we commit");
    assert!(out.left_out.is_empty(), "{:?}", out.left_out);
    arbor_merge_own(&mut ours, &out.commit, 2);
    bob.follow_app_data(&mut theirs, &out.commit);
    assert_eq!(
        ours.app_data_dictionary().unwrap().unwrap().get(LOG),
        Some(&b"om1;ar1;"[..])
    );
    assert_eq!(openmls_dictionary(&theirs), Some(arbor_dictionary(&ours)));
    assert_agree(&ours, &theirs, &bob);

    // We propose; openmls commits ours by reference and one of its own by
    // value.
    let p = ours
        .propose_app_data_update(LOG, AppDataOperation::Update(b"ar2;".to_vec()))
        .expect("we propose");
    bob.store_proposal(&mut theirs, &p);
    let commit = bob.commit_app_data_update(&mut theirs, b"om2;");
    theirs
        .merge_pending_commit(&bob.provider)
        .expect("openmls merges its commit");
    let summary = arbor_follow(&mut ours, &commit);
    assert_eq!(summary.app_data_updated, vec![LOG]);
    assert_eq!(
        ours.app_data_dictionary().unwrap().unwrap().get(LOG),
        Some(&b"om1;ar1;ar2;om2;"[..])
    );
    assert_eq!(openmls_dictionary(&theirs), Some(arbor_dictionary(&ours)));
    assert_agree(&ours, &theirs, &bob);

    // openmls removes the component's state; we apply the remove.
    let (p, _) = theirs
        .propose_app_data_update(
            &bob.provider,
            &bob.signer,
            LOG,
            AppDataUpdateOperation::Remove,
        )
        .expect("openmls proposes a remove");
    arbor_cache_proposal(&mut ours, &p.to_bytes().unwrap());
    let out = ours.commit().expect("we commit the remove");
    arbor_merge_own(&mut ours, &out.commit, 4);
    bob.follow_app_data(&mut theirs, &out.commit);
    assert_eq!(ours.app_data_dictionary().unwrap().unwrap().get(LOG), None);
    assert_eq!(openmls_dictionary(&theirs), Some(arbor_dictionary(&ours)));
    assert_agree(&ours, &theirs, &bob);

    // The safe exporter (Exporter Tree under `application_export`): the
    // same secret for a component on both sides.
    for component in [LOG, 0x0102] {
        let mine = ours.safe_export_secret(component).expect("our safe export");
        let their = theirs
            .safe_export_secret(bob.provider.crypto(), bob.provider.storage(), component)
            .expect("openmls safe export");
        assert_eq!(
            mine.as_bytes(),
            their.as_slice(),
            "component {component:#06x}"
        );
    }
}

/// openmls's last-resort key package (its KeyPackage extension `0x000a`,
/// which we do not read as a mark: ours is a component) added by two of
/// our groups: openmls joins both. Our last-resort key package (the
/// `last_resort_key_package` component, which openmls does not read as a
/// mark) added by two openmls groups: we join both. A regular key package
/// of ours opens one Welcome only.
#[test]
fn last_resort_key_packages_both_ways() {
    // Theirs, twice by us.
    let bob = OpenMls::new(b"openmls-bob");
    let kp = bob.key_package(false, true);
    let parsed = arbor_mls::api::KeyPackage::decode(&kp).expect("we read openmls's key package");
    assert!(
        !parsed.is_last_resort(),
        "openmls's mark is extension 0x000a, not our component"
    );
    for name in ["arbor-1", "arbor-2"] {
        let mut client = arbor_client(name, false);
        let mut ours = client.create_group(Default::default()).expect("group");
        let out = ours
            .add(&[&kp])
            .expect("we add openmls's last-resort key package");
        arbor_merge_own(&mut ours, &out.commit, 1);
        let theirs = bob.join(&out.welcome.expect("Welcome"));
        assert_agree(&ours, &theirs, &bob);
    }

    // Ours, twice by openmls.
    let mut carol = arbor_client("arbor-carol", false);
    let kp = carol
        .key_package(KeyPackageOptions::default().last_resort(true))
        .expect("our last-resort key package");
    assert!(
        !bob.validate(&kp).last_resort(),
        "openmls reads only its own extension 0x000a as the mark"
    );
    for name in [&b"openmls-1"[..], b"openmls-2"] {
        let peer = OpenMls::new(name);
        let mut theirs = peer.create_group(false);
        let (_, welcome) = peer.add(&mut theirs, &kp);
        let ours = carol.join(&welcome, None).expect("we join again");
        assert_agree(&ours, &theirs, &peer);
    }

    // A regular key package of ours opens one Welcome, not two.
    let kp = carol.key_package(KeyPackageOptions::default()).unwrap();
    let peer = OpenMls::new(b"openmls-3");
    let mut theirs = peer.create_group(false);
    let (_, welcome) = peer.add(&mut theirs, &kp);
    carol.join(&welcome, None).expect("first use");
    let mut theirs = peer.create_group(false);
    let (_, welcome) = peer.add(&mut theirs, &kp);
    assert!(
        carol.join(&welcome, None).is_err(),
        "regular key package reused"
    );
}

/// A GroupContext whose `app_data_dictionary` is not its last extension
/// (here it precedes `required_capabilities`). The draft updates an
/// existing dictionary in place ("set its `data` field", section "Updating
/// Application Data in the GroupContext") and adds a missing one "to the
/// end of the `extensions` list"; we do that. openmls 0.9.2 replaces the
/// extension by removing it and appending the new one, so it moves the
/// dictionary to the end, and the two GroupContexts of the new epoch
/// differ: each side refuses the other's commit (its confirmation tag does
/// not match), and ours is left unchanged. This test records that
/// divergence; if it starts failing, openmls has changed and the test
/// should assert agreement as `app_data_update_both_ways_and_safe_exporter`
/// does.
#[test]
fn app_data_update_dictionary_not_last_diverges() {
    use arbor_mls::api::GroupOptions;
    use arbor_mls::wire::{
        AppDataDictionary as ArborDictionary, ComponentData as ArborComponentData,
        Extension as ArborExtension, ExtensionType as ArborExtensionType,
        ProposalType as ArborProposalType, RequiredCapabilities,
    };
    let dictionary = ArborDictionary::new(vec![ArborComponentData {
        component_id: LOG,
        data: b"start;".to_vec(),
    }])
    .unwrap();
    let required = RequiredCapabilities {
        extension_types: vec![ArborExtensionType::APP_DATA_DICTIONARY],
        proposal_types: vec![ArborProposalType::APP_DATA_UPDATE],
        credential_types: vec![],
    };
    let extensions = vec![
        dictionary.to_extension().unwrap(),
        ArborExtension {
            extension_type: ArborExtensionType::REQUIRED_CAPABILITIES,
            extension_data: arbor_mls::codec::encode(&required).unwrap(),
        },
    ];
    let mut alice = arbor_client("arbor-alice", true);
    let bob = OpenMls::new(b"openmls-bob");
    let mut ours = alice
        .create_group(GroupOptions::default().extensions(extensions))
        .expect("group");
    let out = ours.add(&[&bob.key_package(true, false)]).expect("add");
    arbor_merge_own(&mut ours, &out.commit, 1);
    let mut theirs = bob.join(&out.welcome.expect("Welcome"));
    assert_agree(&ours, &theirs, &bob);

    // openmls commits an AppDataUpdate by value: we refuse the commit.
    let commit = bob.commit_app_data_update(&mut theirs, b"om;");
    let before = arbor_context(&ours);
    let err = ours
        .process(&commit)
        .expect_err("openmls's GroupContext differs from ours");
    eprintln!("openmls's commit with the dictionary moved to the end: {err}");
    assert_eq!(arbor_context(&ours), before, "our group is unchanged");
    assert_eq!(ours.epoch(), 1);
    theirs.clear_pending_commit(bob.provider.storage()).unwrap();

    // We commit one: openmls cannot stage it.
    let out = ours
        .commit_app_data(vec![arbor_mls::wire::AppDataUpdate {
            component_id: LOG,
            op: AppDataOperation::Update(b"ar;".to_vec()),
        }])
        .expect("we commit");
    let message = MlsMessageIn::tls_deserialize_exact(&out.commit)
        .unwrap()
        .try_into_protocol_message()
        .unwrap();
    let unresolved = match theirs
        .process_message(&bob.provider, message)
        .expect("openmls verifies the commit's signature")
        .into_content()
    {
        ProcessedMessageContent::UnresolvedAppDataCommit(u) => u,
        other => panic!("openmls expected an app-data commit, got {other:?}"),
    };
    let mut updater = theirs.app_data_dictionary_updater();
    apply_log(&mut updater, unresolved.app_data_update_proposals());
    let changes = updater.changes();
    assert!(
        theirs
            .stage_app_data_commit(&bob.provider, *unresolved, changes)
            .is_err(),
        "openmls's GroupContext differs from ours"
    );
}

/// AppEphemeral (`0x0009`) of [`LOG`]: openmls commits one by value and
/// we report it with the commit; we propose one, commit it by reference,
/// and openmls finds it in the commit it stages. Both sides agree after
/// each commit.
#[test]
fn app_ephemeral_both_ways() {
    let mut alice = arbor_client("arbor-alice", true);
    let bob = OpenMls::new(b"openmls-bob");
    let mut ours = alice.create_group(Default::default()).expect("group");
    let out = ours.add(&[&bob.key_package(true, false)]).expect("add");
    arbor_merge_own(&mut ours, &out.commit, 1);
    let mut theirs = bob.join(&out.welcome.expect("Welcome"));

    let commit = theirs
        .commit_builder()
        .add_proposals(vec![Proposal::AppEphemeral(Box::new(
            AppEphemeralProposal::new(LOG, b"from openmls".to_vec()),
        ))])
        .load_psks(bob.provider.storage())
        .expect("psks")
        .build(
            bob.provider.rand(),
            bob.provider.crypto(),
            &bob.signer,
            |_| true,
        )
        .expect("openmls builds")
        .stage_commit(&bob.provider)
        .expect("openmls stages")
        .into_commit()
        .to_bytes()
        .unwrap();
    theirs
        .merge_pending_commit(&bob.provider)
        .expect("openmls merges its commit");
    let summary = arbor_follow(&mut ours, &commit);
    assert_eq!(
        summary.app_ephemeral,
        vec![arbor_mls::wire::AppEphemeral {
            component_id: LOG,
            data: b"from openmls".to_vec(),
        }]
    );
    assert_agree(&ours, &theirs, &bob);

    let p = ours
        .propose_app_ephemeral(LOG, b"from arbor".to_vec())
        .expect("we propose");
    bob.store_proposal(&mut theirs, &p);
    let out = ours.commit().expect("we commit");
    arbor_merge_own(&mut ours, &out.commit, 3);
    let staged = match bob.process(&mut theirs, &out.commit) {
        ProcessedMessageContent::StagedCommitMessage(staged) => staged,
        other => panic!("openmls expected a commit, got {other:?}"),
    };
    let ephemeral: Vec<(ComponentId, Vec<u8>)> = staged
        .queued_proposals()
        .filter_map(|q| match q.proposal() {
            Proposal::AppEphemeral(e) => Some((e.component_id(), e.data().to_vec())),
            _ => None,
        })
        .collect();
    assert_eq!(ephemeral, vec![(LOG, b"from arbor".to_vec())]);
    theirs
        .merge_staged_commit(&bob.provider, *staged)
        .expect("openmls merges");
    assert_agree(&ours, &theirs, &bob);
}
