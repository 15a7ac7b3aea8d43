//! `Client`: an identity with its keys and key packages, over the
//! application's store.

use std::sync::Arc;

use arbor_mls::{AsyncClient, ExternalJoinOptions, GroupOptions, KeyPackageOptions};
use js_sys::{Array, Object, Promise, Uint8Array};
use wasm_bindgen::prelude::*;

use crate::group::Group;
use crate::store::{JsStore, Slot, set};

fn bytes(b: &[u8]) -> JsValue {
    Uint8Array::from(b).into()
}

/// An identity with its signature key and key packages, persisted in the
/// application's store.
#[wasm_bindgen]
pub struct Client {
    slot: Slot<AsyncClient>,
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
            let store = Arc::new(JsStore::new(store)?);
            let client = AsyncClient::open(store, arbor_mls::Client::builder(identity))
                .await
                .map_err(|e| crate::convert::error(&e))?;
            Ok(Client {
                slot: Slot::new(client),
            }
            .into())
        })
    }

    /// The identity of the client's basic credential.
    #[wasm_bindgen(getter, unchecked_return_type = "Uint8Array | null")]
    pub fn identity(&self) -> Result<JsValue, JsValue> {
        self.slot
            .read(|c| crate::convert::identity(c.client().credential()))
    }

    /// A new key package (an MLSMessage) to publish; its private keys are
    /// stored until a Welcome uses it.
    #[wasm_bindgen(js_name = keyPackage, unchecked_return_type = "Promise<Uint8Array>")]
    pub fn key_package(&self) -> Promise {
        self.slot.run(|c| {
            Box::pin(async move {
                let kp = c.key_package(KeyPackageOptions::default()).await?;
                Ok(bytes(&kp))
            })
        })
    }

    /// Creates a group with this client as its only member; the group id is
    /// random unless given.
    #[wasm_bindgen(js_name = createGroup, unchecked_return_type = "Promise<Group>")]
    pub fn create_group(
        &self,
        #[wasm_bindgen(js_name = groupId)] group_id: Option<Vec<u8>>,
    ) -> Promise {
        let mut options = GroupOptions::default();
        options.group_id = group_id;
        self.slot
            .run(move |c| Box::pin(async move { Ok(Group::wrap(c.create_group(options).await?)) }))
    }

    /// Joins a group from a Welcome; `ratchetTree` is needed when the
    /// Welcome does not carry the tree.
    #[wasm_bindgen(unchecked_return_type = "Promise<Group>")]
    pub fn join(
        &self,
        welcome: Vec<u8>,
        #[wasm_bindgen(js_name = ratchetTree)] ratchet_tree: Option<Vec<u8>>,
    ) -> Promise {
        self.slot.run(move |c| {
            Box::pin(async move {
                Ok(Group::wrap(
                    c.join(&welcome, ratchet_tree.as_deref()).await?,
                ))
            })
        })
    }

    /// Joins by external commit from a GroupInfo (an MLSMessage). Resolves
    /// to `{ group, commit }`: send `commit` to the group; processing its
    /// echo confirms the join.
    #[wasm_bindgen(
        js_name = joinExternal,
        unchecked_return_type = "Promise<{ group: Group; commit: Uint8Array }>"
    )]
    pub fn join_external(
        &self,
        #[wasm_bindgen(js_name = groupInfo)] group_info: Vec<u8>,
        #[wasm_bindgen(js_name = ratchetTree)] ratchet_tree: Option<Vec<u8>>,
    ) -> Promise {
        let mut options = ExternalJoinOptions::default();
        options.ratchet_tree = ratchet_tree;
        self.slot.run(move |c| {
            Box::pin(async move {
                let (group, commit) = c
                    .run(|c| c.join_by_external_commit_with(&group_info, options))
                    .await?;
                let object: JsValue = Object::new().into();
                set(&object, "group", &Group::wrap(c.adopt(group)));
                set(&object, "commit", &bytes(&commit));
                Ok(object)
            })
        })
    }

    /// The ids of the groups in the store.
    #[wasm_bindgen(unchecked_return_type = "Promise<Uint8Array[]>")]
    pub fn groups(&self) -> Promise {
        self.slot.run(|c| {
            Box::pin(async move {
                let ids = c.groups()?;
                Ok(ids.iter().map(|id| bytes(id)).collect::<Array>().into())
            })
        })
    }

    /// Loads a stored group, as it was after its last stored transition.
    #[wasm_bindgen(js_name = loadGroup, unchecked_return_type = "Promise<Group>")]
    pub fn load_group(&self, #[wasm_bindgen(js_name = groupId)] group_id: Vec<u8>) -> Promise {
        self.slot
            .run(move |c| Box::pin(async move { Ok(Group::wrap(c.load_group(&group_id).await?)) }))
    }
}
