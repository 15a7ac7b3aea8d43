//! Plays one script of a config against a set of [`Endpoint`]s, each actor
//! assigned to one of them, following the MLS working group's
//! `test-config.md`. After every step that changes an epoch, every actor the
//! step names must report the same epoch authenticator.

use std::collections::HashMap;

use base64::Engine as _;
use serde_json::Value;
use tonic::{Code, Status};

use super::skip::Skip;
use crate::grpc::Endpoint;
use crate::grpc::proto::{self, *};

/// Why a script did not pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Every step ran and all checks held.
    Passed,
    /// A stack answered `Unimplemented`: the scenario needs a feature that
    /// stack lacks. Carries the step, the stack's part and its reason.
    Skipped(Skip),
    /// A step failed or members disagreed. Carries the step and each
    /// stack's error or value.
    Failed(String),
}

/// A step's failure, before it is turned into an [`Outcome`].
struct StepError {
    /// For `Unimplemented`: the stack's part (`<stack> as <actor>: <RPC>`)
    /// and its message.
    skip: Option<(String, String)>,
    detail: String,
}

type StepResult<T> = Result<T, StepError>;

fn fail(detail: impl Into<String>) -> StepError {
    StepError {
        skip: None,
        detail: detail.into(),
    }
}

/// What a step left for later steps to point at.
#[derive(Debug, Clone, Default)]
struct Output {
    key_package: Vec<u8>,
    /// A proposal, with the actor that sent it (`None`: an external sender
    /// or a new member, whose proposal every member must be given).
    proposal: Option<(Vec<u8>, Option<String>)>,
    psk_id: Vec<u8>,
    /// A protected message with what it should decrypt to.
    ciphertext: Option<(Vec<u8>, Vec<u8>, Vec<u8>)>,
}

/// An actor's objects on its endpoint.
#[derive(Debug, Clone, Default)]
struct Actor {
    state: Option<u32>,
    transaction: Option<u32>,
    signer: Option<u32>,
    reinit: Option<u32>,
}

/// One run of a script.
pub struct Play<'a> {
    endpoints: &'a mut [Box<dyn Endpoint>],
    assign: &'a dyn Fn(&str) -> usize,
    suite: u32,
    encrypt: bool,
    actors: HashMap<String, Actor>,
    outputs: Vec<Output>,
    external_signers: u32,
    signer_index: HashMap<String, u32>,
    group_id: Vec<u8>,
}

fn str_field<'v>(step: &'v Value, key: &str) -> StepResult<&'v str> {
    step.get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| fail(format!("missing string field {key:?}")))
}

fn index_field(step: &Value, key: &str) -> StepResult<usize> {
    step.get(key)
        .and_then(Value::as_u64)
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| fail(format!("missing index field {key:?}")))
}

fn indices(step: &Value, key: &str) -> StepResult<Vec<usize>> {
    match step.get(key) {
        None => Ok(Vec::new()),
        Some(v) => v
            .as_array()
            .ok_or_else(|| fail(format!("{key:?} is not a list")))?
            .iter()
            .map(|n| {
                n.as_u64()
                    .and_then(|n| usize::try_from(n).ok())
                    .ok_or_else(|| fail(format!("{key:?} holds a non-index")))
            })
            .collect(),
    }
}

fn names(step: &Value, key: &str) -> StepResult<Vec<String>> {
    match step.get(key) {
        None => Ok(Vec::new()),
        Some(v) => v
            .as_array()
            .ok_or_else(|| fail(format!("{key:?} is not a list")))?
            .iter()
            .map(|n| {
                n.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| fail(format!("{key:?} holds a non-string")))
            })
            .collect(),
    }
}

/// A boolean that configs spell both in snake and camel case.
fn flag(step: &Value, snake: &str, camel: &str) -> bool {
    [snake, camel]
        .iter()
        .any(|k| step.get(*k).and_then(Value::as_bool).unwrap_or(false))
}

