//! What an [`super::ArborEndpoint`] keeps between calls, bounded: every
//! state it hands out an id for stays in memory until `Free`, so a caller
//! that never frees (or a hostile one) would otherwise grow the server
//! without end. Past a limit the RPC answers `ResourceExhausted`, naming it.

use std::collections::HashSet;
use std::ops::{Deref, DerefMut};

use arbor_mls::{Client, Secret};
use tonic::Status;

use super::arbor_inputs::{RpcResult, status};

/// Bounds on what an endpoint keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Objects held at once, all kinds together: group states,
    /// transactions (clients waiting for a Welcome), clients waiting for a
    /// reinitialized group, external signers. `Free` releases one.
    pub max_states: usize,
    /// External PSKs (distinct ids) one client holds (`StorePsk`, and the
    /// PSKs of `ExternalJoin`).
    pub max_psks_per_client: usize,
}

impl Limits {
    /// 1,024 states, 64 PSKs per client: the official configs hold a few
    /// dozen states at a time and a handful of PSKs.
    pub const DEFAULT: Self = Self {
        max_states: 1024,
        max_psks_per_client: 64,
    };

    /// `ResourceExhausted` unless one more object fits beside `held`.
    pub(crate) fn room_for_one(&self, held: usize, rpc: &str) -> RpcResult<()> {
        if held >= self.max_states {
            return Err(Status::resource_exhausted(format!(
                "arbor: {rpc}: the server holds {held} states (group states, transactions, \
                 reinits, signers), its limit: Free some first"
            )));
        }
        Ok(())
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// A client and the ids of the external PSKs given to it (arbor's client
/// does not list them), to bound their number.
pub(crate) struct PskClient {
    client: Client,
    psk_ids: HashSet<Vec<u8>>,
}

impl From<Client> for PskClient {
    fn from(client: Client) -> Self {
        Self {
            client,
            psk_ids: HashSet::new(),
        }
    }
}

impl Deref for PskClient {
    type Target = Client;

    fn deref(&self) -> &Client {
        &self.client
    }
}

impl DerefMut for PskClient {
    fn deref_mut(&mut self) -> &mut Client {
        &mut self.client
    }
}

impl PskClient {
    /// Registers an external PSK; a new id past `limits` is refused with
    /// `ResourceExhausted` (storing a known id again replaces it).
    pub(crate) fn add_psk(
        &mut self,
        id: Vec<u8>,
        secret: Vec<u8>,
        limits: &Limits,
        rpc: &str,
    ) -> RpcResult<()> {
        if !self.psk_ids.contains(&id) && self.psk_ids.len() >= limits.max_psks_per_client {
            return Err(Status::resource_exhausted(format!(
                "arbor: {rpc}: the client holds {} external PSKs, its limit",
                self.psk_ids.len()
            )));
        }
        self.client
            .add_external_psk(id.clone(), Secret::new(secret))
            .map_err(|e| status("psk", e))?;
        self.psk_ids.insert(id);
        Ok(())
    }
}
