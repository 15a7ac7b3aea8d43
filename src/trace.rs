//! Optional `tracing` spans (feature `tracing`). Spans carry the group id
//! (a short hex prefix), epochs and sizes, never secrets or plaintext.
//! Without the feature the macro expands to nothing.

/// Enters a `tracing` span at DEBUG level for the rest of the enclosing
/// block: `span!("name", field = value, ...)`.
macro_rules! span {
    ($name:literal $(, $key:ident = $value:expr)* $(,)?) => {
        #[cfg(feature = "tracing")]
        let _span = tracing::debug_span!($name $(, $key = $value)*).entered();
    };
}

pub(crate) use span;

/// The first bytes of a group id in hex: enough to tell groups apart in a
/// log, without writing ids of unbounded length.
#[cfg(feature = "tracing")]
pub(crate) fn short_id(id: &[u8]) -> String {
    let mut s: String = id.iter().take(6).map(|b| format!("{b:02x}")).collect();
    if id.len() > 6 {
        s.push('…');
    }
    s
}