fn extensions(step: &Value) -> StepResult<Vec<proto::Extension>> {
    let Some(list) = step.get("extensions") else {
        return Ok(Vec::new());
    };
    list.as_array()
        .ok_or_else(|| fail("\"extensions\" is not a list"))?
        .iter()
        .map(|e| {
            let extension_type = e
                .get("extension_type")
                .and_then(Value::as_u64)
                .and_then(|t| u32::try_from(t).ok())
                .ok_or_else(|| fail("extension without extension_type"))?;
            let data = e
                .get("extension_data")
                .and_then(Value::as_str)
                .unwrap_or("");
            let extension_data = base64::engine::general_purpose::STANDARD
                .decode(data)
                .map_err(|err| fail(format!("extension_data is not base64: {err}")))?;
            Ok(proto::Extension {
                extension_type,
                extension_data,
            })
        })
        .collect()
}

/// Another suite of the same family for "changeCiphersuite" reinits.
fn other_suite(suite: u32) -> u32 {
    if suite == 1 { 3 } else { 1 }
}

impl<'a> Play<'a> {
    /// A run on `endpoints`, `assign` mapping actor names to endpoint
    /// indices, in cipher suite `suite`, handshakes encrypted or not.
    pub fn new(
        endpoints: &'a mut [Box<dyn Endpoint>],
        assign: &'a dyn Fn(&str) -> usize,
        suite: u32,
        encrypt: bool,
    ) -> Self {
        Self {
            endpoints,
            assign,
            suite,
            encrypt,
            actors: HashMap::new(),
            outputs: Vec::new(),
            external_signers: 0,
            signer_index: HashMap::new(),
            group_id: b"interop-scenario".to_vec(),
        }
    }

    /// Plays `steps` and frees every state it made.
    pub fn run(mut self, steps: &[Value]) -> Outcome {
        let mut outcome = Outcome::Passed;
        for (i, step) in steps.iter().enumerate() {
            let action = step
                .get("action")
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_string();
            match self.step(step, &action) {
                Ok(out) => self.outputs.push(out),
                Err(e) => {
                    let step = format!("step {i} ({action})");
                    outcome = match e.skip {
                        Some((role, reason)) => Outcome::Skipped(Skip {
                            step: Some(step),
                            role,
                            reason,
                        }),
                        None => Outcome::Failed(format!("{step}: {}", e.detail)),
                    };
                    break;
                }
            }
        }
        self.free_all();
        outcome
    }

    fn free_all(&mut self) {
        let actors: Vec<(String, Actor)> = self.actors.drain().collect();
        for (name, a) in actors {
            let e = (self.assign)(&name);
            for id in [a.state, a.transaction, a.signer, a.reinit]
                .into_iter()
                .flatten()
            {
                let _ = self.endpoints[e].free(FreeRequest { state_id: id });
            }
        }
    }

    /// Calls `f` on `actor`'s endpoint, naming the stack in any error.
    fn call<T>(
        &mut self,
        actor: &str,
        what: &str,
        f: impl FnOnce(&mut dyn Endpoint) -> Result<T, Status>,
    ) -> StepResult<T> {
        let e = &mut self.endpoints[(self.assign)(actor)];
        f(e.as_mut()).map_err(|s| {
            let role = format!("{} as {actor}: {what}", e.stack_name());
            let detail = format!("{role}: {:?}: {}", s.code(), s.message());
            StepError {
                skip: (s.code() == Code::Unimplemented).then(|| (role, s.message().to_string())),
                detail,
            }
        })
    }

    fn actor(&mut self, name: &str) -> &mut Actor {
        self.actors.entry(name.to_string()).or_default()
    }

    fn state(&self, name: &str) -> StepResult<u32> {
        self.actors
            .get(name)
            .and_then(|a| a.state)
            .ok_or_else(|| fail(format!("{name} is in no group")))
    }

    fn output(&self, index: usize) -> StepResult<&Output> {
        self.outputs
            .get(index)
            .ok_or_else(|| fail(format!("step {index} does not exist yet")))
    }

    fn key_package(&self, index: usize) -> StepResult<Vec<u8>> {
        let kp = &self.output(index)?.key_package;
        if kp.is_empty() {
            return Err(fail(format!("step {index} made no key package")));
        }
        Ok(kp.clone())
    }

