//! Group operations: proposals, commits, Welcome (§10-§12).
