//! arbor-mls for JavaScript: a [`Client`] and its [`Group`]s over an
//! asynchronous store supplied by the application (IndexedDB in a browser,
//! anything in Node.js). See `bindings/wasm/README.md`.
//!
//! Every operation that changes state returns a `Promise`: the change is
//! made at once (calls are applied in the order they are made), and the
//! promise settles once the store has durably taken every batch the
//! change wrote. A result never reaches JavaScript before its state is in
//! the store (`store.rs`).

use std::rc::Rc;

use arbor_mls::{ExternalJoinOptions, GroupOptions, KeyPackageOptions, LeafIndex};
use js_sys::{Array, Object, Promise, Uint8Array};
use wasm_bindgen::prelude::*;

mod convert;
mod store;
#[cfg(feature = "vectors")]
pub mod vectors;

use store::{Durable, bytes_of, set};

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &str = r#"
/** The application's store: an IndexedDB-shaped key-value store of bytes. */
export interface Store {
  /** The value under `key`, or undefined. */
  get(key: Uint8Array): Promise<Uint8Array | undefined>;
  /** Every [key, value] whose key starts with `prefix`, by ascending key
   * (bytewise). */
  scan(prefix: Uint8Array): Promise<Array<[Uint8Array, Uint8Array]>>;
  /** Applies the batch atomically (all or nothing): first deletes every
   * key under each of `deletePrefixes`, then the ops in order (a null
   * value deletes). Resolves once the batch is durable. */
  putBatch(batch: {
    deletePrefixes: Uint8Array[];
    ops: Array<[Uint8Array, Uint8Array | null]>;
  }): Promise<void>;
}

/** A member of a group. */
export interface Member {
  index: number;
  /** The identity of a basic credential; null for other credentials. */
  identity: Uint8Array | null;
  signatureKey: Uint8Array;
}

/** Who sent a proposal or commit. */
export type Sender =
  | { kind: "member"; index: number }
  | { kind: "external"; index: number }
  | { kind: "newMemberProposal" }
  | { kind: "newMemberCommit" };

/** What `Group.process` produced. */
export type MlsEvent =
  | { type: "application"; sender: number; epoch: number; data: Uint8Array; authenticatedData: Uint8Array }
  | { type: "proposal"; sender: Sender }
  | { type: "commit"; epoch?: number; committer: Sender; added: Member[]; removed: Member[];
      updated: Member[]; removedUs: boolean; authenticatedData: Uint8Array }
  | { type: "ownCommitMerged"; epoch: number }
  | { type: "ownMessageEcho"; epoch: number }
  | { type: "other" };

/** A commit to send to the group, and what goes with it. */
export interface CommitResult {
  commit: Uint8Array;
  /** For the members added, if any. */
  welcome?: Uint8Array;
  /** The GroupInfo of the new epoch, if the group publishes one. */
  groupInfo?: Uint8Array;
}
"#;

/// Resolves a `Result` of a state change once its batches are stored.
fn settle(durable: &Durable, result: arbor_mls::Result<JsValue>) -> Promise {
    durable.settle(result.map_err(|e| convert::error(&e)))
}

fn bytes(b: &[u8]) -> JsValue {
    Uint8Array::from(b).into()
}

/// An identity with its signature key and key packages, persisted in the
/// application's store.
#[wasm_bindgen]
pub struct Client {
    inner: arbor_mls::Client,
    durable: Rc<Durable>,
}

#[wasm_bindgen]
impl Client {
    /// Opens the client kept in `store`, or creates one with a basic
    /// credential holding `identity` if the store holds none. A store that
    /// holds another client is refused.
    #[wasm_bindgen(unchecked_return_type = "Promise<Client>")]
    pub fn open(
        identity: Vec<u8>,
        #[wasm_bindgen(unchecked_param_type = "Store")] store: JsValue,
    ) -> Promise {
        wasm_bindgen_futures::future_to_promise(async move {
            let durable = Durable::open(store).await?;
            let built = arbor_mls::Client::builder(identity)
                .storage(durable.storage())
                .build()
                .map_err(|e| convert::error(&e))?;
            wasm_bindgen_futures::JsFuture::from(durable.settle(Ok(JsValue::UNDEFINED))).await?;
            Ok(Client {
                inner: built,
                durable,
            }
            .into())
        })
    }

    /// The identity of the client's basic credential.
    #[wasm_bindgen(getter, unchecked_return_type = "Uint8Array | null")]
    pub fn identity(&self) -> JsValue {
        convert::identity(self.inner.credential())
    }

    /// A new key package (an MLSMessage) to publish; its private keys are
    /// stored until a Welcome uses it.
    #[wasm_bindgen(js_name = keyPackage, unchecked_return_type = "Promise<Uint8Array>")]
    pub fn key_package(&mut self) -> Promise {
        let result = self.durable.check().and_then(|()| {
            self.inner
                .key_package(KeyPackageOptions::default())
                .map(|kp| bytes(&kp))
        });
        settle(&self.durable, result)
    }