    fn proposal(&self, index: usize) -> StepResult<(Vec<u8>, Option<String>)> {
        self.output(index)?
            .proposal
            .clone()
            .ok_or_else(|| fail(format!("step {index} made no proposal")))
    }

    /// The proposals of `refs` that `actor` did not send itself.
    fn proposals_for(&self, refs: &[usize], actor: &str) -> StepResult<Vec<Vec<u8>>> {
        let mut out = Vec::new();
        for &r in refs {
            let (bytes, sender) = self.proposal(r)?;
            if sender.as_deref() != Some(actor) {
                out.push(bytes);
            }
        }
        Ok(out)
    }

    fn psk_id(&self, index: usize) -> StepResult<Vec<u8>> {
        let id = &self.output(index)?.psk_id;
        if id.is_empty() {
            return Err(fail(format!("step {index} installed no PSK")));
        }
        Ok(id.clone())
    }

    /// Every actor in `names` reports the same epoch authenticator.
    fn agree(&mut self, names: &[String]) -> StepResult<()> {
        let mut seen: Vec<(String, Vec<u8>)> = Vec::new();
        for name in names {
            if seen.iter().any(|(n, _)| n == name) {
                continue;
            }
            let state_id = self.state(name)?;
            let auth = self
                .call(name, "StateAuth", |e| {
                    e.state_auth(StateAuthRequest { state_id })
                })?
                .state_auth_secret;
            seen.push((name.clone(), auth));
        }
        if seen.windows(2).all(|w| w[0].1 == w[1].1) {
            return Ok(());
        }
        let values: Vec<String> = seen
            .iter()
            .map(|(n, a)| {
                format!(
                    "{n} ({}): {}",
                    self.endpoints[(self.assign)(n)].stack_name(),
                    hex::encode(a)
                )
            })
            .collect();
        Err(fail(format!(
            "epoch authenticators differ: {}",
            values.join(", ")
        )))
    }

    fn step(&mut self, step: &Value, action: &str) -> StepResult<Output> {
        match action {
            "createGroup" => self.create_group(step),
            "createKeyPackage" => {
                let actor = str_field(step, "actor")?.to_string();
                let kp = self.new_key_package(&actor, self.suite)?;
                Ok(Output {
                    key_package: kp,
                    ..Output::default()
                })
            }
            "addProposal" => {
                let kp = self.key_package(index_field(step, "keyPackage")?)?;
                self.propose(step, "AddProposal", |e, state_id| {
                    e.add_proposal(AddProposalRequest {
                        state_id,
                        key_package: kp,
                    })
                })
            }
            "removeProposal" => {
                let removed = str_field(step, "removed")?.as_bytes().to_vec();
                self.propose(step, "RemoveProposal", |e, state_id| {
                    e.remove_proposal(RemoveProposalRequest {
                        state_id,
                        removed_id: removed,
                    })
                })
            }
            "updateProposal" => self.propose(step, "UpdateProposal", |e, state_id| {
                e.update_proposal(UpdateProposalRequest { state_id })
            }),
            "externalPSKProposal" => {
                let psk_id = self.psk_id(index_field(step, "pskID")?)?;
                self.propose(step, "ExternalPSKProposal", |e, state_id| {
                    e.external_psk_proposal(ExternalPskProposalRequest { state_id, psk_id })
                })
            }
            "resumptionPSKProposal" => {
                let epoch_id = index_field(step, "epochID")? as u64;
                self.propose(step, "ResumptionPSKProposal", |e, state_id| {
                    e.resumption_psk_proposal(ResumptionPskProposalRequest { state_id, epoch_id })
                })
            }
            "groupContextExtensionsProposal" => {
                let extensions = extensions(step)?;
                self.propose(step, "GroupContextExtensionsProposal", |e, state_id| {
                    e.group_context_extensions_proposal(GroupContextExtensionsProposalRequest {
                        state_id,
                        extensions,
                    })
                })
            }
            "installExternalPSK" => self.install_psk(step),
            "fullCommit" => self.full_commit(step),
            "protect" => self.protect(step),
            "unprotect" => self.unprotect(step),
            "externalJoin" => self.external_join(step),
            "newMemberAddProposal" => self.new_member_add_proposal(step),
            "addExternalSigner" => self.add_external_signer(step),
            "externalSignerProposal" => self.external_signer_proposal(step),
            "branch" => self.branch(step),
            "reinit" => self.reinit(step),
            other => Err(fail(format!("unknown action {other:?}"))),
        }
    }

