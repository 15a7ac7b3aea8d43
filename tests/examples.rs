//! Runs the examples that check their own outcome, so that `cargo test`
//! fails when one of them stops working (cargo only builds examples).

#[path = "../examples/delivery_service.rs"]
mod delivery_service;

/// The delivery service serves full members and a partial client through
/// commits, an external join, a rejected tampered commit and a restart; the
/// example returns an error unless every member (the partial one included)
/// ends with the same epoch authenticator and the server's member list
/// matches.
#[test]
fn delivery_service_serves_a_mixed_group() {
    if let Err(e) = delivery_service::main() {
        panic!("examples/delivery_service.rs failed: {e}");
    }
}
