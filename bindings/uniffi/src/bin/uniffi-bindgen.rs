//! `uniffi-bindgen`: generates the Kotlin, Swift and Python code of the
//! bindings from the built library (`generate --library`), with the same
//! uniffi version as its scaffolding.

fn main() {
    uniffi::uniffi_bindgen_main()
}
