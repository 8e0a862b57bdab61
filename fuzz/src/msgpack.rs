//! The MessagePack validator (`sessionstore::value::validate` and `split_map`) against the
//! independent rules of [`crate::oracle`]: it never panics, accepts exactly the documents the
//! oracle accepts (so never one `rmpv` rejects, nests past `MAX_DEPTH`, has a non-str map key,
//! trailing bytes or a top-level nil), answers `TooLarge` exactly past the size bound, and an
//! accepted document is stored and read back byte for byte, and re-encodes to a canonical form
//! that is itself accepted and stable.
//!
//! Input: one byte choosing the size bound (and whether the rest is raw bytes or a
//! [`Tree`](crate::gen::Tree) to encode), then the document.

use arbitrary::{Arbitrary, Unstructured};
use sessionstore::{value, ErrorKind, Store, StoreFactory};

use crate::{gen, oracle};

const BOUNDS: [usize; 4] = [16, 100, 1024, 1 << 20];

thread_local! {
    /// One memory store for the byte-for-byte round trips (default `max_value_bytes`: 1 MiB).
    static STORE: Store = StoreFactory::open("memory://")
        .and_then(|f| f.create_store("fuzz"))
        .expect("a memory store opens");
}

/// Checks the validator on the document that `data` holds.
pub fn run(data: &[u8]) {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let max = BOUNDS[usize::from(sel) % BOUNDS.len()];
    if sel & 4 != 0 {
        let Ok(tree) = gen::Tree::arbitrary_take_rest(Unstructured::new(rest)) else {
            return;
        };
        let mut doc = Vec::new();
        gen::write_tree(&mut doc, &tree);
        check(&doc, max);
    } else {
        check(rest, max);
    }
}

fn check(doc: &[u8], max: usize) {
    check_validate(doc, max);
    check_split_map(doc, max);
}

fn check_validate(doc: &[u8], max: usize) {
    let portable = oracle::portable(doc);
    let got = value::validate(doc, max);
    match (&got, &portable) {
        (Ok(()), Some(_)) => assert!(doc.len() <= max, "accepted past the bound: {doc:x?}"),
        (Ok(()), None) => panic!("accepted what the rules refuse: {doc:x?}"),
        (Err(e), Some(_)) => assert!(
            e.kind() == ErrorKind::TooLarge && doc.len() > max,
            "refused a valid document ({e}): {doc:x?}"
        ),
        (Err(e), None) => assert!(
            e.kind() == ErrorKind::InvalidArg
                || (e.kind() == ErrorKind::TooLarge && doc.len() > max),
            "refused with the wrong kind ({e}): {doc:x?}"
        ),
    }
    let Some(v) = portable else { return };
    assert!(oracle::nesting(&v) <= value::MAX_DEPTH);
    // Stored as given, read back as given, whatever form its markers take.
    STORE.with(|store| {
        store.set("k", doc).expect("a valid document is stored");
        let back = store.get("k").expect("read").expect("present");
        assert_eq!(back, doc, "the stored document changed");
    });
    // Its canonical re-encoding is valid too, and a fixed point.
    let canonical = oracle::encode(&v);
    value::validate(&canonical, usize::MAX)
        .unwrap_or_else(|e| panic!("the re-encoding of {doc:x?} is refused: {e}"));
    let again = oracle::portable(&canonical).expect("the re-encoding is portable");
    assert_eq!(
        oracle::encode(&again),
        canonical,
        "re-encoding is not stable"
    );
}

fn check_split_map(doc: &[u8], max: usize) {
    let expected = oracle::portable_map(doc);
    let oversize = gen::entry_sizes(doc).iter().any(|&n| n > max);
    match (value::split_map(doc, max), expected) {
        (Ok(entries), Some(want)) => {
            assert!(!oversize, "an entry past the bound was accepted: {doc:x?}");
            assert_eq!(entries.len(), want.len());
            for ((k, v), (wk, wv)) in entries.iter().zip(&want) {
                assert_eq!((*k, *v), (wk.as_str(), wv.as_slice()), "{doc:x?}");
                value::validate(v, max).expect("each entry is a valid value");
            }
            // Joined again (with the smallest header), the entries split the same way.
            let joined = value::encode_map(entries.iter().copied());
            let again = value::split_map(&joined, max).expect("the joined map splits");
            assert_eq!(again, entries);
        }
        (Ok(_), None) => panic!("split a map the rules refuse: {doc:x?}"),
        (Err(e), want) => {
            let kind_ok = match e.kind() {
                ErrorKind::TooLarge => oversize,
                ErrorKind::InvalidArg => want.is_none(),
                _ => false,
            };
            assert!(kind_ok, "split_map refused with {e}: {doc:x?}");
            assert!(
                want.is_none() || oversize,
                "refused a valid map ({e}): {doc:x?}"
            );
        }
    }
}
