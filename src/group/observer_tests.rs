//! Observer tests.
