//! A stored value (one MessagePack document, docs/API.md §3) as JSON, for reading.
//!
//! | MessagePack | JSON |
//! |---|---|
//! | nil | `null` |
//! | bool | `true` / `false` |
//! | int | a number, exact over the whole int64 and uint64 range |
//! | float 64 | a number (`1.0` keeps its point) |
//! | float 32 | a number, its shortest decimal (`0.1`, not `0.10000000149011612`) |
//! | NaN, ±infinity | `{"$float": "NaN"}`, `{"$float": "Infinity"}`, `{"$float": "-Infinity"}` |
//! | str | a string (bytes that are not UTF-8 show as U+FFFD) |
//! | bin | `{"$bin": "<base64>"}` |
//! | array | an array |
//! | map | an object, in the document's order (a key that is not a str: its JSON text) |
//! | ext (any type: 74 Java-serialized, 80 pickled, others) | `{"$ext": <type>, "base64": "<base64>"}` |
//! | not a valid document | `{"$invalid": "<base64 of the stored bytes>"}` |
//!
//! base64 is the standard alphabet with padding (RFC 4648 §4). A map whose keys are exactly
//! these `$` forms reads the same as the form: the JSON is for people and scripts to read,
//! not a second storage format.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use rmpv::Value;
use serde_json::{json, Map, Value as Json};

/// The deepest document decoded: the core's own bound (docs/API.md §3 allows 128 nested
/// containers; the reader counts about two levels for each).
const READ_DEPTH: usize = 2 * sessionstore::value::MAX_DEPTH + 4;

/// The value a stored document holds, or `None` when it is no single valid document.
fn decode(doc: &[u8]) -> Option<Value> {
    let mut rest = doc;
    let value = rmpv::decode::read_value_with_max_depth(&mut rest, READ_DEPTH).ok()?;
    rest.is_empty().then_some(value)
}

/// The JSON form of the stored document `doc` (see the module's table).
pub fn to_json(doc: &[u8]) -> Json {
    match decode(doc) {
        Some(value) => value_to_json(&value),
        None => json!({ "$invalid": B64.encode(doc) }),
    }
}

/// The MessagePack type of `doc`, for the table: `int`, `str`, `ext 74`, `invalid`…
pub fn type_name(doc: &[u8]) -> String {
    let Some(value) = decode(doc) else {
        return "invalid".to_owned();
    };
    match value {
        Value::Nil => "nil".to_owned(),
        Value::Boolean(_) => "bool".to_owned(),
        Value::Integer(_) => "int".to_owned(),
        Value::F32(_) => "float32".to_owned(),
        Value::F64(_) => "float".to_owned(),
        Value::String(_) => "str".to_owned(),
        Value::Binary(_) => "bin".to_owned(),
        Value::Array(_) => "array".to_owned(),
        Value::Map(_) => "map".to_owned(),
        Value::Ext(t, _) => format!("ext {t}"),
    }
}

fn value_to_json(value: &Value) -> Json {
    match value {
        Value::Nil => Json::Null,
        Value::Boolean(b) => Json::Bool(*b),
        Value::Integer(i) => match (i.as_i64(), i.as_u64()) {
            (Some(n), _) => Json::from(n),
            (None, Some(n)) => Json::from(n),
            // rmpv's integers are always one of the two.
            (None, None) => Json::Null,
        },
        // f32's Display is its shortest round-tripping decimal; read back as f64 it prints
        // the same digits.
        Value::F32(f) => float(f.to_string().parse().unwrap_or(f64::from(*f))),
        Value::F64(f) => float(*f),
        Value::String(s) => Json::String(match s.as_str() {
            Some(text) => text.to_owned(),
            None => String::from_utf8_lossy(s.as_bytes()).into_owned(),
        }),
        Value::Binary(bytes) => json!({ "$bin": B64.encode(bytes) }),
        Value::Array(items) => Json::Array(items.iter().map(value_to_json).collect()),
        Value::Map(entries) => {
            let mut object = Map::with_capacity(entries.len());
            for (key, item) in entries {
                let key = match key {
                    Value::String(s) => String::from_utf8_lossy(s.as_bytes()).into_owned(),
                    other => value_to_json(other).to_string(),
                };
                object.insert(key, value_to_json(item));
            }
            Json::Object(object)
        }
        Value::Ext(type_code, data) => json!({ "$ext": type_code, "base64": B64.encode(data) }),
    }
}

