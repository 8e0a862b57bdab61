//! MessagePack documents built from fuzzer input: mostly well-formed trees (so the operations
//! reach the store), with the hostile shapes the rules exist for: nil, non-str keys, invalid
//! UTF-8, nesting around `MAX_DEPTH`, trailing and missing bytes, wide (non-minimal) markers,
//! sizes around `max_value_bytes`.

use arbitrary::Arbitrary;

use crate::oracle;

/// A value tree, written marker by marker (so it may hold what `rmpv` would not write).
#[derive(Arbitrary, Debug, Clone)]
pub enum Tree {
    /// nil (refused at the top, allowed inside a container).
    Nil,
    /// A bool.
    Bool(bool),
    /// An int, in its smallest form or in the int64 form.
    Int(i64, bool),
    /// A uint in its smallest form.
    UInt(u64),
    /// A float32.
    F32(f32),
    /// A float64.
    F64(f64),
    /// A str.
    Str(String),
    /// A str marker over bytes that may not be UTF-8.
    BadStr(Vec<u8>),
    /// A bin.
    Bin(Vec<u8>),
    /// An array.
    Array(Vec<Tree>),
    /// A map, whose keys may be anything.
    Map(Vec<(Key, Tree)>),
    /// An ext of a type and its bytes.
    Ext(i8, Vec<u8>),
}

/// A map key: a str (most of the time) or something no host can read as one.
#[derive(Arbitrary, Debug, Clone)]
pub enum Key {
    /// One of the keys the store operations name.
    Table(u8),
    /// Any str.
    Str(String),
    /// An int: no host reads it as a key.
    Int(i64),
    /// nil.
    Nil,
    /// A str marker over bytes that may not be UTF-8.
    BadStr(Vec<u8>),
    /// A bin.
    Bin(Vec<u8>),
}

/// A document for `ss_store_set_msgpack`.
#[derive(Arbitrary, Debug, Clone)]
pub enum Doc {
    /// A tree, encoded.
    Tree(Tree),
    /// Any bytes.
    Raw(Vec<u8>),
    /// Around 100 to 140 arrays (or maps) nested around a tree: both sides of `MAX_DEPTH`.
    Deep(u8, bool, Tree),
    /// A tree and one more byte.
    Trailing(Tree, u8),
    /// A tree without its last 1 to 4 bytes.
    Truncated(Tree, u8),
    /// A bin of about this many bytes: both sides of every `max_value_bytes`.
    Sized(u16),
    /// A NULL pointer with this length.
    Null(u8),
}

/// A map document for `ss_store_set_many`.
#[derive(Arbitrary, Debug, Clone)]
pub enum ManyDoc {
    /// A map of these entries.
    Entries(Vec<(Key, Tree)>),
    /// The same in a map32 header (a valid, non-minimal form).
    Wide(Vec<(Key, Tree)>),
    /// A map and one more byte.
    Trailing(Vec<(Key, Tree)>, u8),
    /// Table keys with bins of about these sizes.
    Sized(Vec<(u8, u16)>),
    /// Any bytes.
    Raw(Vec<u8>),
    /// A NULL pointer with this length.
    Null(u8),
}

/// Keys maps use most: they collide with the keys the operations name.
const KEYS: &[&str] = &["", "k", "userId", "ключ", "a\0b", "room:42"];

// Writing into a Vec never fails, hence the ignored results below.

fn write_str_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    let _ = rmp::encode::write_str_len(out, bytes.len() as u32);
    out.extend_from_slice(bytes);
}

fn write_key(out: &mut Vec<u8>, key: &Key) {
    match key {
        Key::Table(i) => write_str_bytes(out, KEYS[*i as usize % KEYS.len()].as_bytes()),
        Key::Str(s) => write_str_bytes(out, s.as_bytes()),
        Key::Int(v) => drop(rmp::encode::write_sint(out, *v)),
        Key::Nil => drop(rmp::encode::write_nil(out)),
        Key::BadStr(b) => write_str_bytes(out, b),
        Key::Bin(b) => drop(rmp::encode::write_bin(out, b)),
    }
}

