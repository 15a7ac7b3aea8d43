//! The one thing the library reads from an X.509 certificate: the URIs of
//! its subjectAltName extension (RFC 5280 §4.2.1.6), where a device
//! identity is carried. Nothing here checks a signature, a chain or a
//! validity period: that is the application's credential validator's job.
//!
//! The reader is a bounded DER walker over the certificate's outer
//! structure. It never recurses into values it does not need, so its cost
//! is linear in the certificate's size and its depth is fixed.

/// Why a certificate could not be read.
pub(crate) type X509Error = &'static str;

/// SubjectAltName's object identifier, 2.5.29.17, as DER content bytes.
const SUBJECT_ALT_NAME: &[u8] = &[0x55, 0x1d, 0x11];

const SEQUENCE: u8 = 0x30;
const OCTET_STRING: u8 = 0x04;
const OBJECT_IDENTIFIER: u8 = 0x06;
const BOOLEAN: u8 = 0x01;
/// `[3] EXPLICIT Extensions` in TBSCertificate.
const EXTENSIONS: u8 = 0xa3;
/// `uniformResourceIdentifier [6] IMPLICIT IA5String` in GeneralName.
const URI: u8 = 0x86;

/// A DER value: its tag and content.
struct Tlv<'a> {
    tag: u8,
    content: &'a [u8],
}

/// Reads DER values one after the other from a byte slice.
struct Der<'a> {
    rest: &'a [u8],
}

impl<'a> Der<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }

    fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// The next value. Only single-byte tags and definite lengths in their
    /// shortest form exist in DER (X.690 §10.1); anything else is refused.
    fn next(&mut self) -> Result<Tlv<'a>, X509Error> {
        let [tag, first, rest @ ..] = self.rest else {
            return Err("truncated DER value");
        };
        if tag & 0x1f == 0x1f {
            return Err("multi-byte DER tags do not occur in a certificate");
        }
        let (len, rest) = if first & 0x80 == 0 {
            (usize::from(*first), rest)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 || n > 4 || rest.len() < n {
                return Err("bad DER length");
            }
            let (bytes, rest) = rest.split_at(n);
            if bytes[0] == 0 {
                return Err("DER length not in its shortest form");
            }
            let len = bytes
                .iter()
                .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
            if len < 0x80 {
                return Err("DER length not in its shortest form");
            }
            (len, rest)
        };
        if rest.len() < len {
            return Err("DER value longer than its container");
        }
        let (content, rest) = rest.split_at(len);
        self.rest = rest;
        Ok(Tlv { tag: *tag, content })
    }

    /// The next value, which must have `tag`.
    fn expect(&mut self, tag: u8, what: X509Error) -> Result<&'a [u8], X509Error> {
        let tlv = self.next()?;
        if tlv.tag == tag {
            Ok(tlv.content)
        } else {
            Err(what)
        }
    }
}

/// The URIs in the subjectAltName extension of the DER certificate
/// `cert`, in order; empty when it has no such extension. An error when
/// the certificate's outer structure does not parse, or it has the
/// extension twice (RFC 5280 §4.2 forbids it).
pub(crate) fn subject_alt_name_uris(cert: &[u8]) -> Result<Vec<&[u8]>, X509Error> {
    let mut outer = Der::new(cert);
    let certificate = outer.expect(SEQUENCE, "a certificate is a SEQUENCE")?;
    if !outer.is_empty() {
        return Err("bytes after the certificate");
    }
    let mut certificate = Der::new(certificate);
    let tbs = certificate.expect(SEQUENCE, "tbsCertificate is a SEQUENCE")?;
    // version, serialNumber, signature, issuer, validity, subject,
    // subjectPublicKeyInfo, then optional [1] and [2] unique ids and [3]
    // extensions: skip to the extensions by tag.
    let mut tbs = Der::new(tbs);
    let mut extensions = None;
    while !tbs.is_empty() {
        let field = tbs.next()?;
        if field.tag == EXTENSIONS {
            extensions = Some(field.content);
        }
    }
    let Some(extensions) = extensions else {
        return Ok(Vec::new());
    };
    let mut wrapper = Der::new(extensions);
    let list = wrapper.expect(SEQUENCE, "Extensions is a SEQUENCE")?;
    let mut list = Der::new(list);
    let mut uris = None;
    while !list.is_empty() {
        let mut extension = Der::new(list.expect(SEQUENCE, "an Extension is a SEQUENCE")?);
        let oid = extension.expect(OBJECT_IDENTIFIER, "extnID is an OID")?;
        let mut value = extension.next()?;
        if value.tag == BOOLEAN {
            value = extension.next()?;
        }
        if value.tag != OCTET_STRING {
            return Err("extnValue is an OCTET STRING");
        }
        if oid != SUBJECT_ALT_NAME {
            continue;
        }
        if uris.is_some() {
            return Err("two subjectAltName extensions");
        }
        let mut names = Der::new(value.content);
        let general_names = names.expect(SEQUENCE, "GeneralNames is a SEQUENCE")?;
        let mut general_names = Der::new(general_names);
        let mut found = Vec::new();
        while !general_names.is_empty() {
            let name = general_names.next()?;
            if name.tag == URI {
                found.push(name.content);
            }
        }
        uris = Some(found);
    }
    Ok(uris.unwrap_or_default())
}

