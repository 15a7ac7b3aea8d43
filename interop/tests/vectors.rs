//! `cargo test` replays the official vector files through the same runners as
//! `arbor-interop vectors`.

use arbor_interop::vectors::{self, locate_dir};

/// Runs `name` and requires zero failures and no skips other than cipher
/// suites the default provider does not implement.
fn check(name: &str) {
    let dir = locate_dir(None).unwrap_or_else(|e| panic!("{e}"));
    let report = vectors::run_file(&dir, name);
    report.print(name);
    assert_eq!(report.failed, 0, "{name}: {:#?}", report.notes);
    assert!(report.passed > 0, "{name}: nothing passed");
    for note in &report.notes {
        assert!(
            note.contains("unsupported cipher suite 0x0004")
                || note.contains("unsupported cipher suite 0x0005")
                || note.contains("unsupported cipher suite 0x0006")
                || note.contains("unsupported cipher suite 0x0007"),
            "{name}: unexpected skip: {note}"
        );
    }
}

macro_rules! vector_tests {
    ($($test:ident => $file:literal),* $(,)?) => {$(
        #[test]
        fn $test() {
            check($file);
        }
    )*};
}

vector_tests! {
    tree_math => "tree-math.json",
    crypto_basics => "crypto-basics.json",
    deserialization => "deserialization.json",
    messages => "messages.json",
    secret_tree => "secret-tree.json",
    key_schedule => "key-schedule.json",
    psk_secret => "psk_secret.json",
    transcript_hashes => "transcript-hashes.json",
    message_protection => "message-protection.json",
    tree_operations => "tree-operations.json",
    tree_validation => "tree-validation.json",
    welcome => "welcome.json",
    treekem => "treekem.json",
    passive_client_welcome => "passive-client-welcome.json",
    passive_client_handling_commit => "passive-client-handling-commit.json",
    passive_client_random => "passive-client-random.json",
}
