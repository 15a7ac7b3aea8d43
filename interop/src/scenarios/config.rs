//! The official scenario configs (`configs/*.json`, format in the MLS
//! working group's `test-config.md`): named scripts of steps.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// The eight configs of the MLS working group's interop repository, in the
/// order the runner plays them.
pub const CONFIGS: &[&str] = &[
    "welcome_join.json",
    "external_join.json",
    "application.json",
    "commit.json",
    "branch.json",
    "reinit.json",
    "external_proposals.json",
    "deep_random.json",
];

/// One config file: its scripts in file order.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file name, e.g. `commit.json`.
    pub name: String,
    /// `(script name, steps)`.
    pub scripts: Vec<(String, Vec<Value>)>,
}

/// The configs folder shipped in this crate.
pub fn default_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("configs")
}

/// Reads and parses `dir/name`.
pub fn load(dir: &Path, name: &str) -> Result<Config, String> {
    let path = dir.join(name);
    let text =
        std::fs::read_to_string(&path).map_err(|e| format!("read {}: {e}", path.display()))?;
    // serde_json keeps object keys in file order only with its
    // `preserve_order` feature; script order does not matter to the
    // outcome, so they are sorted by name for a stable report.
    let value: Value =
        serde_json::from_str(&text).map_err(|e| format!("parse {}: {e}", path.display()))?;
    let scripts = value
        .get("scripts")
        .and_then(Value::as_object)
        .ok_or_else(|| format!("{}: no \"scripts\" object", path.display()))?;
    let mut out = Vec::new();
    for (script, steps) in scripts {
        let steps = steps
            .as_array()
            .ok_or_else(|| format!("{}: script {script} is not a list", path.display()))?;
        out.push((script.clone(), steps.clone()));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(Config {
        name: name.to_string(),
        scripts: out,
    })
}
