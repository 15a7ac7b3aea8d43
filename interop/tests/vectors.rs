//! `cargo test` replays the official vector files through the same runners as
//! `arbor-interop vectors`.

use arbor_interop::vectors::{self, bundled_dir, locate_dir};
use sha2::{Digest, Sha256};

/// Runs `name` and requires every case to pass: no failure and no skip
/// (the default provider implements all seven cipher suites).
fn check(name: &str) {
    let dir = locate_dir(None).unwrap_or_else(|e| panic!("{e}"));
    let report = vectors::run_file(&dir, name);
    report.print(name);
    assert_eq!(report.failed, 0, "{name}: {:#?}", report.notes);
    assert_eq!(report.skipped, 0, "{name}: {:#?}", report.notes);
    assert!(report.passed > 0, "{name}: nothing passed");
}

/// SHA-256 of each official vector file as published (mlswg/mls-implementations,
/// folder test-vectors, commit cfd4502).
const VECTOR_SHA256: [(&str, &str); 16] = [
    (
        "crypto-basics.json",
        "17cfcf89af9f51d0f2aa7af77f6f9ec99376a039214b6d42a6f11646b83e8c29",
    ),
    (
        "deserialization.json",
        "1e394706e79f77df71454e5970f2aa736d4ab8b6c7e3219dd5609992388a953e",
    ),
    (
        "key-schedule.json",
        "05aa9a68bd2538ace72d8c53375984cc728ef62220ebf314df675708546d97a7",
    ),
    (
        "message-protection.json",
        "f7c1ae62ce63c3003e526d539c99f2b1444f65ee0a487d3a5667d46867526c45",
    ),
    (
        "messages.json",
        "b194abe1561995223482dbad51c180146920dc2f637e74d01e07a388308791fb",
    ),
    (
        "passive-client-handling-commit.json",
        "b24949fdf857bf79d511f57504a8bdc7ce3247eb199684745e439c11b1a1da21",
    ),
    (
        "passive-client-random.json",
        "0095d863e9d316872e237fc708debcd20ba2687ee905a3e831f97dd3e578d3c1",
    ),
    (
        "passive-client-welcome.json",
        "92ebb04b67b1aca4290965ae363650921842ceebe275bd79a2733414078d849c",
    ),
    (
        "psk_secret.json",
        "2b534969dba0b65a04b7d790496af5c0ccdb472b3fc4ca25c8c82df3e8523784",
    ),
    (
        "secret-tree.json",
        "08f92e6272452e2c832e32d38e16cf0c4aa28967e47d3842c60bc354c6b67a94",
    ),
    (
        "transcript-hashes.json",
        "58046b58fbd98519b4e60953a105f550e4b427e2b140ea67dedcb751260eecb8",
    ),
    (
        "tree-math.json",
        "27f04891f56106593b74b674445f01b845e173953770c084deb2f8cf5592e2fc",
    ),
    (
        "tree-operations.json",
        "9a25f8720714d1256ba2dad8d83a660ba0bae0d33ed15c682b9d74a5d67aad0a",
    ),
    (
        "tree-validation.json",
        "b66a432d93b520623f0640835ed43b9dfc95e116b8be081d81581d7c11e67a37",
    ),
    (
        "treekem.json",
        "d8bbdf78394797f21db7476fd286af6830ebcb18d2e3b2c839fecd4eb11056f8",
    ),
    (
        "welcome.json",
        "06be9d5c99817ef2545e4b15b8e73fd9b604685a8e55b59ca168eda98e236502",
    ),
];