    fn new_key_package(&mut self, actor: &str, suite: u32) -> StepResult<Vec<u8>> {
        let identity = actor.as_bytes().to_vec();
        let r = self.call(actor, "CreateKeyPackage", |e| {
            e.create_key_package(CreateKeyPackageRequest {
                cipher_suite: suite,
                identity,
            })
        })?;
        self.actor(actor).transaction = Some(r.transaction_id);
        Ok(r.key_package)
    }

    /// `joiner` joins from `welcome` with the key package it made last.
    fn join(&mut self, joiner: &str, welcome: &[u8], tree: &[u8]) -> StepResult<()> {
        let transaction_id = self
            .actors
            .get(joiner)
            .and_then(|a| a.transaction)
            .ok_or_else(|| fail(format!("{joiner} has no key package")))?;
        let encrypt = self.encrypt;
        let r = self.call(joiner, "JoinGroup", |e| {
            e.join_group(JoinGroupRequest {
                transaction_id,
                welcome: welcome.to_vec(),
                encrypt_handshake: encrypt,
                identity: joiner.as_bytes().to_vec(),
                ratchet_tree: tree.to_vec(),
            })
        })?;
        let a = self.actor(joiner);
        a.transaction = None;
        a.state = Some(r.state_id);
        Ok(())
    }

    fn create_group(&mut self, step: &Value) -> StepResult<Output> {
        let actor = str_field(step, "actor")?.to_string();
        let (suite, encrypt, group_id) = (self.suite, self.encrypt, self.group_id.clone());
        let r = self.call(&actor, "CreateGroup", |e| {
            e.create_group(CreateGroupRequest {
                group_id,
                cipher_suite: suite,
                encrypt_handshake: encrypt,
                identity: actor.as_bytes().to_vec(),
            })
        })?;
        self.actor(&actor).state = Some(r.state_id);
        // Listed members join in one commit that adds them all.
        let members = names(step, "members")?;
        if members.is_empty() {
            return Ok(Output::default());
        }
        let mut by_value = Vec::new();
        for m in &members {
            let key_package = self.new_key_package(m, suite)?;
            by_value.push(ProposalDescription {
                proposal_type: b"add".to_vec(),
                key_package,
                ..ProposalDescription::default()
            });
        }
        let state_id = r.state_id;
        let out = self.call(&actor, "Commit", |e| {
            e.commit(CommitRequest {
                state_id,
                by_value,
                ..CommitRequest::default()
            })
        })?;
        self.call(&actor, "HandlePendingCommit", |e| {
            e.handle_pending_commit(HandlePendingCommitRequest { state_id })
        })?;
        for m in &members {
            self.join(m, &out.welcome, &out.ratchet_tree)?;
        }
        let mut all = members;
        all.push(actor);
        self.agree(&all)?;
        Ok(Output::default())
    }

    fn propose(
        &mut self,
        step: &Value,
        what: &str,
        f: impl FnOnce(&mut dyn Endpoint, u32) -> Result<ProposalResponse, Status>,
    ) -> StepResult<Output> {
        let actor = str_field(step, "actor")?.to_string();
        let state_id = self.state(&actor)?;
        let r = self.call(&actor, what, |e| f(e, state_id))?;
        Ok(Output {
            proposal: Some((r.proposal, Some(actor))),
            ..Output::default()
        })
    }