fn float(f: f64) -> Json {
    match serde_json::Number::from_f64(f) {
        Some(n) => Json::Number(n),
        None if f.is_nan() => json!({ "$float": "NaN" }),
        None if f > 0.0 => json!({ "$float": "Infinity" }),
        None => json!({ "$float": "-Infinity" }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(value: Value) -> Vec<u8> {
        let mut out = Vec::new();
        rmpv::encode::write_value(&mut out, &value).unwrap();
        out
    }

    fn shows(value: Value) -> String {
        to_json(&doc(value)).to_string()
    }

    #[test]
    fn scalars() {
        assert_eq!(shows(Value::Boolean(true)), "true");
        assert_eq!(shows(Value::from(42)), "42");
        assert_eq!(shows(Value::from(-7)), "-7");
        assert_eq!(shows(Value::from(i64::MIN)), i64::MIN.to_string());
        assert_eq!(shows(Value::from(u64::MAX)), u64::MAX.to_string());
        assert_eq!(shows(Value::from("héllo \"x\"")), r#""héllo \"x\"""#);
        assert_eq!(shows(Value::from("")), r#""""#);
    }

    #[test]
    fn floats_keep_their_digits_and_name_what_json_lacks() {
        assert_eq!(shows(Value::F64(1.5)), "1.5");
        assert_eq!(shows(Value::F64(1.0)), "1.0");
        assert_eq!(shows(Value::F64(-0.25)), "-0.25");
        assert_eq!(shows(Value::F32(0.1)), "0.1");
        assert_eq!(shows(Value::F32(3.25)), "3.25");
        assert_eq!(shows(Value::F64(f64::NAN)), r#"{"$float":"NaN"}"#);
        assert_eq!(shows(Value::F64(f64::INFINITY)), r#"{"$float":"Infinity"}"#);
        assert_eq!(
            shows(Value::F32(f32::NEG_INFINITY)),
            r#"{"$float":"-Infinity"}"#
        );
    }

    #[test]
    fn bin_and_ext_are_base64() {
        assert_eq!(
            shows(Value::Binary(vec![0, 1, 2, 0xff])),
            r#"{"$bin":"AAEC/w=="}"#
        );
        assert_eq!(shows(Value::Binary(vec![])), r#"{"$bin":""}"#);
        assert_eq!(
            shows(Value::Ext(74, b"\xac\xed\x00\x05".to_vec())),
            r#"{"$ext":74,"base64":"rO0ABQ=="}"#
        );
        assert_eq!(
            shows(Value::Ext(80, b"\x80\x04".to_vec())),
            r#"{"$ext":80,"base64":"gAQ="}"#
        );
        assert_eq!(
            shows(Value::Ext(-1, vec![0; 4])),
            r#"{"$ext":-1,"base64":"AAAAAA=="}"#
        );
    }

    #[test]
    fn containers_keep_their_order_and_nil() {
        let map = Value::Map(vec![
            (Value::from("z"), Value::from(1)),
            (
                Value::from("a"),
                Value::Array(vec![Value::Nil, Value::from(true)]),
            ),
            (
                Value::from("m"),
                Value::Map(vec![(Value::from("b"), Value::Binary(b"hi".to_vec()))]),
            ),
        ]);
        assert_eq!(
            shows(map),
            r#"{"z":1,"a":[null,true],"m":{"b":{"$bin":"aGk="}}}"#
        );
        assert_eq!(shows(Value::Array(vec![])), "[]");
        assert_eq!(shows(Value::Map(vec![])), "{}");
        // Keys other hosts never write still show.
        let odd = Value::Map(vec![(Value::from(7), Value::from("seven"))]);
        assert_eq!(shows(odd), r#"{"7":"seven"}"#);
    }

    #[test]
    fn what_is_no_document_shows_its_bytes() {
        // A str marker promising 5 bytes, with 1; and a whole document with a byte after it.
        assert_eq!(to_json(b"\xa5a").to_string(), r#"{"$invalid":"pWE="}"#);
        assert_eq!(to_json(b"\x01\x02").to_string(), r#"{"$invalid":"AQI="}"#);
        assert_eq!(to_json(b"").to_string(), r#"{"$invalid":""}"#);
        assert_eq!(type_name(b"\xa5a"), "invalid");
        // Not UTF-8 inside a str: replacement characters, not a failure.
        assert_eq!(to_json(b"\xa2\xff\x41").to_string(), "\"\u{fffd}A\"");
    }

    #[test]
    fn deep_documents_are_bounded_not_a_stack_overflow() {
        let deep = |n: usize| {
            let mut d = vec![0x91; n];
            d.push(0x01);
            d
        };
        assert!(to_json(&deep(128)).is_array());
        let hostile = to_json(&deep(100_000));
        assert!(hostile.get("$invalid").is_some());
    }

    #[test]
    fn type_names() {
        let cases = [
            (Value::Nil, "nil"),
            (Value::Boolean(false), "bool"),
            (Value::from(1), "int"),
            (Value::F32(1.0), "float32"),
            (Value::F64(1.0), "float"),
            (Value::from("s"), "str"),
            (Value::Binary(vec![]), "bin"),
            (Value::Array(vec![]), "array"),
            (Value::Map(vec![]), "map"),
            (Value::Ext(74, vec![]), "ext 74"),
        ];
        for (value, name) in cases {
            assert_eq!(type_name(&doc(value)), name);
        }
    }
}
