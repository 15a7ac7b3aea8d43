//! The library's layers only point down (docs/ARCHITECTURE.md, "Layer
//! rules"): `scripts/check_layers.py` reads every `crate::` path in `src/`
//! and fails on an import from a lower layer to a higher one, on a module
//! no layer places, and on an import cycle. Its self-test first shows that
//! each kind of violation is reported.

use std::path::Path;
use std::process::Command;

fn run(args: &[&str]) -> (bool, String) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("python3")
        .arg(root.join("scripts/check_layers.py"))
        .args(args)
        .current_dir(root)
        .output()
        .expect("python3 runs scripts/check_layers.py");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

#[test]
fn the_checker_reports_each_kind_of_violation() {
    let (ok, text) = run(&["--self-test"]);
    assert!(ok, "{text}");
}

#[test]
fn layers_only_point_down_and_nothing_imports_in_a_circle() {
    let (ok, text) = run(&["src"]);
    assert!(ok, "{text}");
    assert!(text.contains(": 0 problems"), "{text}");
}
