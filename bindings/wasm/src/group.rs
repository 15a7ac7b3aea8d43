//! `Group`: one group from this member's point of view.

use arbor_mls::{AsyncGroup, CommitOutput, LeafIndex};
use js_sys::{Array, Object, Promise, Uint8Array};
use wasm_bindgen::prelude::*;

use crate::convert;
use crate::store::{Slot, set};

fn bytes(b: &[u8]) -> JsValue {
    Uint8Array::from(b).into()
}

fn commit_result(out: &CommitOutput) -> JsValue {
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

/// One group, from this member's point of view.
#[wasm_bindgen]
pub struct Group {
    slot: Slot<AsyncGroup>,
}

impl Group {
    /// The JavaScript object of a group.
    pub(crate) fn wrap(group: AsyncGroup) -> JsValue {
        Group {
            slot: Slot::new(group),
        }
        .into()
    }
}

fn mls_err(e: arbor_mls::Error) -> JsValue {
    convert::error(&e)
}

#[wasm_bindgen]
impl Group {
    /// The group id.
    #[wasm_bindgen(getter, js_name = groupId)]
    pub fn group_id(&self) -> Result<Vec<u8>, JsValue> {
        self.slot.read(|g| g.group().group_id().to_vec())
    }

    /// The current epoch.
    #[wasm_bindgen(getter)]
    pub fn epoch(&self) -> Result<f64, JsValue> {
        self.slot.read(|g| g.group().epoch() as f64)
    }

    /// Our own leaf index.
    #[wasm_bindgen(getter, js_name = ownIndex)]
    pub fn own_index(&self) -> Result<u32, JsValue> {
        self.slot.read(|g| g.group().own_leaf().0)
    }

    /// Whether we are still a member.
    #[wasm_bindgen(getter, js_name = isActive)]
    pub fn is_active(&self) -> Result<bool, JsValue> {
        self.slot.read(|g| g.group().is_active())
    }

    /// The epoch authenticator (§8.7): equal for every member of the epoch.
    #[wasm_bindgen(getter, js_name = epochAuthenticator)]
    pub fn epoch_authenticator(&self) -> Result<Vec<u8>, JsValue> {
        self.slot.read(|g| g.group().epoch_authenticator().to_vec())
    }

    /// The members, by leaf index.
    #[wasm_bindgen(unchecked_return_type = "Member[]")]
    pub fn members(&self) -> Result<Array, JsValue> {
        self.slot
            .read(|g| g.group().members().iter().map(convert::member).collect())
    }

    /// The encoded ratchet tree, for joiners whose Welcome lacks it.
    #[wasm_bindgen(js_name = ratchetTree)]
    pub fn ratchet_tree(&self) -> Result<Vec<u8>, JsValue> {
        self.slot
            .read(|g| g.group().ratchet_tree())?
            .map_err(mls_err)
    }

    /// A signed GroupInfo (MLSMessage) of the current epoch, for external
    /// joiners, with the ratchet tree in it or not.
    #[wasm_bindgen(js_name = groupInfo)]
    pub fn group_info(
        &self,
        #[wasm_bindgen(js_name = withTree)] with_tree: bool,
    ) -> Result<Vec<u8>, JsValue> {
        self.slot
            .read(|g| g.group().group_info(with_tree))?
            .map_err(mls_err)
    }

    /// An exported secret of the current epoch (§8.5).
    #[wasm_bindgen(js_name = exportSecret)]
    pub fn export_secret(
        &self,
        label: &str,
        context: &[u8],
        length: usize,
    ) -> Result<Vec<u8>, JsValue> {
        self.slot
            .read(|g| g.group().export_secret(label, context, length))?
            .map(|s| s.as_bytes().to_vec())
            .map_err(mls_err)
    }

    /// Adds members from their key packages. The commit is pending until
    /// its echo is processed (or `mergePendingCommit`).
    #[wasm_bindgen(unchecked_return_type = "Promise<CommitResult>")]
    pub fn add(
        &self,
        #[wasm_bindgen(js_name = keyPackages, unchecked_param_type = "Uint8Array[]")]
        key_packages: Array,
    ) -> Promise {
        let mut kps = Vec::with_capacity(key_packages.length() as usize);
        for (i, kp) in key_packages.iter().enumerate() {
            match kp.dyn_ref::<Uint8Array>() {
                Some(kp) => kps.push(kp.to_vec()),
                None => {
                    let e =
                        js_sys::TypeError::new(&format!("keyPackages[{i}] is not a Uint8Array"));
                    return Promise::reject(&e);
                }
            }
        }
        self.slot.run(move |g| {
            Box::pin(async move {
                let refs: Vec<&[u8]> = kps.iter().map(Vec::as_slice).collect();
                Ok(commit_result(&g.add(&refs).await?))
            })
        })
    }

    /// Removes the member at `index`.
    #[wasm_bindgen(unchecked_return_type = "Promise<CommitResult>")]
    pub fn remove(&self, index: u32) -> Promise {
        self.slot.run(move |g| {
            Box::pin(async move { Ok(commit_result(&g.remove(LeafIndex(index)).await?)) })
        })
    }

    /// Refreshes our own keys (a commit with a path).
    #[wasm_bindgen(unchecked_return_type = "Promise<CommitResult>")]
    pub fn update(&self) -> Promise {
        self.slot
            .run(|g| Box::pin(async move { Ok(commit_result(&g.update().await?)) }))
    }

    /// Commits the proposals received this epoch (a leaver's among them).
    #[wasm_bindgen(unchecked_return_type = "Promise<CommitResult>")]
    pub fn commit(&self) -> Promise {
        self.slot
            .run(|g| Box::pin(async move { Ok(commit_result(&g.commit().await?)) }))
    }

    /// Merges our pending commit without waiting for its echo (for a
    /// delivery service that does not echo).
    #[wasm_bindgen(js_name = mergePendingCommit, unchecked_return_type = "Promise<MlsEvent>")]
    pub fn merge_pending_commit(&self) -> Promise {
        self.slot
            .run(|g| Box::pin(async move { Ok(convert::event(&g.merge_pending().await?)) }))
    }

    /// Encrypts application data for the group (a PrivateMessage).
    #[wasm_bindgen(unchecked_return_type = "Promise<Uint8Array>")]
    pub fn encrypt(
        &self,
        plaintext: Vec<u8>,
        #[wasm_bindgen(js_name = authenticatedData)] authenticated_data: Option<Vec<u8>>,
    ) -> Promise {
        let aad = authenticated_data.unwrap_or_default();
        self.slot
            .run(move |g| Box::pin(async move { Ok(bytes(&g.encrypt(&plaintext, &aad).await?)) }))
    }

    /// Processes a message of the group. Another member's commit is
    /// validated and merged, then reported as a `commit` event (its
    /// `removedUs` says whether we left the group).
    #[wasm_bindgen(unchecked_return_type = "Promise<MlsEvent>")]
    pub fn process(&self, message: Vec<u8>) -> Promise {
        self.slot.run(move |g| {
            Box::pin(async move {
                match g.process(&message).await? {
                    arbor_mls::Event::Commit { staged, .. } => {
                        let event = convert::commit_event(&staged);
                        g.merge(*staged).await?;
                        Ok(event)
                    }
                    other => Ok(convert::event(&other)),
                }
            })
        })
    }

    /// Asks to leave: a proposal (SelfRemove where the group supports it,
    /// else a Remove of ourselves) for another member to commit.
    #[wasm_bindgen(unchecked_return_type = "Promise<Uint8Array>")]
    pub fn leave(&self) -> Promise {
        self.slot
            .run(|g| Box::pin(async move { Ok(bytes(&g.leave().await?)) }))
    }
}
