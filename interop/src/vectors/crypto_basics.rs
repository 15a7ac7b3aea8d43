use serde_json::Value;

use super::Outcome;

/// Runs one entry.
pub fn run(_case: &Value) -> Outcome {
    Outcome::Skip("not implemented yet".into())
}
