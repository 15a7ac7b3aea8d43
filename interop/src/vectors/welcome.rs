//! welcome.json: decrypt a Welcome, verify the GroupInfo signature and the
//! confirmation tag (§12.4.3.1).

use arbor_mls::codec::decode_exact;
use arbor_mls::crypto::{HpkePrivateKey, Secret, SignaturePublicKey};
use arbor_mls::framing::{MlsMessage, MlsMessageBody};
use arbor_mls::group::welcome_open::{
    decrypt_group_info, decrypt_group_secrets, key_package_ref, verify_group_info,
};
use arbor_mls::schedule::{JoinerSecret, PskSecret};
use serde_json::Value;

use super::Outcome;
use super::util::{hex, outcome, private_key};
use crate::suite_or_return;

/// Maps a library error to failure text naming the step.
fn step(what: &'static str) -> impl Fn(arbor_mls::Error) -> String {
    move |err| format!("{what}: {err}")
}

/// Runs one entry.
pub fn run(case: &Value) -> Outcome {
    let suite = suite_or_return!(case);
    outcome((|| {
        let key_package: MlsMessage = decode_exact(&hex(case, "key_package")?)
            .map_err(|err| format!("key_package does not decode: {err}"))?;
        let MlsMessageBody::KeyPackage(key_package) = key_package.body else {
            return Err("key_package is not a KeyPackage".into());
        };
        let welcome: MlsMessage = decode_exact(&hex(case, "welcome")?)
            .map_err(|err| format!("welcome does not decode: {err}"))?;
        let MlsMessageBody::Welcome(welcome) = welcome.body else {
            return Err("welcome is not a Welcome".into());
        };
        let init_priv = HpkePrivateKey(Secret::new(private_key(case, "init_priv", &suite)?));
        let signer = SignaturePublicKey(hex(case, "signer_pub")?);

        let kp_ref = key_package_ref(&suite, &key_package).map_err(step("key package ref"))?;
        let secrets = decrypt_group_secrets(&suite, &welcome, &kp_ref, &init_priv)
            .map_err(step("group secrets"))?;
        if !secrets.psks.is_empty() {
            return Err("vector unexpectedly uses PSKs".into());
        }
        let psk = PskSecret::zero(&suite);
        let joiner = JoinerSecret::new(secrets.joiner_secret.clone());
        let info =
            decrypt_group_info(&suite, &welcome, &joiner, &psk).map_err(step("group info"))?;
        verify_group_info(&suite, &info, &signer).map_err(step("signature"))?;
        // §12.4.3.1: the epoch's key schedule from the joiner secret, and
        // the GroupInfo's confirmation tag under it.
        let epoch = joiner
            .into_epoch_secret(&suite, &psk, &info.group_context)
            .and_then(|e| e.into_epoch_secrets(&suite))
            .map_err(step("key schedule"))?;
        epoch
            .verify_confirmation_tag(
                &suite,
                &info.group_context.confirmed_transcript_hash,
                &info.confirmation_tag,
            )
            .map_err(|e| format!("confirmation tag: {e}"))?;
        Ok(Outcome::Pass)
    })())
}
