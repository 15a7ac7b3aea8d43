//! `key-schedule.json`: a chain of epochs from `initial_init_secret`, checking
//! the GroupContext encoding, every secret of §8, the external public key and
//! one exporter output per epoch.

use arbor_mls::codec::encode;
use arbor_mls::crypto::{Secret, Suite};
use arbor_mls::schedule::{GroupContext, InitSecret, PskSecret, mls_exporter};
use arbor_mls::types::ProtocolVersion;
use serde_json::Value;

use super::Outcome;
use super::util::{Check, array, eq_bytes, hex, outcome, string, uint};

/// Runs one entry.
pub fn run(case: &Value) -> Outcome {
    let suite = crate::suite_or_return!(case);
    outcome(check(&suite, case).map(|()| Outcome::Pass))
}

fn check(suite: &Suite, case: &Value) -> Check {
    let group_id = hex(case, "group_id")?;
    let mut init = InitSecret::new(Secret::new(hex(case, "initial_init_secret")?));
    for (i, epoch) in array(case, "epochs")?.iter().enumerate() {
        init = check_epoch(suite, &group_id, i as u64, init, epoch)
            .map_err(|e| format!("epoch {i}: {e}"))?;
    }
    Ok(())
}

/// Checks one epoch and returns the next epoch's init secret.
fn check_epoch(
    suite: &Suite,
    group_id: &[u8],
    epoch_number: u64,
    init: InitSecret,
    epoch: &Value,
) -> Check<InitSecret> {
    let err = |e: arbor_mls::Error| e.to_string();
    let group_context = GroupContext {
        version: ProtocolVersion::MLS10,
        cipher_suite: suite.id(),
        group_id: group_id.to_vec(),
        epoch: epoch_number,
        tree_hash: hex(epoch, "tree_hash")?,
        confirmed_transcript_hash: hex(epoch, "confirmed_transcript_hash")?,
        extensions: Vec::new(),
    };
    let encoded = encode(&group_context).map_err(|e| e.to_string())?;
    eq_bytes("group_context", &encoded, &hex(epoch, "group_context")?)?;

    let commit_secret = Secret::new(hex(epoch, "commit_secret")?);
    let joiner = init
        .into_joiner_secret(suite, Some(commit_secret), &group_context)
        .map_err(err)?;
    eq_bytes(
        "joiner_secret",
        joiner.as_secret().as_bytes(),
        &hex(epoch, "joiner_secret")?,
    )?;
    let psk_secret = PskSecret::from_secret(Secret::new(hex(epoch, "psk_secret")?));
    let welcome = joiner.welcome_secret(suite, &psk_secret).map_err(err)?;
    eq_bytes(
        "welcome_secret",
        welcome.as_secret().as_bytes(),
        &hex(epoch, "welcome_secret")?,
    )?;
    let secrets = joiner
        .into_epoch_secret(suite, &psk_secret, &group_context)
        .map_err(err)?
        .into_epoch_secrets(suite)
        .map_err(err)?;

    let fields: [(&str, &Secret); 9] = [
        ("init_secret", secrets.init_secret.as_secret()),
        ("sender_data_secret", &secrets.sender_data_secret),
        ("encryption_secret", &secrets.encryption_secret),
        ("exporter_secret", &secrets.exporter_secret),
        ("epoch_authenticator", &secrets.epoch_authenticator),
        ("external_secret", &secrets.external_secret),
        ("confirmation_key", &secrets.confirmation_key),
        ("membership_key", &secrets.membership_key),
        ("resumption_psk", &secrets.resumption_psk),
    ];
    for (field, got) in fields {
        eq_bytes(field, got.as_bytes(), &hex(epoch, field)?)?;
    }

    let (_, external_pub) = secrets.external_key_pair(suite).map_err(err)?;
    eq_bytes(
        "external_pub",
        external_pub.as_bytes(),
        &hex(epoch, "external_pub")?,
    )?;

    let exporter = epoch
        .get("exporter")
        .filter(|v| v.is_object())
        .ok_or("missing object `exporter`")?;
    let length = usize::try_from(uint(exporter, "length")?)
        .map_err(|_| "exporter length out of range".to_string())?;
    let exported = mls_exporter(
        suite,
        &secrets.exporter_secret,
        // The label is used as the text it is, even though it looks like hex.
        string(exporter, "label")?,
        &hex(exporter, "context")?,
        length,
    )
    .map_err(err)?;
    eq_bytes(
        "exporter.secret",
        exported.as_bytes(),
        &hex(exporter, "secret")?,
    )?;

    Ok(secrets.init_secret)
}