    fn install_psk(&mut self, step: &Value) -> StepResult<Output> {
        let n = self.outputs.len();
        let psk_id = format!("psk-{n}").into_bytes();
        let psk_secret = vec![u8::try_from(n % 256).unwrap_or(0); 32];
        for client in names(step, "clients")? {
            let id = {
                let a = self.actor(&client);
                a.state
                    .or(a.transaction)
                    .ok_or_else(|| fail(format!("{client} has no client")))?
            };
            let (psk_id, psk_secret) = (psk_id.clone(), psk_secret.clone());
            self.call(&client, "StorePSK", |e| {
                e.store_psk(StorePskRequest {
                    state_or_transaction_id: id,
                    psk_id,
                    psk_secret,
                })
            })?;
        }
        Ok(Output {
            psk_id,
            ..Output::default()
        })
    }

    /// A by-value proposal description of a config step's JSON.
    fn description(&self, d: &Value) -> StepResult<ProposalDescription> {
        let kind = str_field(d, "proposalType")?;
        let mut out = ProposalDescription {
            proposal_type: kind.as_bytes().to_vec(),
            ..ProposalDescription::default()
        };
        match kind {
            "add" => out.key_package = self.key_package(index_field(d, "keyPackage")?)?,
            "remove" => out.removed_id = str_field(d, "removed")?.as_bytes().to_vec(),
            "externalPSK" => out.psk_id = self.psk_id(index_field(d, "pskID")?)?,
            "resumptionPSK" => out.epoch_id = index_field(d, "epochID")? as u64,
            "groupContextExtensions" => out.extensions = extensions(d)?,
            "reinit" => {
                out.extensions = extensions(d)?;
                out.group_id = if flag(d, "changeGroupID", "changeGroupId") {
                    b"interop-reinit".to_vec()
                } else {
                    self.group_id.clone()
                };
                out.cipher_suite = if flag(d, "changeCipherSuite", "changeCiphersuite") {
                    other_suite(self.suite)
                } else {
                    self.suite
                };
            }
            other => return Err(fail(format!("unknown proposal type {other:?}"))),
        }
        Ok(out)
    }

    fn full_commit(&mut self, step: &Value) -> StepResult<Output> {
        let actor = str_field(step, "actor")?.to_string();
        let refs = indices(step, "byReference")?;
        let mut by_value = Vec::new();
        if let Some(list) = step.get("byValue").and_then(Value::as_array) {
            for d in list {
                by_value.push(self.description(d)?);
            }
        }
        let force_path = flag(step, "force_path", "forcePath");
        let external_tree = flag(step, "external_tree", "externalTree");
        let state_id = self.state(&actor)?;
        let by_reference = self.proposals_for(&refs, &actor)?;
        let out = self.call(&actor, "Commit", |e| {
            e.commit(CommitRequest {
                state_id,
                by_reference,
                by_value,
                force_path,
                external_tree,
            })
        })?;
        self.call(&actor, "HandlePendingCommit", |e| {
            e.handle_pending_commit(HandlePendingCommitRequest { state_id })
        })?;
        let members = names(step, "members")?;
        for m in &members {
            let state_id = self.state(m)?;
            let proposal = self.proposals_for(&refs, m)?;
            let commit = out.commit.clone();
            self.call(m, "HandleCommit", |e| {
                e.handle_commit(HandleCommitRequest {
                    state_id,
                    proposal,
                    commit,
                })
            })?;
        }
        let joiners = names(step, "joiners")?;
        for j in &joiners {
            self.join(j, &out.welcome, &out.ratchet_tree)?;
        }
        let mut all = vec![actor];
        all.extend(members);
        all.extend(joiners);
        self.agree(&all)?;
        Ok(Output::default())
    }

    fn protect(&mut self, step: &Value) -> StepResult<Output> {
        let actor = str_field(step, "actor")?.to_string();
        let aad = str_field(step, "authenticatedData")?.as_bytes().to_vec();
        let pt = str_field(step, "plaintext")?.as_bytes().to_vec();
        let state_id = self.state(&actor)?;
        let (a, p) = (aad.clone(), pt.clone());
        let r = self.call(&actor, "Protect", |e| {
            e.protect(ProtectRequest {
                state_id,
                authenticated_data: a,
                plaintext: p,
            })
        })?;
        Ok(Output {
            ciphertext: Some((r.ciphertext, aad, pt)),
            ..Output::default()
        })
    }

