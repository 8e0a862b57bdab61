//! The portable value format of docs/API.md §3: every value is one MessagePack document.
//!
//! Validation uses the `rmpv` reader (never a hand-rolled parser). A valid value is one whole
//! document with nothing after it, not a top-level nil, whose maps (at any depth) have `str`
//! keys, nested at most [`MAX_DEPTH`] deep.

use rmpv::Value;

use crate::error::{Error, ErrorKind, Result};

/// Deepest nesting of arrays and maps a value may have. Every host decodes recursively,
/// so a bound keeps a hostile document from exhausting a stack.
pub const MAX_DEPTH: usize = 128;

/// The bound handed to the `rmpv` reader, which counts a level for every value and one more
/// for every array, map, str, bin and ext body it enters: `MAX_DEPTH` nested containers
/// around an ext need `2 * MAX_DEPTH + 3` of its levels. It only keeps the reader's recursion
/// bounded; [`check_nested`] enforces `MAX_DEPTH` in nested containers, as documented.
const READ_DEPTH: usize = 2 * MAX_DEPTH + 4;

/// Checks that `doc` is one valid value of at most `max_len` bytes.
pub fn validate(doc: &[u8], max_len: usize) -> Result<()> {
    check_size(doc.len(), max_len)?;
    if is_valid_scalar(doc) {
        return Ok(());
    }
    validate_in_full(doc)
}

/// The general path of [`validate`]: the `rmpv` reader, then the portability rules.
fn validate_in_full(doc: &[u8]) -> Result<()> {
    let (value, rest) = read_one(doc)?;
    if !rest.is_empty() {
        return Err(Error::invalid(format!(
            "{} bytes follow the MessagePack document",
            rest.len()
        )));
    }
    check_value(&value)
}

/// True when `doc` is certainly one valid scalar (int, float, bool, str, bin), recognised from
/// its marker and lengths without building a value. Most session values are one, so
/// [`validate`] skips the general reader for them; `false` only means "not known here".
fn is_valid_scalar(doc: &[u8]) -> bool {
    use rmp::Marker;
    let Some((&first, rest)) = doc.split_first() else {
        return false;
    };
    // The body after a big-endian length of `width` bytes, when it is exactly that long.
    let sized = |width: usize| {
        let (len, body) = (rest.get(..width)?, &rest[width..]);
        let len = len.iter().fold(0usize, |acc, &b| acc << 8 | usize::from(b));
        (body.len() == len).then_some(body)
    };
    let is_text = |body: Option<&[u8]>| body.is_some_and(|b| std::str::from_utf8(b).is_ok());
    match Marker::from_u8(first) {
        Marker::FixPos(_) | Marker::FixNeg(_) | Marker::True | Marker::False => rest.is_empty(),
        Marker::U8 | Marker::I8 => rest.len() == 1,
        Marker::U16 | Marker::I16 => rest.len() == 2,
        Marker::U32 | Marker::I32 | Marker::F32 => rest.len() == 4,
        Marker::U64 | Marker::I64 | Marker::F64 => rest.len() == 8,
        Marker::FixStr(len) => is_text(Some(rest).filter(|r| r.len() == usize::from(len))),
        Marker::Str8 => is_text(sized(1)),
        Marker::Str16 => is_text(sized(2)),
        Marker::Str32 => is_text(sized(4)),
        Marker::Bin8 => sized(1).is_some(),
        Marker::Bin16 => sized(2).is_some(),
        Marker::Bin32 => sized(4).is_some(),
        _ => false,
    }
}

/// Fails with [`ErrorKind::TooLarge`] when `len` passes `max_len`.
pub fn check_size(len: usize, max_len: usize) -> Result<()> {
    if len > max_len {
        return Err(Error::new(
            ErrorKind::TooLarge,
            format!("the value is {len} bytes encoded; max_value_bytes is {max_len}"),
        ));
    }
    Ok(())
}

