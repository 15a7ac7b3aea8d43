//! arbor-mls for JavaScript: a `Client` and its `Group`s over an
//! asynchronous store supplied by the application (IndexedDB in a browser,
//! anything in Node.js), built on the library's
//! [`AsyncClient`](arbor_mls::AsyncClient). See `bindings/wasm/README.md`.
//!
//! Every operation that changes state returns a `Promise` that settles
//! once the store has durably taken every batch the change wrote: a result
//! never reaches JavaScript before its state is in the store. Calls on one
//! object run in the order they are made.
//!
//! The crate is for `wasm32-unknown-unknown`; on other targets it holds
//! only the native peer binary of the tests (`src/bin/native_peer.rs`).

#[cfg(target_arch = "wasm32")]
mod client;
#[cfg(target_arch = "wasm32")]
mod convert;
#[cfg(target_arch = "wasm32")]
mod group;
#[cfg(target_arch = "wasm32")]
mod store;
#[cfg(all(target_arch = "wasm32", feature = "vectors"))]
pub mod vectors;

#[cfg(target_arch = "wasm32")]
pub use client::Client;
#[cfg(target_arch = "wasm32")]
pub use group::Group;

#[cfg(target_arch = "wasm32")]
use wasm_bindgen::prelude::wasm_bindgen;

#[cfg(target_arch = "wasm32")]
#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &str = r#"
/** The application's store: an IndexedDB-shaped key-value store of bytes.
 * The client reads it whole (`scan` of the empty prefix) when it opens,
 * and then only writes to it. */
export interface Store {
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

/** What `Group.process` produced (another member's commit is merged
 * before it is reported). */
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