    fn unprotect(&mut self, step: &Value) -> StepResult<Output> {
        let actor = str_field(step, "actor")?.to_string();
        let index = index_field(step, "ciphertext")?;
        let (ciphertext, aad, pt) = self
            .output(index)?
            .ciphertext
            .clone()
            .ok_or_else(|| fail(format!("step {index} protected nothing")))?;
        let state_id = self.state(&actor)?;
        let r = self.call(&actor, "Unprotect", |e| {
            e.unprotect(UnprotectRequest {
                state_id,
                ciphertext,
            })
        })?;
        if r.plaintext != pt || r.authenticated_data != aad {
            return Err(fail(format!(
                "{actor} decrypted {:?} / aad {:?}, expected {:?} / {:?}",
                String::from_utf8_lossy(&r.plaintext),
                String::from_utf8_lossy(&r.authenticated_data),
                String::from_utf8_lossy(&pt),
                String::from_utf8_lossy(&aad)
            )));
        }
        Ok(Output::default())
    }

    fn group_info(&mut self, member: &str, external_tree: bool) -> StepResult<GroupInfoResponse> {
        let state_id = self.state(member)?;
        self.call(member, "GroupInfo", |e| {
            e.group_info(GroupInfoRequest {
                state_id,
                external_tree,
            })
        })
    }

    fn external_join(&mut self, step: &Value) -> StepResult<Output> {
        let actor = str_field(step, "actor")?.to_string();
        let joiner = str_field(step, "joiner")?.to_string();
        let external_tree = flag(step, "external_tree", "externalTree");
        let remove_prior = flag(step, "remove_prior", "removePrior");
        let mut psks = Vec::new();
        for i in indices(step, "psks")? {
            psks.push(PreSharedKey {
                psk_id: self.psk_id(i)?,
                // The secret is deterministic per install step (install_psk).
                psk_secret: vec![u8::try_from(i % 256).unwrap_or(0); 32],
            });
        }
        let info = self.group_info(&actor, external_tree)?;
        let encrypt = self.encrypt;
        let r = self.call(&joiner, "ExternalJoin", |e| {
            e.external_join(ExternalJoinRequest {
                group_info: info.group_info,
                ratchet_tree: info.ratchet_tree,
                encrypt_handshake: encrypt,
                identity: joiner.as_bytes().to_vec(),
                remove_prior,
                psks,
            })
        })?;
        // A prior state of the joiner is gone with the new one.
        let prior = self.actor(&joiner).state.replace(r.state_id);
        if let Some(state_id) = prior {
            let _ = self.call(&joiner, "Free", |e| e.free(FreeRequest { state_id }));
        }
        let mut handlers = vec![actor];
        handlers.extend(names(step, "members")?);
        for m in &handlers {
            let state_id = self.state(m)?;
            let commit = r.commit.clone();
            self.call(m, "HandleCommit", |e| {
                e.handle_commit(HandleCommitRequest {
                    state_id,
                    proposal: Vec::new(),
                    commit,
                })
            })?;
        }
        handlers.push(joiner);
        self.agree(&handlers)?;
        Ok(Output::default())
    }

    fn new_member_add_proposal(&mut self, step: &Value) -> StepResult<Output> {
        let actor = str_field(step, "actor")?.to_string();
        let joiner = str_field(step, "joiner")?.to_string();
        let info = self.group_info(&actor, false)?;
        let r = self.call(&joiner, "NewMemberAddProposal", |e| {
            e.new_member_add_proposal(NewMemberAddProposalRequest {
                group_info: info.group_info,
                identity: joiner.as_bytes().to_vec(),
            })
        })?;
        self.actor(&joiner).transaction = Some(r.transaction_id);
        Ok(Output {
            proposal: Some((r.proposal, None)),
            ..Output::default()
        })
    }