/// Certificate shapes for tests.
#[cfg(test)]
pub(crate) mod fixtures {
    use super::*;

    /// A DER value with `tag` around `content`.
    fn der(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        let len = content.len();
        if len < 0x80 {
            out.push(len as u8);
        } else if len < 0x100 {
            out.extend([0x81, len as u8]);
        } else {
            out.extend([0x82, (len >> 8) as u8, len as u8]);
        }
        out.extend_from_slice(content);
        out
    }

    /// A certificate shape with the given subjectAltName URIs (no SAN
    /// extension when `None`) and `serial`. Unsigned: only the structure
    /// matters here.
    pub(crate) fn cert(serial: u8, uris: Option<&[&[u8]]>) -> Vec<u8> {
        let mut tbs = Vec::new();
        tbs.extend(der(0xa0, &der(0x02, &[2]))); // version v3
        tbs.extend(der(0x02, &[serial])); // serial
        tbs.extend(der(SEQUENCE, &der(OBJECT_IDENTIFIER, &[0x2b, 0x65, 0x70]))); // Ed25519
        tbs.extend(der(SEQUENCE, &[])); // issuer
        tbs.extend(der(SEQUENCE, &[])); // validity
        tbs.extend(der(SEQUENCE, &[])); // subject
        tbs.extend(der(SEQUENCE, &[])); // spki
        let mut exts = Vec::new();
        // A basicConstraints extension first, marked critical.
        let mut bc = der(OBJECT_IDENTIFIER, &[0x55, 0x1d, 0x13]);
        bc.extend(der(BOOLEAN, &[0xff]));
        bc.extend(der(OCTET_STRING, &der(SEQUENCE, &[])));
        exts.extend(der(SEQUENCE, &bc));
        if let Some(uris) = uris {
            let mut names = der(0x82, b"example.com"); // a dNSName
            for uri in uris {
                names.extend(der(URI, uri));
            }
            let mut san = der(OBJECT_IDENTIFIER, SUBJECT_ALT_NAME);
            san.extend(der(OCTET_STRING, &der(SEQUENCE, &names)));
            exts.extend(der(SEQUENCE, &san));
        }
        tbs.extend(der(EXTENSIONS, &der(SEQUENCE, &exts)));
        let mut body = der(SEQUENCE, &tbs);
        body.extend(der(SEQUENCE, &[])); // signatureAlgorithm
        body.extend(der(0x03, &[0])); // signatureValue
        der(SEQUENCE, &body)
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::cert;
    use super::*;

    #[test]
    fn reads_the_uris_of_the_subject_alt_name() {
        let c = cert(
            1,
            Some(&[b"mls-device:alice/phone", b"https://example.com"]),
        );
        assert_eq!(
            subject_alt_name_uris(&c).unwrap(),
            vec![&b"mls-device:alice/phone"[..], &b"https://example.com"[..]]
        );
        assert!(subject_alt_name_uris(&cert(1, None)).unwrap().is_empty());
    }

    #[test]
    fn long_lengths_are_read_in_their_shortest_form_only() {
        let long = vec![b'a'; 300];
        let c = cert(1, Some(&[&long]));
        assert_eq!(subject_alt_name_uris(&c).unwrap(), vec![&long[..]]);
        // 0x81 0x05: a long form for a length under 128.
        assert!(subject_alt_name_uris(&[SEQUENCE, 0x81, 0x05, 0, 0, 0, 0, 0]).is_err());
    }

    #[test]
    fn hostile_certificates_are_refused_not_panicked_on() {
        let c = cert(1, Some(&[b"mls-device:alice/phone"]));
        // Every truncation and every single-byte change: no panic, and a
        // truncation never parses.
        for end in 0..c.len() {
            assert!(subject_alt_name_uris(&c[..end]).is_err(), "prefix {end}");
        }
        for i in 0..c.len() {
            for v in [0x00, 0x1f, 0x7f, 0x80, 0x84, 0xff] {
                let mut m = c.clone();
                m[i] = v;
                let _ = subject_alt_name_uris(&m);
            }
        }
        let mut trailing = c.clone();
        trailing.push(0);
        assert!(subject_alt_name_uris(&trailing).is_err());
        // A length claiming 4 GiB.
        assert!(subject_alt_name_uris(&[SEQUENCE, 0x84, 0xff, 0xff, 0xff, 0xff]).is_err());
    }
}
