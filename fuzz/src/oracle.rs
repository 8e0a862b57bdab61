//! An independent statement of docs/API.md §3's rules, the yardstick the targets hold the core
//! to: `rmpv` reads the document (with a depth bound far above what a valid value needs), then
//! the portability rules are checked on the decoded tree. It shares no code with
//! `sessionstore::value`.

use rmpv::Value;

/// Deepest nesting of arrays and maps a value may have (docs/API.md §3).
pub const MAX_NESTING: usize = 128;

/// The bound handed to `rmpv` here: far above the reader levels of any valid value (a level per
/// value plus one per body, so about 2 × [`MAX_NESTING`]), far below what exhausts a stack.
const READ_DEPTH: usize = 1024;

/// The longest key, in bytes (docs/API.md §2).
pub const MAX_KEY_LEN: usize = 1024;

/// Reads one MessagePack document from the front of `doc`: the value and how many bytes it took.
/// A document with the marker MessagePack never uses (0xc1, which `rmpv` reads as nil) is none.
pub fn read(doc: &[u8]) -> Option<(Value, usize)> {
    let mut cursor = doc;
    let value = rmpv::decode::read_value_with_max_depth(&mut cursor, READ_DEPTH).ok()?;
    let used = doc.len() - cursor.len();
    no_reserved_marker(&mut &doc[..used])?;
    Some((value, used))
}

/// Steps over one value at the front of `rest` (one `rmpv` read whole), recursively; `None` at a
/// 0xc1 marker.
fn no_reserved_marker(rest: &mut &[u8]) -> Option<()> {
    fn take<'a>(rest: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
        let (head, tail) = rest.split_at_checked(n)?;
        *rest = tail;
        Some(head)
    }
    fn len(rest: &mut &[u8], width: usize) -> Option<usize> {
        Some(
            take(rest, width)?
                .iter()
                .fold(0, |n, &b| n * 256 + usize::from(b)),
        )
    }
    fn items(rest: &mut &[u8], n: usize) -> Option<()> {
        (0..n).try_for_each(|_| no_reserved_marker(rest))
    }
    let marker = take(rest, 1)?[0];
    let body = match marker {
        0xc1 => return None,
        0x80..=0x8f => return items(rest, 2 * usize::from(marker & 0x0f)),
        0x90..=0x9f => return items(rest, usize::from(marker & 0x0f)),
        0xdc => return len(rest, 2).and_then(|n| items(rest, n)),
        0xdd => return len(rest, 4).and_then(|n| items(rest, n)),
        0xde => return len(rest, 2).and_then(|n| items(rest, 2 * n)),
        0xdf => return len(rest, 4).and_then(|n| items(rest, 2 * n)),
        0xa0..=0xbf => usize::from(marker & 0x1f),
        0xc4 | 0xd9 => len(rest, 1)?,
        0xc5 | 0xda => len(rest, 2)?,
        0xc6 | 0xdb => len(rest, 4)?,
        0xc7 => len(rest, 1)? + 1,
        0xc8 => len(rest, 2)? + 1,
        0xc9 => len(rest, 4)? + 1,
        0xd4..=0xd8 => 1 + (1 << (marker - 0xd4)),
        0xcc | 0xd0 => 1,
        0xcd | 0xd1 => 2,
        0xca | 0xce | 0xd2 => 4,
        0xcb | 0xcf | 0xd3 => 8,
        _ => 0,
    };
    take(rest, body).map(drop)
}

/// The value of `doc` when it is one valid stored value by the rules of docs/API.md §3 (size
/// aside): one whole document, not a top-level nil, str map keys, valid UTF-8 in every str,
/// at most [`MAX_NESTING`] nested arrays and maps.
pub fn portable(doc: &[u8]) -> Option<Value> {
    let (value, used) = read(doc)?;
    (used == doc.len()
        && !value.is_nil()
        && portable_tree(&value)
        && nesting(&value) <= MAX_NESTING)
        .then_some(value)
}

/// How many arrays and maps are nested in `value`, itself included.
pub fn nesting(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(nesting).max().unwrap_or(0),
        Value::Map(entries) => 1 + entries.iter().map(|(_, v)| nesting(v)).max().unwrap_or(0),
        _ => 0,
    }
}

/// Every str is UTF-8 and every map key is a str, at any depth.
fn portable_tree(value: &Value) -> bool {
    match value {
        Value::String(s) => s.as_str().is_some(),
        Value::Array(items) => items.iter().all(portable_tree),
        Value::Map(entries) => entries.iter().all(|(k, v)| {
            matches!(k, Value::String(s) if s.as_str().is_some()) && portable_tree(v)
        }),
        _ => true,
    }
}

/// Encodes `value` as rmpv writes it (the smallest form of every marker).
pub fn encode(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = rmpv::encode::write_value(&mut out, value);
    out
}

/// What a valid `set_many` document (`split_map`) holds: its entries, each key with the bytes
/// of its value's document, when `doc` is one map whose keys are str of at most
/// [`MAX_KEY_LEN`] bytes and whose every value is a valid stored value on its own.
pub fn portable_map(doc: &[u8]) -> Option<Vec<(String, Vec<u8>)>> {
    let mut cursor = doc;
    let len = rmp::decode::read_map_len(&mut cursor).ok()?;
    let mut at = doc.len() - cursor.len();
    let mut entries = Vec::new();
    for _ in 0..len {
        let (key, used) = read(&doc[at..])?;
        let key = match key {
            Value::String(s) => s.into_str()?,
            _ => return None,
        };
        if key.len() > MAX_KEY_LEN {
            return None;
        }
        at += used;
        let (_, used) = read(&doc[at..])?;
        let value = &doc[at..at + used];
        portable(value)?;
        entries.push((key, value.to_vec()));
        at += used;
    }
    (at == doc.len()).then_some(entries)
}