    fn add_external_signer(&mut self, step: &Value) -> StepResult<Output> {
        let actor = str_field(step, "actor")?.to_string();
        let signer = str_field(step, "signer")?.to_string();
        let suite = self.suite;
        let s = self.call(&signer, "CreateExternalSigner", |e| {
            e.create_external_signer(CreateExternalSignerRequest {
                cipher_suite: suite,
                identity: signer.as_bytes().to_vec(),
            })
        })?;
        let signer_actor = self.actor(&signer);
        signer_actor.signer = Some(s.signer_id);
        // The signer's index in external_senders: signers are appended in
        // the order they are added.
        let index = self.external_signers;
        self.external_signers += 1;
        self.signer_index.insert(signer.clone(), index);
        let state_id = self.state(&actor)?;
        let r = self.call(&actor, "AddExternalSigner", |e| {
            e.add_external_signer(AddExternalSignerRequest {
                state_id,
                external_sender: s.external_sender,
            })
        })?;
        Ok(Output {
            proposal: Some((r.proposal, Some(actor))),
            ..Output::default()
        })
    }

    fn external_signer_proposal(&mut self, step: &Value) -> StepResult<Output> {
        let signer = str_field(step, "actor")?.to_string();
        let member = str_field(step, "member")?.to_string();
        let description = self.description(
            step.get("description")
                .ok_or_else(|| fail("missing \"description\""))?,
        )?;
        let signer_id = self
            .actors
            .get(&signer)
            .and_then(|a| a.signer)
            .ok_or_else(|| fail(format!("{signer} is no external signer")))?;
        let signer_index = self.signer_index.get(&signer).copied().unwrap_or(0);
        let info = self.group_info(&member, true)?;
        let r = self.call(&signer, "ExternalSignerProposal", |e| {
            e.external_signer_proposal(ExternalSignerProposalRequest {
                signer_id,
                signer_index,
                group_info: info.group_info,
                ratchet_tree: info.ratchet_tree,
                description: Some(description),
            })
        })?;
        Ok(Output {
            proposal: Some((r.proposal, None)),
            ..Output::default()
        })
    }

    fn branch(&mut self, step: &Value) -> StepResult<Output> {
        let actor = str_field(step, "actor")?.to_string();
        let members = names(step, "members")?;
        let force_path = flag(step, "force_path", "forcePath");
        let external_tree = flag(step, "external_tree", "externalTree");
        let extensions = extensions(step)?;
        let mut key_packages = Vec::new();
        for m in &members {
            key_packages.push(self.new_key_package(m, self.suite)?);
        }
        let state_id = self.state(&actor)?;
        let r = self.call(&actor, "CreateBranch", |e| {
            e.create_branch(CreateBranchRequest {
                state_id,
                group_id: b"interop-branch".to_vec(),
                extensions,
                key_packages,
                force_path,
                external_tree,
            })
        })?;
        self.actor(&actor).state = Some(r.state_id);
        for m in &members {
            let state_id = self.state(m)?;
            let transaction_id = self
                .actors
                .get(m)
                .and_then(|a| a.transaction)
                .ok_or_else(|| fail(format!("{m} has no key package")))?;
            let (welcome, ratchet_tree) = (r.welcome.clone(), r.ratchet_tree.clone());
            let b = self.call(m, "HandleBranch", |e| {
                e.handle_branch(HandleBranchRequest {
                    state_id,
                    transaction_id,
                    welcome,
                    ratchet_tree,
                })
            })?;
            let a = self.actor(m);
            a.transaction = None;
            a.state = Some(b.state_id);
        }
        let mut all = vec![actor];
        all.extend(members);
        self.agree(&all)?;
        Ok(Output::default())
    }

