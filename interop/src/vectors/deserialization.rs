//! deserialization.json: variable-length headers (§2.1.2).

use arbor_mls::codec::{Reader, read_varint_len, write_varint_len};
use serde_json::Value;

use super::Outcome;
use super::util::{eq, eq_bytes, hex, outcome, uint};

/// Runs one entry: the header decodes to `length` consuming every byte, and
/// encoding `length` gives the header back.
pub fn run(case: &Value) -> Outcome {
    outcome((|| {
        let header = hex(case, "vlbytes_header")?;
        let length = uint(case, "length")?;
        let mut r = Reader::new(&header);
        let got = read_varint_len(&mut r).map_err(|e| format!("header does not decode: {e}"))?;
        eq("length", got as u64, length)?;
        eq("bytes consumed", r.remaining(), 0)?;
        let mut out = [0u8; 4];
        let n = write_varint_len(got, &mut out).ok_or("length does not encode")?;
        eq_bytes("vlbytes_header", &out[..n], &header)?;
        Ok(Outcome::Pass)
    })())
}
