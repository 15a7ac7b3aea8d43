//! Message framing and protection (§6).