/// Reads one document from the front of `doc`, returning it and what follows.
fn read_one(doc: &[u8]) -> Result<(Value, &[u8])> {
    let mut cursor = doc;
    let value = rmpv::decode::read_value_with_max_depth(&mut cursor, READ_DEPTH)
        .map_err(|e| Error::invalid(format!("not a valid MessagePack document: {e}")))?;
    let read = &doc[..doc.len() - cursor.len()];
    // `rmpv` reads the marker MessagePack never uses (0xc1) as nil; the other hosts refuse it.
    if read.contains(&0xc1) && has_reserved_marker(read) {
        return Err(Error::invalid("0xc1 is not a MessagePack marker"));
    }
    Ok((value, cursor))
}

/// True when one of the markers of `doc` (one document that `rmpv` read whole) is 0xc1, the
/// one MessagePack never uses. Walks the markers without recursion: `pending` counts the
/// values still to come, and every body is skipped.
fn has_reserved_marker(doc: &[u8]) -> bool {
    use rmp::Marker;
    /// A big-endian length of `width` bytes taken from the front of `rest`.
    fn length(rest: &mut &[u8], width: usize) -> usize {
        let Some((len, tail)) = rest.split_at_checked(width) else {
            *rest = &[];
            return 0;
        };
        *rest = tail;
        len.iter().fold(0usize, |acc, &b| acc << 8 | usize::from(b))
    }
    let mut rest = doc;
    let mut pending: usize = 1;
    while pending > 0 {
        let Some((&first, tail)) = rest.split_first() else {
            return false;
        };
        rest = tail;
        pending -= 1;
        let r = &mut rest;
        let body = match Marker::from_u8(first) {
            Marker::Reserved => return true,
            Marker::FixArray(n) => {
                pending += usize::from(n);
                0
            }
            Marker::FixMap(n) => {
                pending += 2 * usize::from(n);
                0
            }
            Marker::Array16 => {
                pending += length(r, 2);
                0
            }
            Marker::Array32 => {
                pending += length(r, 4);
                0
            }
            Marker::Map16 => {
                pending += 2 * length(r, 2);
                0
            }
            Marker::Map32 => {
                pending += 2 * length(r, 4);
                0
            }
            Marker::FixStr(n) => usize::from(n),
            Marker::Str8 | Marker::Bin8 => length(r, 1),
            Marker::Str16 | Marker::Bin16 => length(r, 2),
            Marker::Str32 | Marker::Bin32 => length(r, 4),
            Marker::FixExt1 => 2,
            Marker::FixExt2 => 3,
            Marker::FixExt4 => 5,
            Marker::FixExt8 => 9,
            Marker::FixExt16 => 17,
            Marker::Ext8 => length(r, 1) + 1,
            Marker::Ext16 => length(r, 2) + 1,
            Marker::Ext32 => length(r, 4) + 1,
            Marker::U8 | Marker::I8 => 1,
            Marker::U16 | Marker::I16 => 2,
            Marker::U32 | Marker::I32 | Marker::F32 => 4,
            Marker::U64 | Marker::I64 | Marker::F64 => 8,
            Marker::Null | Marker::True | Marker::False | Marker::FixPos(_) | Marker::FixNeg(_) => {
                0
            }
        };
        rest = rest.get(body..).unwrap_or_default();
    }
    false
}

fn check_value(value: &Value) -> Result<()> {
    if value.is_nil() {
        return Err(Error::invalid("a value is never a top-level nil"));
    }
    check_nested(value, 0)
}

/// Checks a value that `depth` arrays and maps enclose.
fn check_nested(value: &Value, depth: usize) -> Result<()> {
    if (value.is_array() || value.is_map()) && depth >= MAX_DEPTH {
        return Err(Error::invalid(format!(
            "the value nests arrays and maps more than {MAX_DEPTH} deep"
        )));
    }
    match value {
        Value::Array(items) => items.iter().try_for_each(|v| check_nested(v, depth + 1)),
        Value::Map(entries) => entries.iter().try_for_each(|(k, v)| {
            if !k.is_str() {
                return Err(Error::invalid(
                    "map keys are MessagePack str, so every host can read the map",
                ));
            }
            if k.as_str().is_none() {
                return Err(Error::invalid("a map key is not valid UTF-8"));
            }
            check_nested(v, depth + 1)
        }),
        Value::String(s) if s.as_str().is_none() => {
            Err(Error::invalid("a MessagePack str is not valid UTF-8"))
        }
        _ => Ok(()),
    }
}