    fn reinit(&mut self, step: &Value) -> StepResult<Output> {
        let committer = str_field(step, "committer")?.to_string();
        let welcomer = str_field(step, "welcomer")?.to_string();
        let force_path = flag(step, "force_path", "forcePath");
        let external_tree = flag(step, "external_tree", "externalTree");
        // The ReInit proposal: made here by "proposer", or an earlier
        // external signer's proposal.
        let (proposal, proposer) = match step.get("externalReinitProposal") {
            Some(_) => self.proposal(index_field(step, "externalReinitProposal")?)?,
            None => {
                let proposer = str_field(step, "proposer")?.to_string();
                let group_id = if flag(step, "changeGroupID", "changeGroupId") {
                    b"interop-reinit".to_vec()
                } else {
                    self.group_id.clone()
                };
                let cipher_suite = if flag(step, "changeCiphersuite", "changeCipherSuite") {
                    other_suite(self.suite)
                } else {
                    self.suite
                };
                let extensions = extensions(step)?;
                let state_id = self.state(&proposer)?;
                let r = self.call(&proposer, "ReInitProposal", |e| {
                    e.re_init_proposal(ReInitProposalRequest {
                        state_id,
                        cipher_suite,
                        group_id,
                        extensions,
                    })
                })?;
                (r.proposal, Some(proposer))
            }
        };
        let mut everyone: Vec<String> = Vec::new();
        for name in proposer
            .iter()
            .cloned()
            .chain([committer.clone(), welcomer.clone()])
            .chain(names(step, "members")?)
        {
            if !everyone.contains(&name) {
                everyone.push(name);
            }
        }
        let own = |name: &str| proposer.as_deref() == Some(name);
        let state_id = self.state(&committer)?;
        let by_reference = if own(&committer) {
            Vec::new()
        } else {
            vec![proposal.clone()]
        };
        let out = self.call(&committer, "ReInitCommit", |e| {
            e.re_init_commit(CommitRequest {
                state_id,
                by_reference,
                force_path,
                external_tree,
                ..CommitRequest::default()
            })
        })?;
        let mut key_packages: HashMap<String, Vec<u8>> = HashMap::new();
        let mut auths: Vec<(String, Vec<u8>)> = Vec::new();
        for name in &everyone {
            let state_id = self.state(name)?;
            let r = if *name == committer {
                self.call(name, "HandlePendingReInitCommit", |e| {
                    e.handle_pending_re_init_commit(HandlePendingCommitRequest { state_id })
                })?
            } else {
                let proposal = if own(name) {
                    Vec::new()
                } else {
                    vec![proposal.clone()]
                };
                let commit = out.commit.clone();
                self.call(name, "HandleReInitCommit", |e| {
                    e.handle_re_init_commit(HandleCommitRequest {
                        state_id,
                        proposal,
                        commit,
                    })
                })?
            };
            let a = self.actor(name);
            a.state = None;
            a.reinit = Some(r.reinit_id);
            key_packages.insert(name.clone(), r.key_package);
            auths.push((name.clone(), r.epoch_authenticator));
        }
        if !auths.windows(2).all(|w| w[0].1 == w[1].1) {
            return Err(fail(format!(
                "epoch authenticators after the ReInit commit differ: {}",
                auths
                    .iter()
                    .map(|(n, a)| format!("{n}: {}", hex::encode(a)))
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        let reinit_id = self
            .actors
            .get(&welcomer)
            .and_then(|a| a.reinit)
            .ok_or_else(|| fail(format!("{welcomer} has no reinit state")))?;
        let others: Vec<String> = everyone
            .iter()
            .filter(|n| **n != welcomer)
            .cloned()
            .collect();
        let kps: Vec<Vec<u8>> = others
            .iter()
            .filter_map(|n| key_packages.get(n).cloned())
            .collect();
        let w = self.call(&welcomer, "ReInitWelcome", |e| {
            e.re_init_welcome(ReInitWelcomeRequest {
                reinit_id,
                key_package: kps,
                force_path,
                external_tree,
            })
        })?;
        let a = self.actor(&welcomer);
        a.reinit = None;
        a.state = Some(w.state_id);
        for name in &others {
            let reinit_id = self
                .actors
                .get(name)
                .and_then(|a| a.reinit)
                .ok_or_else(|| fail(format!("{name} has no reinit state")))?;
            let (welcome, ratchet_tree) = (w.welcome.clone(), w.ratchet_tree.clone());
            let j = self.call(name, "HandleReInitWelcome", |e| {
                e.handle_re_init_welcome(HandleReInitWelcomeRequest {
                    reinit_id,
                    welcome,
                    ratchet_tree,
                })
            })?;
            let a = self.actor(name);
            a.reinit = None;
            a.state = Some(j.state_id);
        }
        self.agree(&everyone)?;
        Ok(Output::default())
    }
}