/// The copies in the repository are the published files, byte for byte,
/// and nothing else sits beside them: a vector edited to make a test pass
/// fails here.
#[test]
fn vector_files_unchanged() {
    let dir = bundled_dir();
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            entry
                .expect("directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name.ends_with(".json"))
        .collect();
    on_disk.sort();
    let listed: Vec<&str> = VECTOR_SHA256.iter().map(|(name, _)| *name).collect();
    assert_eq!(
        on_disk, listed,
        "the vector folder holds exactly the listed files"
    );
    for (name, want) in VECTOR_SHA256 {
        let bytes = std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        let got = hex::encode(Sha256::digest(&bytes));
        assert_eq!(got, want, "{name} differs from the published vector file");
    }
}

/// SHA-256 of each Partial MLS vector file as published (mlswg/mls-partial,
/// folder test-vectors, commit 7616202).
const PARTIAL_VECTOR_SHA256: [(&str, &str); 7] = [
    (
        "test-vector-partial-annotated-commit.json",
        "3d0b2aa2f197b049ede66af7bcbc145a8e29fe2eeb5990a204b6c50e6069a6d6",
    ),
    (
        "test-vector-partial-annotated-welcome.json",
        "1ce18254d29638d994965e7b59c9929353bfbee42d366ac8090fe05593d0da1e",
    ),
    (
        "test-vector-partial-membership-proofs.json",
        "551fad29621dded0630aadf7ab68ffbf098ae0cf2597528a935565e1ead7859b",
    ),
    (
        "test-vector-partial-message-syntax.json",
        "1de3a5c582f07cb71e191ada01015bff64b4015d94f196c35827e2b782f82069",
    ),
    (
        "test-vector-partial-passive-client-scenarios.json",
        "f0fb7b7048562bcdcde58bdf48f3726a8838e091f57243e68af152f9751cc3f4",
    ),
    (
        "test-vector-partial-sender-authenticated-messages.json",
        "716213d2e77771dac47ddfa9c48f4674859db8f3f35882e522bd050acb41607f",
    ),
    (
        "test-vector-partial-tree-operations.json",
        "c98e0c8842883adaf3b4c54b8451c80d48e3468091ae829ea56a094f28eb9f8b",
    ),
];

/// The Partial MLS copies (`test-vectors/partial`) are the published files,
/// byte for byte, and nothing else sits beside them.
#[test]
fn partial_vector_files_unchanged() {
    let dir = bundled_dir().join("partial");
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            entry
                .expect("directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name.ends_with(".json"))
        .collect();
    on_disk.sort();
    let listed: Vec<&str> = PARTIAL_VECTOR_SHA256
        .iter()
        .map(|(name, _)| *name)
        .collect();
    assert_eq!(
        on_disk, listed,
        "the partial vector folder holds exactly the listed files"
    );
    for (name, want) in PARTIAL_VECTOR_SHA256 {
        let bytes = std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        let got = hex::encode(Sha256::digest(&bytes));
        assert_eq!(got, want, "{name} differs from the published vector file");
    }
}

/// SHA-256 of the post-quantum vector files: the official HPKE-PQ file as
/// published (hpkewg/hpke-pq, `test-vectors.json`, commit 74dafaa) and the
/// files `gen-vectors --pq` writes (`tests/pq_vectors.rs` checks that they
/// regenerate byte for byte; a regeneration updates these and the folder's
/// README together).
const PQ_VECTOR_SHA256: [(&str, &str); 7] = [
    (
        "hpke-pq/test-vectors.json",
        "ba1f90672903e0df25610a1eef84b5f157e44d34849c0a72a2f9b164f3213888",
    ),
    (
        "pq/crypto-basics.json",
        "2ef9fc5f97932ebe540be8cc1a22bd2f878b7ca73d98c5e347e97e2960d73f1f",
    ),
    (
        "pq/key-schedule.json",
        "49bba5759b9d20e656a916369a059db6c15bf7ee7772fdc30ab01ddf898a6d47",
    ),
    (
        "pq/message-protection.json",
        "0563ca202861a617dab207b745852dd85cd13046cf64897af468e7f89146cfb9",
    ),
    (
        "pq/passive-client-handling-commit.json",
        "9871bbb1bc83168f525af36bac78b46bb439396dd330eaeb45137d2ba8cd47b9",
    ),
    (
        "pq/treekem.json",
        "6e1168162305d893eba2686ffa10b3e0e6a429866a403ced0cee9f72fb22dcb0",
    ),
    (
        "pq/welcome.json",
        "bea66c7b28ec04b918e130d78cb3cc2f8002aa0b2acfd4104001792bc658037b",
    ),
];

/// The post-quantum vector files are the listed bytes, the two folders
/// hold nothing else, and `arbor-interop vectors` runs every one of them.
#[test]
fn pq_vector_files_unchanged() {
    let dir = bundled_dir();
    let mut on_disk: Vec<String> = ["hpke-pq", "pq"]
        .iter()
        .flat_map(|folder| {
            std::fs::read_dir(dir.join(folder))
                .unwrap_or_else(|e| panic!("{folder}: {e}"))
                .map(move |entry| {
                    let name = entry.expect("directory entry").file_name();
                    format!("{folder}/{}", name.to_string_lossy())
                })
        })
        .filter(|name| name.ends_with(".json"))
        .collect();
    on_disk.sort();
    let listed: Vec<&str> = PQ_VECTOR_SHA256.iter().map(|(name, _)| *name).collect();
    assert_eq!(
        on_disk, listed,
        "the PQ vector folders hold exactly the listed files"
    );
    for (name, want) in PQ_VECTOR_SHA256 {
        let bytes = std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        let got = hex::encode(Sha256::digest(&bytes));
        assert_eq!(got, want, "{name} differs from the listed vector file");
        assert!(
            vectors::FILES.iter().any(|f| f.name == name),
            "{name} is not run by `arbor-interop vectors`"
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

/// The Partial MLS files: no case fails and the counts are exactly these.
/// Suites 0x0008-0x000a are post-quantum suites (`PARTIAL_PQ_SUITES`): they
/// pass with the feature `pq` and are skipped, saying so, without it. The
/// sender-authenticated-messages entries are skipped for the reason the
/// runner names (they give no client state to verify against).
#[test]
fn partial_vectors() {
    let dir = locate_dir(None).unwrap_or_else(|e| panic!("{e}"));
    let pq = cfg!(feature = "pq");
    // (file, cases, cases of suites 0x0008-0x000a)
    for (name, cases, pq_cases) in [
        ("partial/test-vector-partial-membership-proofs.json", 80, 24),
        ("partial/test-vector-partial-tree-operations.json", 40, 12),
        ("partial/test-vector-partial-message-syntax.json", 10, 0),
        ("partial/test-vector-partial-annotated-welcome.json", 10, 3),
        ("partial/test-vector-partial-annotated-commit.json", 10, 3),
        (
            "partial/test-vector-partial-passive-client-scenarios.json",
            10,
            3,
        ),
        (
            "partial/test-vector-partial-sender-authenticated-messages.json",
            20,
            6,
        ),
    ] {
        let report = vectors::run_file(&dir, name);
        report.print(name);
        assert_eq!(report.failed, 0, "{name}: {:#?}", report.notes);
        let no_state = name.contains("sender-authenticated");
        let skipped = if no_state {
            cases
        } else if pq {
            0
        } else {
            pq_cases
        };
        assert_eq!(
            (report.passed, report.skipped),
            (cases - skipped, skipped),
            "{name}: {:#?}",
            report.notes
        );
        assert!(
            report.notes.iter().all(|n| n.contains("post-quantum suite")
                || n.contains(vectors::partial::sender_authenticated::NO_STATE)),
            "{name}: {:#?}",
            report.notes
        );
    }
}