/// Wraps raw bytes as a MessagePack `bin` document.
pub fn encode_bin(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + 5);
    // Writing into a Vec cannot fail; a slice longer than u32::MAX cannot be a value.
    let _ = rmp::encode::write_bin(&mut out, raw);
    out
}

/// Encodes text as a MessagePack `str` document.
pub fn encode_str(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + 5);
    let _ = rmp::encode::write_str(&mut out, text);
    out
}

/// Appends the portable encoding of the int `v`: what every host reads back as its own int.
///
/// Java reads the int8/int16 markers as `Byte`/`Short` (its own `Byte` and `Short` write
/// them), so a portable int never uses them: a negative int past the fixint range takes int32
/// (Java: `Integer`) or int64 (Java: `Long`), as docs/API.md §3 says foreign ints read, and a
/// non-negative one the smallest uint form, which Java reads as `Integer` when it fits, else
/// `Long`. Python reads every form as `int`.
pub fn write_int(out: &mut Vec<u8>, v: i64) {
    // Writing into a Vec cannot fail.
    match v {
        0.. => drop(rmp::encode::write_uint(out, v as u64)),
        -32..=-1 => drop(rmp::encode::write_nfix(out, v as i8)),
        -2_147_483_648..=-33 => drop(rmp::encode::write_i32(out, v as i32)),
        _ => drop(rmp::encode::write_i64(out, v)),
    }
}

/// The portable encoding of the int `v` as one document (see [`write_int`]).
pub fn encode_int(v: i64) -> Vec<u8> {
    let mut out = Vec::with_capacity(9);
    write_int(&mut out, v);
    out
}

/// The int of a stored int document; [`ErrorKind::Type`] when `doc` is not an int, or is one
/// past `i64::MAX` (a uint64 no signed 64-bit int holds).
pub fn decode_int(doc: &[u8]) -> Result<i64> {
    let mut cursor = doc;
    let not_int = || {
        Error::new(
            ErrorKind::Type,
            "the value is not a MessagePack int that fits in 64 signed bits; read it with the _msgpack call",
        )
    };
    let n: i64 = rmp::decode::read_int(&mut cursor).map_err(|_| not_int())?;
    if !cursor.is_empty() {
        return Err(not_int());
    }
    Ok(n)
}

/// The text of a stored `str` document; [`ErrorKind::Type`] when `doc` is not `str`.
pub fn decode_str(doc: &[u8]) -> Result<&str> {
    let mut cursor = doc;
    let not_str = || {
        Error::new(
            ErrorKind::Type,
            "the value is not a MessagePack str; read it with the _msgpack call",
        )
    };
    let len = rmp::decode::read_str_len(&mut cursor).map_err(|_| not_str())? as usize;
    if cursor.len() != len {
        return Err(not_str());
    }
    // Stored documents were validated, str included, so this only guards foreign writers.
    std::str::from_utf8(cursor).map_err(|_| not_str())
}

/// The encoded size of `bin` holding `len` bytes.
pub fn bin_encoded_len(len: usize) -> usize {
    len + match len {
        0..=0xff => 2,
        0x100..=0xffff => 3,
        _ => 5,
    }
}

/// The payload of a stored `bin` document; [`ErrorKind::Type`] when `doc` is not `bin`.
pub fn decode_bin(doc: &[u8]) -> Result<&[u8]> {
    let mut cursor = doc;
    let not_bin = || {
        Error::new(
            ErrorKind::Type,
            "the value is not MessagePack bin; read it with the _msgpack call",
        )
    };
    let len = rmp::decode::read_bin_len(&mut cursor).map_err(|_| not_bin())? as usize;
    if cursor.len() != len {
        return Err(not_bin());
    }
    Ok(cursor)
}

