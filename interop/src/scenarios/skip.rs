//! [`Skip`]: why a script could not run, in parts a list of expected skips
//! can name.

/// A script that could not run because a stack lacks a feature: it
/// answered `Unimplemented`, or does not offer the cipher suite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip {
    /// The step, as `step <index> (<action>)`; `None` when the script did
    /// not start (a stack does not offer the cipher suite).
    pub step: Option<String>,
    /// Which implementation, in which part: `<stack> as <actor>: <RPC>`,
    /// or `<stack>: SupportedCiphersuites`.
    pub role: String,
    /// The stack's reason.
    pub reason: String,
}

impl std::fmt::Display for Skip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.step {
            Some(step) => write!(f, "{step}: {}: Unimplemented: {}", self.role, self.reason),
            None => write!(f, "{}: {}", self.role, self.reason),
        }
    }
}