    /// Creates a group with this client as its only member; the group id is
    /// random unless given.
    #[wasm_bindgen(js_name = createGroup, unchecked_return_type = "Promise<Group>")]
    pub fn create_group(&mut self, group_id: Option<Vec<u8>>) -> Promise {
        let mut options = GroupOptions::default();
        options.group_id = group_id;
        let result = self
            .durable
            .check()
            .and_then(|()| self.inner.create_group(options))
            .map(|g| self.wrap(g));
        settle(&self.durable, result)
    }

    /// Joins a group from a Welcome; `ratchetTree` is needed when the
    /// Welcome does not carry the tree.
    #[wasm_bindgen(unchecked_return_type = "Promise<Group>")]
    pub fn join(&mut self, welcome: &[u8], ratchet_tree: Option<Vec<u8>>) -> Promise {
        let result = self
            .durable
            .check()
            .and_then(|()| self.inner.join(welcome, ratchet_tree.as_deref()))
            .map(|g| self.wrap(g));
        settle(&self.durable, result)
    }

    /// Joins by external commit from a GroupInfo (an MLSMessage). Resolves
    /// to `{ group, commit }`: send `commit` to the group; processing its
    /// echo confirms the join.
    #[wasm_bindgen(
        js_name = joinExternal,
        unchecked_return_type = "Promise<{ group: Group; commit: Uint8Array }>"
    )]
    pub fn join_external(&mut self, group_info: &[u8], ratchet_tree: Option<Vec<u8>>) -> Promise {
        let mut options = ExternalJoinOptions::default();
        options.ratchet_tree = ratchet_tree;
        let result = self
            .durable
            .check()
            .and_then(|()| self.inner.join_by_external_commit_with(group_info, options))
            .map(|(g, commit)| {
                let object: JsValue = Object::new().into();
                set(&object, "group", &self.wrap(g));
                set(&object, "commit", &bytes(&commit));
                object
            });
        settle(&self.durable, result)
    }

    /// The ids of the groups in the store.
    #[wasm_bindgen(unchecked_return_type = "Uint8Array[]")]
    pub fn groups(&self) -> Result<Array, JsValue> {
        let ids = self.inner.groups().map_err(|e| convert::error(&e))?;
        Ok(ids.iter().map(|id| bytes(id)).collect())
    }

    /// Loads a stored group, as it was after its last stored transition.
    #[wasm_bindgen(js_name = loadGroup)]
    pub fn load_group(&mut self, group_id: &[u8]) -> Result<Group, JsValue> {
        self.durable.check().map_err(|e| convert::error(&e))?;
        let group = self
            .inner
            .load_group(group_id)
            .map_err(|e| convert::error(&e))?;
        Ok(Group {
            inner: group,
            durable: self.durable.clone(),
        })
    }

    fn wrap(&self, group: arbor_mls::Group) -> JsValue {
        Group {
            inner: group,
            durable: self.durable.clone(),
        }
        .into()
    }
}

/// One group, from this member's point of view.
#[wasm_bindgen]
pub struct Group {
    inner: arbor_mls::Group,
    durable: Rc<Durable>,
}

#[wasm_bindgen]
impl Group {
    /// The group id.
    #[wasm_bindgen(getter, js_name = groupId)]
    pub fn group_id(&self) -> Vec<u8> {
        self.inner.group_id().to_vec()
    }

    /// The current epoch.
    #[wasm_bindgen(getter)]
    pub fn epoch(&self) -> f64 {
        self.inner.epoch() as f64
    }

    /// Our own leaf index.
    #[wasm_bindgen(getter, js_name = ownIndex)]
    pub fn own_index(&self) -> u32 {
        self.inner.own_leaf().0
    }

    /// Whether we are still a member.
    #[wasm_bindgen(getter, js_name = isActive)]
    pub fn is_active(&self) -> bool {
        self.inner.is_active()
    }

    /// The epoch authenticator (§8.7): equal for every member of the epoch.
    #[wasm_bindgen(getter, js_name = epochAuthenticator)]
    pub fn epoch_authenticator(&self) -> Vec<u8> {
        self.inner.epoch_authenticator().to_vec()
    }

    /// The members, by leaf index.
    #[wasm_bindgen(unchecked_return_type = "Member[]")]
    pub fn members(&self) -> Array {
        self.inner.members().iter().map(convert::member).collect()
    }

    /// The encoded ratchet tree, for joiners whose Welcome lacks it.
    #[wasm_bindgen(js_name = ratchetTree)]
    pub fn ratchet_tree(&self) -> Result<Vec<u8>, JsValue> {
        self.inner.ratchet_tree().map_err(|e| convert::error(&e))
    }

    /// A signed GroupInfo (MLSMessage) of the current epoch, for external
    /// joiners, with the ratchet tree in it or not.
    #[wasm_bindgen(js_name = groupInfo)]
    pub fn group_info(&self, with_tree: bool) -> Result<Vec<u8>, JsValue> {
        self.inner
            .group_info(with_tree)
            .map_err(|e| convert::error(&e))
    }

