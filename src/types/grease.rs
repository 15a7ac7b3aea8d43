//! GREASE values (RFC 9420 §13.5; draft-ietf-mls-extensions, "GREASE"):
//! reserved codepoints a sender includes at random so that receivers that
//! wrongly refuse unknown values fail early. Receivers ignore them like any
//! unknown value.

use crate::Result;
use crate::crypto::RandomSource;
use crate::crypto::component::ComponentId;

/// The GREASE values of RFC 9420's registries (§13.5): cipher suites,
/// extension, proposal and credential types.
pub const MLS_GREASE: [u16; 15] = [
    0x0A0A, 0x1A1A, 0x2A2A, 0x3A3A, 0x4A4A, 0x5A5A, 0x6A6A, 0x7A7A, 0x8A8A, 0x9A9A, 0xAAAA, 0xBABA,
    0xCACA, 0xDADA, 0xEAEA,
];

/// The GREASE component ids of draft-ietf-mls-extensions ("MLS Component
/// Types"). Provisional, as every value of the draft.
pub const COMPONENT_GREASE: [ComponentId; 8] = [
    0x0A0A, 0x1A1A, 0x2A2A, 0x3A3A, 0x4A4A, 0x5A5A, 0x6A6A, 0x7A7A,
];

/// Whether `value` is one of RFC 9420's GREASE values.
pub fn is_grease(value: u16) -> bool {
    MLS_GREASE.contains(&value)
}

/// One of `values`, chosen with `rng`.
pub fn pick(values: &[u16], rng: &mut dyn RandomSource) -> Result<u16> {
    let mut byte = [0u8; 1];
    rng.fill(&mut byte)?;
    Ok(values[usize::from(byte[0]) % values.len()])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grease_values_follow_the_registries() {
        // 0x_A_A for the high nibble 0 to E (RFC 9420 §13.5); components:
        // 0 to 7 (draft-ietf-mls-extensions, IANA "MLS Component Types").
        for (i, v) in MLS_GREASE.iter().enumerate() {
            let n = i as u16;
            assert_eq!(*v, (n << 12) | 0x0A00 | (n << 4) | 0x0A);
        }
        assert_eq!(COMPONENT_GREASE[..], MLS_GREASE[..8]);
        assert!(is_grease(0xEAEA) && !is_grease(0xFAFA) && !is_grease(0x0001));
        let mut rng = crate::crypto::SeededRandom::from_seed([1; 32]);
        for _ in 0..20 {
            assert!(COMPONENT_GREASE.contains(&pick(&COMPONENT_GREASE, &mut rng).unwrap()));
        }
    }
}
