//! The official test vectors of key-schedule.json and message-protection.json
//! run inside the module (feature `vectors`): the interop harness's own
//! runners (`interop/src/vectors/`), compiled here for wasm32 since the
//! harness itself (gRPC, tokio) is not. The Node tests read the files and
//! pass their text to [`run_vectors`].

use js_sys::{Array, Object};
use serde_json::Value;
use wasm_bindgen::prelude::*;

use crate::store::set;

/// The outcome of one entry, as the harness's runners report it.
#[allow(dead_code)]
pub(crate) enum Outcome {
    /// Every check of the entry passed.
    Pass,
    /// A check failed; the text names the field that differed.
    Fail(String),
    /// Not run; the text says why.
    Skip(String),
}

#[allow(dead_code, unreachable_pub, clippy::all)]
#[path = "../../../interop/src/vectors/util.rs"]
pub(crate) mod util;

#[allow(unreachable_pub)]
#[path = "../../../interop/src/vectors/key_schedule.rs"]
mod key_schedule;

#[allow(unreachable_pub)]
#[path = "../../../interop/src/vectors/message_protection.rs"]
mod message_protection;

/// Runs every entry of a vector file (`name`: `key-schedule.json` or
/// `message-protection.json`, `json`: its text). Resolves to `{ passed,
/// failed, skipped, failures }`, `failures` naming each failed entry.
#[wasm_bindgen(js_name = runVectors)]
pub fn run_vectors(name: &str, json: &str) -> Result<JsValue, JsValue> {
    let runner: fn(&Value) -> Outcome = match name {
        "key-schedule.json" => key_schedule::run,
        "message-protection.json" => message_protection::run,
        _ => return Err(crate::store::js_error(&format!("no runner for {name}"))),
    };
    let cases: Vec<Value> = match serde_json::from_str(json) {
        Ok(Value::Array(cases)) => cases,
        Ok(_) => return Err(crate::store::js_error("the top level is not an array")),
        Err(e) => return Err(crate::store::js_error(&format!("invalid JSON: {e}"))),
    };
    let (mut passed, mut failed, mut skipped) = (0u32, 0u32, 0u32);
    let failures = Array::new();
    for (i, case) in cases.iter().enumerate() {
        match runner(case) {
            Outcome::Pass => passed += 1,
            Outcome::Fail(why) => {
                failed += 1;
                failures.push(&format!("case {i}: {why}").into());
            }
            Outcome::Skip(_) => skipped += 1,
        }
    }
    let report: JsValue = Object::new().into();
    set(&report, "passed", &passed.into());
    set(&report, "failed", &failed.into());
    set(&report, "skipped", &skipped.into());
    set(&report, "failures", &failures);
    Ok(report)
}
