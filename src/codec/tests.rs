use super::*;

#[test]
fn varint_roundtrip_and_minimality() {
    for len in [0usize, 1, 63, 64, 16383, 16384, MAX_VECTOR_LEN] {
        let mut h = [0u8; 4];
        let n = write_varint_len(len, &mut h).unwrap();
        let mut r = Reader::new(&h[..n]);
        assert_eq!(read_varint_len(&mut r).unwrap(), len);
        assert!(r.is_empty());
    }
    assert!(write_varint_len(MAX_VECTOR_LEN + 1, &mut [0; 4]).is_none());
    // 5 encoded in two bytes is not minimal.
    let err = read_varint_len(&mut Reader::new(&[0x40, 0x05])).unwrap_err();
    assert_eq!(err.kind, DecodeErrorKind::NonMinimalLength);
    let err = read_varint_len(&mut Reader::new(&[0x80, 0x00, 0x3f, 0xff])).unwrap_err();
    assert_eq!(err.kind, DecodeErrorKind::NonMinimalLength);
    let err = read_varint_len(&mut Reader::new(&[0xc0, 0, 0, 0, 0, 0, 0, 1])).unwrap_err();
    assert_eq!(err.kind, DecodeErrorKind::InvalidLengthPrefix);
}

#[test]
fn hostile_length_does_not_allocate() {
    // Claims 2^30 - 1 bytes but carries three.
    let err = decode_exact::<Vec<u8>>(&[0xbf, 0xff, 0xff, 0xff, 1, 2, 3]).unwrap_err();
    assert!(matches!(err.kind, DecodeErrorKind::UnexpectedEnd { .. }));
}

#[test]
fn trailing_data_rejected() {
    let err = decode_exact::<Vec<u8>>(&[1, 7, 9]).unwrap_err();
    assert_eq!(err.kind, DecodeErrorKind::TrailingData { extra: 1 });
}

#[test]
fn nested_vector_headers_shrink() {
    let v: Vec<Vec<u8>> = vec![vec![7; 70], vec![]];
    let bytes = encode(&v).unwrap();
    // outer header 2 bytes (73 > 63), inner 2 + 70, inner 1 + 0
    assert_eq!(bytes.len(), 2 + 2 + 70 + 1);
    assert_eq!(decode_exact::<Vec<Vec<u8>>>(&bytes).unwrap(), v);
}

#[test]
fn vector_header_is_minimal_at_every_size() {
    // `Writer::vector` reserves two header bytes: contents needing one or
    // four must come out as `opaque` writes them, also when nested.
    for len in [0usize, 1, 63, 64, 65, 16383, 16384, 16385, 70_000] {
        let data: Vec<u8> = (0..len).map(|i| i as u8).collect();
        let mut direct = Writer::new();
        direct.opaque(&data);
        let direct = direct.finish().unwrap();
        let mut built = Writer::new();
        built.put(&[0xaa]);
        built.vector(|w| w.put(&data));
        let built = built.finish().unwrap();
        assert_eq!(built[0], 0xaa);
        assert_eq!(&built[1..], &direct[..], "content of {len} bytes");
        let mut nested = Writer::new();
        nested.vector(|w| w.vector(|w| w.put(&data)));
        let mut expected = Writer::new();
        expected.opaque(&direct);
        assert_eq!(nested.finish().unwrap(), expected.finish().unwrap());
    }
}

#[test]
fn optional_presence_byte_is_strict() {
    let err = decode_exact::<Option<u16>>(&[2, 0, 0]).unwrap_err();
    assert_eq!(err.kind, DecodeErrorKind::InvalidValue { value: 2 });
}