/// Appends the encoding of `tree` to `out`.
pub fn write_tree(out: &mut Vec<u8>, tree: &Tree) {
    match tree {
        Tree::Nil => drop(rmp::encode::write_nil(out)),
        Tree::Bool(b) => drop(rmp::encode::write_bool(out, *b)),
        Tree::Int(v, false) => drop(rmp::encode::write_sint(out, *v)),
        Tree::Int(v, true) => drop(rmp::encode::write_i64(out, *v)),
        Tree::UInt(v) => drop(rmp::encode::write_uint(out, *v)),
        Tree::F32(v) => drop(rmp::encode::write_f32(out, *v)),
        Tree::F64(v) => drop(rmp::encode::write_f64(out, *v)),
        Tree::Str(s) => write_str_bytes(out, s.as_bytes()),
        Tree::BadStr(b) => write_str_bytes(out, b),
        Tree::Bin(b) => drop(rmp::encode::write_bin(out, b)),
        Tree::Array(items) => {
            let _ = rmp::encode::write_array_len(out, items.len() as u32);
            for item in items {
                write_tree(out, item);
            }
        }
        Tree::Map(entries) => {
            let _ = rmp::encode::write_map_len(out, entries.len() as u32);
            for (k, v) in entries {
                write_key(out, k);
                write_tree(out, v);
            }
        }
        Tree::Ext(ty, data) => {
            let _ = rmp::encode::write_ext_meta(out, data.len() as u32, *ty);
            out.extend_from_slice(data);
        }
    }
}

fn tree_doc(tree: &Tree) -> Vec<u8> {
    let mut out = Vec::new();
    write_tree(&mut out, tree);
    out
}

/// The bytes of `doc` (a NULL one is empty: the caller passes no pointer).
pub fn doc(doc: &Doc) -> Vec<u8> {
    match doc {
        Doc::Tree(t) => tree_doc(t),
        Doc::Raw(b) => b.clone(),
        Doc::Deep(n, maps, leaf) => {
            let n = 100 + usize::from(*n) % 40;
            let mut out = Vec::new();
            for _ in 0..n {
                if *maps {
                    out.extend_from_slice(&[0x81, 0xa1, b'k']);
                } else {
                    out.push(0x91);
                }
            }
            write_tree(&mut out, leaf);
            out
        }
        Doc::Trailing(t, extra) => {
            let mut out = tree_doc(t);
            out.push(*extra);
            out
        }
        Doc::Truncated(t, cut) => {
            let mut out = tree_doc(t);
            let keep = out.len().saturating_sub(1 + usize::from(*cut) % 4);
            out.truncate(keep);
            out
        }
        Doc::Sized(n) => oracle::encode(&rmpv::Value::Binary(vec![7; usize::from(*n) % 1100])),
        Doc::Null(_) => Vec::new(),
    }
}

fn entries_doc(entries: &[(Key, Tree)], wide: bool) -> Vec<u8> {
    let mut out = Vec::new();
    if wide {
        out.push(0xdf);
        out.extend_from_slice(&(entries.len() as u32).to_be_bytes());
    } else {
        let _ = rmp::encode::write_map_len(&mut out, entries.len() as u32);
    }
    for (k, v) in entries {
        write_key(&mut out, k);
        write_tree(&mut out, v);
    }
    out
}

/// The bytes of `many` (a NULL one is empty).
pub fn many_doc(many: &ManyDoc) -> Vec<u8> {
    match many {
        ManyDoc::Entries(e) => entries_doc(e, false),
        ManyDoc::Wide(e) => entries_doc(e, true),
        ManyDoc::Trailing(e, extra) => {
            let mut out = entries_doc(e, false);
            out.push(*extra);
            out
        }
        ManyDoc::Sized(sizes) => {
            let mut out = Vec::new();
            let _ = rmp::encode::write_map_len(&mut out, sizes.len() as u32);
            for (k, n) in sizes {
                write_str_bytes(&mut out, KEYS[*k as usize % KEYS.len()].as_bytes());
                let value = rmpv::Value::Binary(vec![9; usize::from(*n) % 1100]);
                out.extend_from_slice(&oracle::encode(&value));
            }
            out
        }
        ManyDoc::Raw(b) => b.clone(),
        ManyDoc::Null(_) => Vec::new(),
    }
}

/// The encoded sizes of the values a map document's readable entries hold, in order, up to
/// the first entry that cannot be read.
pub fn entry_sizes(doc: &[u8]) -> Vec<usize> {
    let mut cursor = doc;
    let Ok(len) = rmp::decode::read_map_len(&mut cursor) else {
        return Vec::new();
    };
    let mut at = doc.len() - cursor.len();
    let mut sizes = Vec::new();
    for _ in 0..len {
        let Some((_, key)) = oracle::read(&doc[at..]) else {
            break;
        };
        at += key;
        let Some((_, value)) = oracle::read(&doc[at..]) else {
            break;
        };
        sizes.push(value);
        at += value;
    }
    sizes
}
