//! treekem.json: merging and decrypting UpdatePaths, and creating new ones
//! that every other member can process (§7.4-§7.6).

use std::collections::BTreeMap;

use arbor_mls::codec::{decode_exact, encode};
use arbor_mls::crypto::{HpkePrivateKey, OsRandom, Secret, SignaturePrivateKey, Suite};
use arbor_mls::schedule::GroupContext;
use arbor_mls::tree::private::{TreePrivate, node_key_pair};
use arbor_mls::tree::ratchet_tree::RatchetTree;
use arbor_mls::tree::treekem::{
    LeafContent, NewLeaf, PathContext, apply_update_path, generate_update_path,
};
use arbor_mls::tree::update_path::UpdatePath;
use arbor_mls::types::ProtocolVersion;
use arbor_mls::types::math::{LeafIndex, NodeIndex};
use serde_json::Value;

use super::Outcome;
use super::util::{Check, array, eq, eq_bytes, hex, hex_opt, outcome, private_key, uint};
use crate::suite_or_return;

struct Member {
    private: TreePrivate,
    signer: SignaturePrivateKey,
}

fn members(suite: &Suite, case: &Value, tree: &RatchetTree) -> Check<BTreeMap<u32, Member>> {
    let mut out = BTreeMap::new();
    for entry in array(case, "leaves_private")? {
        let index = u32::try_from(uint(entry, "index")?).map_err(|e| e.to_string())?;
        let key = HpkePrivateKey(Secret::new(private_key(entry, "encryption_priv", suite)?));
        let mut private = TreePrivate::new(LeafIndex(index), key).map_err(|e| e.to_string())?;
        for ps in array(entry, "path_secrets")? {
            let node = u32::try_from(uint(ps, "node")?).map_err(|e| e.to_string())?;
            let secret = Secret::new(hex(ps, "path_secret")?);
            let (sk, _) = node_key_pair(suite, &secret).map_err(|e| e.to_string())?;
            private.set_key(NodeIndex(node), sk);
        }
        private
            .verify_against(suite, tree)
            .map_err(|e| format!("leaves_private[{index}] inconsistent with the tree: {e}"))?;
        let signer = SignaturePrivateKey(Secret::new(private_key(entry, "signature_priv", suite)?));
        out.insert(index, Member { private, signer });
    }
    Ok(out)
}

/// Runs one entry.
pub fn run(case: &Value) -> Outcome {
    let suite = suite_or_return!(case);
    outcome((|| {
        let group_id = hex(case, "group_id")?;
        let base = GroupContext {
            version: ProtocolVersion::MLS10,
            cipher_suite: suite.id(),
            group_id: group_id.clone(),
            epoch: uint(case, "epoch")?,
            tree_hash: Vec::new(),
            confirmed_transcript_hash: hex(case, "confirmed_transcript_hash")?,
            extensions: Vec::new(),
        };
        let context_for = |tree_hash: &[u8]| {
            let mut ctx = base.clone();
            ctx.tree_hash = tree_hash.to_vec();
            Ok(encode(&ctx)?)
        };
        let tree = RatchetTree::from_bytes(&hex(case, "ratchet_tree")?)
            .map_err(|e| format!("ratchet_tree: {e}"))?;
        let members = members(&suite, case, &tree)?;
        let ctx = PathContext {
            group_id: &group_id,
            joiners: &[],
            external: false,
        };

        for (n, up) in array(case, "update_paths")?.iter().enumerate() {
            let sender = LeafIndex(u32::try_from(uint(up, "sender")?).map_err(|e| e.to_string())?);
            let path: UpdatePath = decode_exact(&hex(up, "update_path")?)
                .map_err(|e| format!("update_paths[{n}]: does not decode: {e}"))?;
            path.leaf_node
                .verify_signature(&suite, Some((&group_id, sender)))
                .map_err(|e| format!("update_paths[{n}]: {e}"))?;
            let commit_secret = hex(up, "commit_secret")?;
            let want_secrets = array(up, "path_secrets")?;

            // Merge without keys: parent-hash validity and the new tree hash.
            let mut merged = tree.clone();
            apply_update_path(&suite, &mut merged, sender, &path, ctx, None, context_for)
                .map_err(|e| format!("update_paths[{n}]: merge: {e}"))?;
            let hash = merged.root_tree_hash(&suite).map_err(|e| e.to_string())?;
            eq_bytes(
                &format!("update_paths[{n}].tree_hash_after"),
                &hash,
                &hex(up, "tree_hash_after")?,
            )?;

            // Every other member decrypts the expected path and commit secrets.
            for (&j, member) in &members {
                if j == sender.0 {
                    continue;
                }
                let mut t = tree.clone();
                let mut private = member.private.clone();
                let got = apply_update_path(
                    &suite,
                    &mut t,
                    sender,
                    &path,
                    ctx,
                    Some(&mut private),
                    context_for,
                )
                .map_err(|e| format!("update_paths[{n}]: leaf {j}: {e}"))?
                .ok_or("no secret decrypted")?;
                let want = want_secrets
                    .get(j as usize)
                    .map(|v| hex_opt(&serde_json::json!({ "v": v }), "v"))
                    .transpose()?
                    .flatten()
                    .ok_or_else(|| {
                        format!("update_paths[{n}]: no path secret listed for leaf {j}")
                    })?;
                eq_bytes(
                    &format!("update_paths[{n}].path_secrets[{j}]"),
                    got.path_secret.as_bytes(),
                    &want,
                )?;
                eq_bytes(
                    &format!("update_paths[{n}].commit_secret (leaf {j})"),
                    got.commit_secret.as_bytes(),
                    &commit_secret,
                )?;
            }

            // A fresh UpdatePath from the same sender, processed by everyone.
            let sender_member = members.get(&sender.0).ok_or_else(|| {
                format!("update_paths[{n}]: no private state for sender {sender}")
            })?;
            let mut t = tree.clone();
            let mut private = sender_member.private.clone();
            let leaf = LeafContent::from_leaf(t.leaf(sender).ok_or("sender leaf is blank")?);
            let generated = generate_update_path(
                &suite,
                &mut t,
                &mut private,
                NewLeaf {
                    content: &leaf,
                    signer: &sender_member.signer,
                },
                ctx,
                context_for,
                &mut OsRandom,
            )
            .map_err(|e| format!("update_paths[{n}]: generating: {e}"))?;
            let mut count = 0;
            for (&j, member) in &members {
                if j == sender.0 {
                    continue;
                }
                let mut t = tree.clone();
                let mut private = member.private.clone();
                let got = apply_update_path(
                    &suite,
                    &mut t,
                    sender,
                    &generated.update_path,
                    ctx,
                    Some(&mut private),
                    context_for,
                )
                .map_err(|e| format!("update_paths[{n}]: new path at leaf {j}: {e}"))?
                .ok_or("no secret decrypted")?;
                eq(
                    &format!("update_paths[{n}]: new commit secret at leaf {j}"),
                    got.commit_secret.as_bytes(),
                    generated.commit_secret.as_bytes(),
                )?;
                count += 1;
            }
            eq(
                &format!("update_paths[{n}]: members processing the new path"),
                count,
                members.len() - 1,
            )?;
        }
        Ok(Outcome::Pass)
    })())
}
