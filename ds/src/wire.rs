//! The bodies of requests and replies that carry several byte strings: a
//! list of *parts*, each a 4-byte big-endian length and that many bytes.
//! A body holding one MLS message is the message itself.

/// Encodes `parts` as a body.
pub fn encode(parts: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::with_capacity(parts.iter().map(|p| p.len() + 4).sum());
    for part in parts {
        // Bodies are capped far below 4 GiB (`http::MAX_BODY`).
        let len = u32::try_from(part.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(part);
    }
    out
}

/// Decodes a body of parts; `None` if a length runs past the end.
pub fn decode(mut body: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut parts = Vec::new();
    while !body.is_empty() {
        let (len, rest) = body.split_first_chunk::<4>()?;
        let len = usize::try_from(u32::from_be_bytes(*len)).ok()?;
        if rest.len() < len {
            return None;
        }
        let (part, rest) = rest.split_at(len);
        parts.push(part.to_vec());
        body = rest;
    }
    Some(parts)
}

/// Lowercase hex, for group ids in paths and record keys.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The bytes of lowercase or uppercase hex; `None` if it is not hex.
pub fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_round_trip_and_truncation_is_refused() {
        let body = encode(&[b"ab", b"", b"xyz"]);
        assert_eq!(
            decode(&body),
            Some(vec![b"ab".to_vec(), Vec::new(), b"xyz".to_vec()])
        );
        assert_eq!(decode(&body[..body.len() - 1]), None);
        assert_eq!(decode(&[0, 0, 1]), None);
        assert_eq!(unhex(&hex(&[0, 0xff, 0x10])), Some(vec![0, 0xff, 0x10]));
        assert_eq!(unhex("0g"), None);
        assert_eq!(unhex("abc"), None);
    }
}