/// Encodes a MessagePack array of `str`.
pub fn encode_keys<'a>(keys: impl ExactSizeIterator<Item = &'a str>) -> Vec<u8> {
    let mut out = Vec::new();
    let _ = rmp::encode::write_array_len(&mut out, keys.len() as u32);
    for k in keys {
        let _ = rmp::encode::write_str(&mut out, k);
    }
    out
}

/// Encodes a MessagePack map of `str` to already-encoded values.
pub fn encode_map<'a>(entries: impl ExactSizeIterator<Item = (&'a str, &'a [u8])>) -> Vec<u8> {
    let mut out = Vec::new();
    let _ = rmp::encode::write_map_len(&mut out, entries.len() as u32);
    for (k, v) in entries {
        let _ = rmp::encode::write_str(&mut out, k);
        out.extend_from_slice(v);
    }
    out
}

/// Splits a MessagePack map document of `str` keys into its entries, each value validated
/// as by [`validate`] and returned as the slice of `doc` that encodes it.
pub fn split_map(doc: &[u8], max_len: usize) -> Result<Vec<(&str, &[u8])>> {
    let mut cursor = doc;
    let len = rmp::decode::read_map_len(&mut cursor)
        .map_err(|e| Error::invalid(format!("expected a MessagePack map: {e}")))?;
    let mut entries = Vec::with_capacity((len as usize).min(1024));
    for _ in 0..len {
        let (key, rest) = rmp::decode::read_str_from_slice(cursor)
            .map_err(|e| Error::invalid(format!("a map key is not a MessagePack str: {e}")))?;
        crate::names::check_key(key)?;
        let (value, after) = read_one(rest)?;
        let encoded = &rest[..rest.len() - after.len()];
        check_size(encoded.len(), max_len)?;
        check_value(&value)?;
        entries.push((key, encoded));
        cursor = after;
    }
    if !cursor.is_empty() {
        return Err(Error::invalid(format!(
            "{} bytes follow the MessagePack map",
            cursor.len()
        )));
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(v: &Value) -> Vec<u8> {
        let mut out = Vec::new();
        rmpv::encode::write_value(&mut out, v).unwrap();
        out
    }

    #[test]
    fn accepts_every_portable_type() {
        let values = [
            Value::from(true),
            Value::from(-5),
            Value::from(u64::MAX),
            Value::from(1.5f64),
            Value::from(1.5f32),
            Value::from("text"),
            Value::Binary(vec![0, 1, 2]),
            Value::Array(vec![Value::Nil, Value::from(1)]),
            Value::Map(vec![(Value::from("k"), Value::Nil)]),
            Value::Ext(80, vec![1, 2, 3]),
        ];
        for v in &values {
            validate(&enc(v), 1 << 20).unwrap();
        }
    }

    #[test]
    fn rejects_bad_documents() {
        let nil = enc(&Value::Nil);
        let int_key = enc(&Value::Map(vec![(Value::from(1), Value::from(2))]));
        let nested_int_key = enc(&Value::Array(vec![Value::Map(vec![(
            Value::from(1),
            Value::from(2),
        )])]));
        let mut trailing = enc(&Value::from(1));
        trailing.push(0x01);
        let truncated = &enc(&Value::from("hello"))[..3];
        let bad_utf8 = [0xa2, 0xff, 0xfe];
        let mut deep = vec![0x91u8; MAX_DEPTH + 1];
        deep.push(0x01);
        for doc in [
            &nil[..],
            &int_key,
            &nested_int_key,
            &trailing,
            truncated,
            &bad_utf8,
            &[],
            &[0xc1],
            &deep,
        ] {
            assert_eq!(
                validate(doc, 1 << 20).unwrap_err().kind(),
                ErrorKind::InvalidArg,
                "{doc:?}"
            );
        }
    }

    /// `rmpv` reads 0xc1 as nil; inside a container it was accepted, and then no other host
    /// could read the value (found by the unpackb fuzz target, fuzz/README.md).
    #[test]
    fn the_unused_marker_is_refused_at_any_depth() {
        let mut deep = vec![0x91u8; MAX_DEPTH];
        deep.push(0xc1);
        for doc in [
            &[0xc1][..],
            &[0x91, 0xc1],
            &[0x92, 0x01, 0xc1],
            &[0x81, 0xa1, b'k', 0xc1],
            &[0xdc, 0, 2, 0xc0, 0xc1],
            &[0x92, 0xd4, 7, 0xc1, 0xc1],
            &deep,
        ] {
            assert_eq!(
                validate(doc, 1 << 20).unwrap_err().kind(),
                ErrorKind::InvalidArg,
                "{doc:x?}"
            );
        }
        assert!(split_map(&[0x81, 0xa1, b'k', 0x91, 0xc1], 1 << 20).is_err());
        // As data (an int, a str, a bin, an ext body or type), 0xc1 is only a byte.
        for doc in [
            &[0x91, 0xcc, 0xc1][..],
            &[0x91, 0xa2, 0xc3, 0xc1],
            &[0x91, 0xc4, 2, 0xc1, 0xc1],
            &[0x91, 0xd5, 0xc1, 0xc1, 0xc1],
            &[0x81, 0xa1, b'k', 0xcd, 0xc1, 0xc1],
        ] {
            if let Err(e) = validate(doc, 1 << 20) {
                assert!(!e.message().contains("0xc1"), "{doc:x?}: {e}");
            }
        }
        validate(&[0x91, 0xcc, 0xc1], 1 << 20).unwrap();
        validate(&[0x91, 0xc4, 2, 0xc1, 0xc1], 1 << 20).unwrap();
        validate(&[0x91, 0xd5, 0xc1, 0xc1, 0xc1], 1 << 20).unwrap();
        validate(&[0x81, 0xa1, b'k', 0xcd, 0xc1, 0xc1], 1 << 20).unwrap();
    }

    #[test]
    fn depth_limit_counts_nested_containers() {
        // MAX_DEPTH arrays (or maps) around any leaf pass, whatever the leaf costs the reader.
        for leaf in [&[0x01u8][..], &[0xa1, b's'], &[0xd4, 74, 0], &[0xc4, 1, 7]] {
            let mut doc = vec![0x91u8; MAX_DEPTH];
            doc.extend_from_slice(leaf);
            validate(&doc, 1 << 20).unwrap();
            let mut doc = vec![0x91u8; MAX_DEPTH + 1];
            doc.extend_from_slice(leaf);
            assert_eq!(
                validate(&doc, 1 << 20).unwrap_err().kind(),
                ErrorKind::InvalidArg
            );
        }
        let mut maps = Vec::new();
        for _ in 0..MAX_DEPTH {
            maps.extend_from_slice(&[0x81, 0xa1, b'k']);
        }
        maps.push(0x90);
        assert!(validate(&maps, 1 << 20).is_err());
        maps.pop();
        maps.push(0x01);
        validate(&maps, 1 << 20).unwrap();
        // Far deeper than the reader's bound: rejected without exhausting the stack.
        let mut abyss = vec![0x91u8; 100_000];
        abyss.push(0x01);
        assert!(validate(&abyss, 1 << 20).is_err());
    }

    /// Whatever the scalar fast path accepts, the general reader accepts too; and it takes
    /// every scalar form the hosts write.
    #[test]
    fn the_scalar_fast_path_never_accepts_what_the_reader_refuses() {
        let mut docs: Vec<Vec<u8>> = vec![
            vec![],
            vec![0x05],
            vec![0xff],
            vec![0xc0],
            vec![0xc1],
            vec![0xc2],
            vec![0xc3, 0x00],
            vec![0xd0, 0x9c],
            vec![0xd0],
            vec![0xd1, 0, 1],
            vec![0xd2, 0, 0, 0, 5],
            vec![0xd2, 0, 0, 5],
            vec![0xd3, 0, 0, 0, 0, 0, 0, 0, 5],
            vec![0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            vec![0xca, 0x3f, 0xc0, 0, 0],
            vec![0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0],
            vec![0xa5, b'h', b'e', b'l', b'l', b'o'],
            vec![0xa5, b'h', b'e', b'l', b'l'],
            vec![0xa2, 0xff, 0xfe],
            vec![0xa1, b'x', b'y'],
            vec![0xd9, 3, 0xe2, 0x82, 0xac],
            vec![0xd9, 3, 0xe2, 0x82],
            vec![0xd9],
            vec![0xda, 0, 1, b'a'],
            vec![0xdb, 0, 0, 0, 1, b'a'],
            vec![0xdb, 0, 0, 0, 2, b'a'],
            vec![0xc4, 2, 1, 2],
            vec![0xc4, 3, 1, 2],
            vec![0xc4],
            vec![0xc5, 0, 1, 9],
            vec![0xc6, 0, 0, 0, 0],
            vec![0x91, 0x01],
            vec![0x81, 0xa1, b'k', 0x01],
            vec![0xd4, 80, 7],
        ];
        for len in [31usize, 32, 255, 256, 65535, 65536] {
            let mut doc = match len {
                0..=31 => vec![0xa0 | len as u8],
                32..=255 => vec![0xd9, len as u8],
                256..=65535 => vec![0xda, (len >> 8) as u8, len as u8],
                _ => vec![0xdb, 0, (len >> 16) as u8, (len >> 8) as u8, len as u8],
            };
            doc.extend(std::iter::repeat_n(b'x', len));
            docs.push(doc);
        }
        let mut accepted = 0;
        for doc in &docs {
            let in_full = validate_in_full(doc).is_ok();
            if is_valid_scalar(doc) {
                assert!(
                    in_full,
                    "the fast path accepted what the reader refuses: {doc:x?}"
                );
                accepted += 1;
            } else if in_full {
                // Containers and extensions are left to the reader.
                assert!(matches!(doc[0], 0x80..=0x9f | 0xd4), "{doc:x?}");
            }
            assert_eq!(validate(doc, 1 << 20).is_ok(), in_full, "{doc:x?}");
        }
        assert_eq!(accepted, 23);
    }

    #[test]
    fn size_limit() {
        let doc = encode_bin(&[7; 100]);
        assert_eq!(doc.len(), bin_encoded_len(100));
        validate(&doc, doc.len()).unwrap();
        assert_eq!(
            validate(&doc, doc.len() - 1).unwrap_err().kind(),
            ErrorKind::TooLarge
        );
    }

    #[test]
    fn bin_round_trip_and_type_error() {
        for len in [0, 1, 255, 256, 70_000] {
            let raw = vec![9u8; len];
            let doc = encode_bin(&raw);
            assert_eq!(doc.len(), bin_encoded_len(len));
            assert_eq!(decode_bin(&doc).unwrap(), &raw[..]);
        }
        assert_eq!(
            decode_bin(&encode_str("x")).unwrap_err().kind(),
            ErrorKind::Type
        );
    }

    #[test]
    fn maps_split_and_join() {
        let doc = enc(&Value::Map(vec![
            (Value::from("a"), Value::from(1)),
            (Value::from("b"), Value::Array(vec![Value::from("x")])),
        ]));
        let entries = split_map(&doc, 1 << 20).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].0, "a");
        assert_eq!(encode_map(entries.iter().copied()), doc);
        let keys = encode_keys(["a", "b"].into_iter());
        assert_eq!(
            keys,
            enc(&Value::Array(vec![Value::from("a"), Value::from("b")]))
        );

        let nil_value = enc(&Value::Map(vec![(Value::from("a"), Value::Nil)]));
        assert!(split_map(&nil_value, 1 << 20).is_err());
        assert!(split_map(&enc(&Value::from(1)), 1 << 20).is_err());
        let big = enc(&Value::Map(vec![(
            Value::from("a"),
            Value::Binary(vec![0; 64]),
        )]));
        assert_eq!(split_map(&big, 32).unwrap_err().kind(), ErrorKind::TooLarge);
    }
}