    /// An exported secret of the current epoch (§8.5).
    #[wasm_bindgen(js_name = exportSecret)]
    pub fn export_secret(
        &self,
        label: &str,
        context: &[u8],
        length: usize,
    ) -> Result<Vec<u8>, JsValue> {
        self.inner
            .export_secret(label, context, length)
            .map(|s| s.as_bytes().to_vec())
            .map_err(|e| convert::error(&e))
    }

    /// Adds members from their key packages. The commit is pending until
    /// its echo is processed (or [`Group::merge_pending_commit`]).
    #[wasm_bindgen(unchecked_return_type = "Promise<CommitResult>")]
    pub fn add(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array[]")] key_packages: Array,
    ) -> Promise {
        let mut kps = Vec::with_capacity(key_packages.length() as usize);
        for (i, kp) in key_packages.iter().enumerate() {
            match bytes_of(&kp, &format!("keyPackages[{i}]")) {
                Ok(b) => kps.push(b),
                Err(e) => return Promise::reject(&e),
            }
        }
        let refs: Vec<&[u8]> = kps.iter().map(Vec::as_slice).collect();
        let result = self
            .durable
            .check()
            .and_then(|()| self.inner.add(&refs))
            .map(|out| commit_result(&out));
        settle(&self.durable, result)
    }

    /// Removes the member at `index`.
    #[wasm_bindgen(unchecked_return_type = "Promise<CommitResult>")]
    pub fn remove(&mut self, index: u32) -> Promise {
        let result = self
            .durable
            .check()
            .and_then(|()| self.inner.remove(LeafIndex(index)))
            .map(|out| commit_result(&out));
        settle(&self.durable, result)
    }

    /// Refreshes our own keys (a commit with a path).
    #[wasm_bindgen(unchecked_return_type = "Promise<CommitResult>")]
    pub fn update(&mut self) -> Promise {
        let result = self
            .durable
            .check()
            .and_then(|()| self.inner.update())
            .map(|out| commit_result(&out));
        settle(&self.durable, result)
    }

    /// Commits the proposals received this epoch (a leaver's among them).
    #[wasm_bindgen(unchecked_return_type = "Promise<CommitResult>")]
    pub fn commit(&mut self) -> Promise {
        let result = self
            .durable
            .check()
            .and_then(|()| self.inner.commit())
            .map(|out| commit_result(&out));
        settle(&self.durable, result)
    }

    /// Merges our pending commit without waiting for its echo (for a
    /// delivery service that does not echo).
    #[wasm_bindgen(js_name = mergePendingCommit, unchecked_return_type = "Promise<MlsEvent>")]
    pub fn merge_pending_commit(&mut self) -> Promise {
        let result = self
            .durable
            .check()
            .and_then(|()| self.inner.merge_pending())
            .map(|e| convert::event(&e));
        settle(&self.durable, result)
    }

    /// Encrypts application data for the group (a PrivateMessage).
    #[wasm_bindgen(unchecked_return_type = "Promise<Uint8Array>")]
    pub fn encrypt(&mut self, plaintext: &[u8], authenticated_data: Option<Vec<u8>>) -> Promise {
        let aad = authenticated_data.unwrap_or_default();
        let result = self
            .durable
            .check()
            .and_then(|()| self.inner.encrypt(plaintext, &aad))
            .map(|m| bytes(&m));
        settle(&self.durable, result)
    }

    /// Processes a message of the group. Another member's commit is
    /// validated and merged, and reported as a `commit` event (its
    /// `removedUs` says whether we left the group).
    #[wasm_bindgen(unchecked_return_type = "Promise<MlsEvent>")]
    pub fn process(&mut self, message: &[u8]) -> Promise {
        let result = self
            .durable
            .check()
            .and_then(|()| match self.inner.process(message)? {
                arbor_mls::Event::Commit { staged, .. } => {
                    let event = convert::commit_event(&staged);
                    self.inner.merge(*staged)?;
                    Ok(event)
                }
                other => Ok(convert::event(&other)),
            });
        settle(&self.durable, result)
    }

    /// Asks to leave: a proposal (SelfRemove where the group supports it,
    /// else a Remove of ourselves) for another member to commit.
    #[wasm_bindgen(unchecked_return_type = "Promise<Uint8Array>")]
    pub fn leave(&mut self) -> Promise {
        let result = self
            .durable
            .check()
            .and_then(|()| self.inner.leave())
            .map(|m| bytes(&m));
        settle(&self.durable, result)
    }
}

fn commit_result(out: &arbor_mls::CommitOutput) -> JsValue {
    let object: JsValue = Object::new().into();
    set(&object, "commit", &bytes(&out.commit));
    if let Some(welcome) = &out.welcome {
        set(&object, "welcome", &bytes(welcome));
    }
    if let Some(info) = &out.group_info {
        set(&object, "groupInfo", &bytes(info));
    }
    object
}
