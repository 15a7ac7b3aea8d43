//! messages.json: every structure decodes and re-encodes byte-identically.

use arbor_mls::codec::{Decode, Encode, decode_exact, encode};
use arbor_mls::framing::{MlsMessage, MlsMessageBody, WireFormat};
use arbor_mls::messages::commit::Commit;
use arbor_mls::messages::proposals::{
    Add, ExternalInit, GroupContextExtensions, PreSharedKey, ReInit, Remove, Update,
};
use arbor_mls::messages::welcome::GroupSecrets;
use arbor_mls::tree::nodes::RatchetTreeWire;
use serde_json::Value;

use super::Outcome;
use super::util::{Check, eq_bytes, hex, outcome};

/// Decodes `field` as `T` and checks that it re-encodes to the same bytes.
fn roundtrip<T: Decode + Encode>(case: &Value, field: &str) -> Check<T> {
    let bytes = hex(case, field)?;
    let value: T = decode_exact(&bytes).map_err(|e| format!("`{field}` does not decode: {e}"))?;
    let again = encode(&value).map_err(|e| format!("`{field}` does not encode: {e}"))?;
    eq_bytes(field, &again, &bytes)?;
    Ok(value)
}

fn wire_format(case: &Value, field: &str, want: WireFormat) -> Check {
    let msg: MlsMessage = roundtrip(case, field)?;
    let got = msg.body.wire_format();
    if got != want {
        return Err(format!("`{field}`: wire format {got:?}, want {want:?}"));
    }
    Ok(())
}

fn content_type(case: &Value, field: &str, want: arbor_mls::framing::ContentType) -> Check {
    let msg: MlsMessage = roundtrip(case, field)?;
    match msg.body {
        MlsMessageBody::PublicMessage(m) if m.content.content.content_type() == want => Ok(()),
        other => Err(format!(
            "`{field}`: not a PublicMessage with {want:?}: {other:?}"
        )),
    }
}

/// Runs one entry.
pub fn run(case: &Value) -> Outcome {
    use arbor_mls::framing::ContentType as C;
    outcome((|| {
        wire_format(case, "mls_welcome", WireFormat::WELCOME)?;
        wire_format(case, "mls_group_info", WireFormat::GROUP_INFO)?;
        wire_format(case, "mls_key_package", WireFormat::KEY_PACKAGE)?;
        roundtrip::<RatchetTreeWire>(case, "ratchet_tree")?;
        roundtrip::<GroupSecrets>(case, "group_secrets")?;
        roundtrip::<Add>(case, "add_proposal")?;
        roundtrip::<Update>(case, "update_proposal")?;
        roundtrip::<Remove>(case, "remove_proposal")?;
        roundtrip::<PreSharedKey>(case, "pre_shared_key_proposal")?;
        roundtrip::<ReInit>(case, "re_init_proposal")?;
        roundtrip::<ExternalInit>(case, "external_init_proposal")?;
        roundtrip::<GroupContextExtensions>(case, "group_context_extensions_proposal")?;
        roundtrip::<Commit>(case, "commit")?;
        content_type(case, "public_message_application", C::Application)?;
        content_type(case, "public_message_proposal", C::Proposal)?;
        content_type(case, "public_message_commit", C::Commit)?;
        wire_format(case, "private_message", WireFormat::PRIVATE_MESSAGE)?;
        Ok(Outcome::Pass)
    })())
}
