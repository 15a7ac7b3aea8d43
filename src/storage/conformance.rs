//! One test suite, run against every backend: what the library relies on
//! from a [`Storage`]. Exported with the `test-support` feature so that a
//! backend written outside this crate can run it:
//!
//! ```ignore
//! arbor_mls::storage::conformance::run(&mut MyStorage::open_empty()?);
//! ```
//!
//! It panics, naming the property, on the first thing the backend gets
//! wrong.

use super::{Storage, WriteBatch};
use crate::Error;

fn put(s: &mut dyn Storage, pairs: &[(&str, &str)]) {
    let mut b = WriteBatch::default();
    for (k, v) in pairs {
        b.put(k.as_bytes().to_vec(), v.as_bytes().to_vec());
    }
    s.write(b).expect("write");
}

fn keys(s: &dyn Storage, prefix: &str) -> Vec<String> {
    s.scan(prefix.as_bytes())
        .expect("scan")
        .into_iter()
        .map(|(k, _)| String::from_utf8(k).expect("utf8"))
        .collect()
}

/// Runs every check on a fresh, empty store (panics on the first failure).
pub fn run(s: &mut dyn Storage) {
    assert_eq!(s.get(b"a").expect("get"), None);
    put(
        s,
        &[
            ("g/1/b", "1"),
            ("g/1/a", "2"),
            ("g/10", "3"),
            ("g/2/a", "4"),
        ],
    );
    assert_eq!(s.get(b"g/1/a").expect("get"), Some(b"2".to_vec()));
    // Scans are by prefix, in key order, and do not leak neighbours.
    assert_eq!(keys(s, "g/1/"), ["g/1/a", "g/1/b"]);
    assert_eq!(keys(s, "g/1"), ["g/1/a", "g/1/b", "g/10"]);
    assert_eq!(keys(s, ""), ["g/1/a", "g/1/b", "g/10", "g/2/a"]);

    // Prefix deletes run before the batch's puts; ops apply in order.
    let mut b = WriteBatch::default();
    b.delete_prefix(b"g/1/".to_vec());
    b.put(b"g/1/c".to_vec(), b"5".to_vec());
    b.put(b"g/2/a".to_vec(), b"6".to_vec());
    b.delete(b"g/2/a".to_vec());
    b.delete(b"absent".to_vec());
    s.write(b).expect("write");
    assert_eq!(keys(s, "g/"), ["g/1/c", "g/10"]);

    // Keys at the top of the byte range scan correctly.
    let mut b = WriteBatch::default();
    b.put(vec![0xff, 0xff], b"x".to_vec());
    b.put(vec![0xff, 0xff, 0], b"y".to_vec());
    s.write(b).expect("write");
    assert_eq!(s.scan(&[0xff, 0xff]).expect("scan").len(), 2);
    let mut b = WriteBatch::default();
    b.delete_prefix(vec![0xff]);
    s.write(b).expect("write");
    assert!(s.scan(&[0xff]).expect("scan").is_empty());

    // An empty batch is allowed and changes nothing.
    s.write(WriteBatch::default()).expect("empty batch");
    assert_eq!(keys(s, ""), ["g/1/c", "g/10"]);

    // An unflushed batch is read at once, like a written one, and a later
    // batch applies after it.
    let mut b = WriteBatch::default();
    b.put(b"u/1".to_vec(), b"7".to_vec());
    b.delete(b"g/10".to_vec());
    s.write_unflushed(b).expect("write unflushed");
    assert_eq!(s.get(b"u/1").expect("get"), Some(b"7".to_vec()));
    assert_eq!(keys(s, ""), ["g/1/c", "u/1"]);
    put(s, &[("u/1", "8")]);
    s.flush().expect("flush");
    s.flush().expect("a second flush has nothing to do");
    assert_eq!(s.get(b"u/1").expect("get"), Some(b"8".to_vec()));
}

/// Runs the checks of [`Storage::write_if`] on a fresh, empty store, for
/// backends that implement it (panics on the first failure).
pub fn run_conditional(s: &mut dyn Storage) {
    let batch = |pairs: &[(&str, &str)]| {
        let mut b = WriteBatch::default();
        for (k, v) in pairs {
            b.put(k.as_bytes().to_vec(), v.as_bytes().to_vec());
        }
        b
    };
    // Created only if absent; the second creation is refused whole.
    s.write_if(b"h", None, batch(&[("h", "1"), ("x", "a")]))
        .expect("create an absent key");
    match s.write_if(b"h", None, batch(&[("h", "2"), ("y", "b")])) {
        Err(Error::Conflict(_)) => {}
        other => panic!("a second creation must be a Conflict, got {other:?}"),
    }
    assert_eq!(keys(s, ""), ["h", "x"], "a refused batch writes nothing");
    assert_eq!(s.get(b"h").expect("get"), Some(b"1".to_vec()));

    // Compare and swap: the expected value passes, a stale one does not.
    s.write_if(b"h", Some(b"1"), batch(&[("h", "2")]))
        .expect("the expected value");
    match s.write_if(b"h", Some(b"1"), batch(&[("h", "3"), ("x", "c")])) {
        Err(Error::Conflict(_)) => {}
        other => panic!("a stale expected value must be a Conflict, got {other:?}"),
    }
    assert_eq!(s.get(b"h").expect("get"), Some(b"2".to_vec()));
    assert_eq!(s.get(b"x").expect("get"), Some(b"a".to_vec()));

    // The condition sees deletes; the batch may delete the key it checks.
    let mut b = WriteBatch::default();
    b.delete_prefix(b"h".to_vec());
    s.write_if(b"h", Some(b"2"), b)
        .expect("delete the checked key");
    match s.write_if(b"h", Some(b"2"), batch(&[("h", "4")])) {
        Err(Error::Conflict(_)) => {}
        other => panic!("an absent key is not a value, got {other:?}"),
    }
    s.write_if(b"h", None, batch(&[("h", "5")]))
        .expect("absent again");
    assert_eq!(keys(s, ""), ["h", "x"]);
}

#[cfg(test)]
#[test]
fn memory_storage_conforms() {
    run(&mut super::MemoryStorage::new());
    run_conditional(&mut super::MemoryStorage::new());
}

#[cfg(test)]
#[test]
fn a_backend_without_conditions_refuses_them() {
    struct Plain(super::MemoryStorage);
    impl Storage for Plain {
        fn get(&self, key: &[u8]) -> crate::Result<Option<Vec<u8>>> {
            self.0.get(key)
        }
        fn scan(&self, prefix: &[u8]) -> crate::Result<Vec<(Vec<u8>, Vec<u8>)>> {
            self.0.scan(prefix)
        }
        fn write(&mut self, batch: WriteBatch) -> crate::Result<()> {
            self.0.write(batch)
        }
    }
    let mut plain = Plain(super::MemoryStorage::new());
    let mut b = WriteBatch::default();
    b.put(b"k".to_vec(), b"v".to_vec());
    assert!(matches!(
        plain.write_if(b"k", None, b),
        Err(Error::Unsupported(_))
    ));
    assert_eq!(plain.get(b"k").expect("get"), None);
}
