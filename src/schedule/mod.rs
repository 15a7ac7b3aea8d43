//! Key schedule, secret tree, transcript hashes and PSKs (§8, §9).
