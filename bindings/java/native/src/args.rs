//! Arguments in and results out: Java `byte[]` and `String` to Rust slices and back.
//!
//! The hot operations (get, set, has, del) take one `byte[]` buffer that the Java side reuses
//! per thread: the key's UTF-8 at `[0, key_len)`, then for `set` the document up to `len`;
//! `get` writes the document back into the same buffer. [`RawEnv`] reads and writes it with
//! two or three plain JNI calls.

use std::cell::RefCell;

use jni::objects::{JByteArray, JString};
use jni::refs::Reference;
use jni::sys::{jbyteArray, jint, jsize, JNIEnv};
use jni::Env;
use sessionstore::names::MAX_KEY_LEN;
use sessionstore::{Error, ErrorKind};

use crate::runner::Result;

thread_local! {
    /// Per-thread scratch for the hot calls: what a call copies in from Java, and what it
    /// copies out of the backend, without an allocation per call once warm.
    static SCRATCH: RefCell<(Vec<u8>, Vec<u8>)> = const { RefCell::new((Vec::new(), Vec::new())) };
}

/// Calls `f` with two scratch buffers of this thread: `input` resized to `len` bytes, and an
/// empty `output`. A reentrant call (none happens today) gets fresh buffers.
pub(crate) fn with_scratch<R>(len: usize, f: impl FnOnce(&mut [u8], &mut Vec<u8>) -> R) -> R {
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut scratch) => {
            let (input, output) = &mut *scratch;
            input.clear();
            input.resize(len, SENTINEL);
            output.clear();
            let result = f(input, output);
            if input.capacity() > KEEP_BYTES || output.capacity() > KEEP_BYTES {
                *input = Vec::new();
                *output = Vec::new();
            }
            result
        }
        Err(_) => f(&mut vec![SENTINEL; len], &mut Vec::new()),
    })
}

/// What the input scratch holds before a read: 0xc1 is never valid in MessagePack, nor as a
/// UTF-8 byte, so bytes a failed read did not replace are refused by the core.
const SENTINEL: u8 = 0xc1;

/// Scratch buffers larger than this are freed after the call.
const KEEP_BYTES: usize = 64 << 10;

fn null(what: &str) -> Error {
    Error::new(ErrorKind::NullArg, format!("{what} is null"))
}

/// The JNI environment of the current native call, for the few array calls of the hot path.
#[derive(Clone, Copy)]
pub(crate) struct RawEnv(*mut JNIEnv);

impl RawEnv {
    /// `env` is the environment the JVM passed to the running native method.
    pub(crate) fn new(env: *mut JNIEnv) -> Self {
        RawEnv(env)
    }

    /// Copies `array[0..buf.len()]` into `buf`. `buf.len()` comes from the Java caller: when
    /// it passes the array's end, the JVM raises ArrayIndexOutOfBoundsException and copies
    /// nothing, so `buf` keeps the sentinel bytes that [`with_scratch`] put there, which are
    /// neither UTF-8 nor MessagePack: the core then refuses them, and the pending exception is
    /// what Java sees. (Asking the array's length first would cost one more JVM transition
    /// per call.)
    pub(crate) fn read(self, array: jbyteArray, buf: &mut [u8]) -> Result<()> {
        if array.is_null() {
            return Err(null("buffer").into());
        }
        // SAFETY: `self.0` is the live environment of this native call (`RawEnv::new`),
        // `array` a non-null local reference the JVM passed as a `byte[]` parameter, and `buf`
        // is valid for `buf.len()` bytes (jbyte, i8, has the layout of u8). A region outside
        // the array raises a Java exception, never an out-of-bounds access.
        unsafe {
            ((**self.0).v1_1.GetByteArrayRegion)(
                self.0,
                array,
                0,
                buf.len() as jsize,
                buf.as_mut_ptr().cast(),
            )
        }
        Ok(())
    }

    /// `write` to an array not yet checked for null.
    pub(crate) fn write_checked(self, array: jbyteArray, bytes: &[u8]) -> Result<()> {
        if array.is_null() {
            return Err(null("buffer").into());
        }
        self.write(array, bytes);
        Ok(())
    }

    /// Copies `bytes` to `array[0..bytes.len()]` (a region past the array's end raises
    /// ArrayIndexOutOfBoundsException, as in `read`).
    pub(crate) fn write(self, array: jbyteArray, bytes: &[u8]) {
        // SAFETY: as in `read`, the other way round; `array` was non-null there.
        unsafe {
            ((**self.0).v1_1.SetByteArrayRegion)(
                self.0,
                array,
                0,
                bytes.len() as jsize,
                bytes.as_ptr().cast(),
            )
        }
    }
}

/// Checks the lengths of a hot call's buffer before anything is allocated or read:
/// `0 <= key_len <= len`, and a key of at most `MAX_KEY_LEN` bytes.
pub(crate) fn check_bounds(key_len: jint, len: jint) -> Result<()> {
    if key_len < 0 || len < key_len {
        return Err(Error::new(
            ErrorKind::InvalidArg,
            format!("bad buffer bounds: key length {key_len}, length {len}"),
        )
        .into());
    }
    if key_len as usize > MAX_KEY_LEN {
        return Err(Error::new(
            ErrorKind::InvalidArg,
            format!("a key is at most {MAX_KEY_LEN} bytes, got {key_len}"),
        )
        .into());
    }
    Ok(())
}

/// True when `doc` is certainly one valid scalar value (str, bin, int, float, bool) of the
/// portable format, checked here without building a value. `false` means "not known": the
/// caller then lets the core validate the document in full. Java writes every scalar with the
/// forms checked here, so most `set` calls skip the core's general reader.
pub(crate) fn is_valid_scalar(doc: &[u8]) -> bool {
    let Some((&marker, rest)) = doc.split_first() else {
        return false;
    };
    let be = |n: usize| {
        rest[..n]
            .iter()
            .fold(0usize, |acc, &b| acc << 8 | usize::from(b))
    };
    match marker {
        // positive fixint, negative fixint, false, true
        0x00..=0x7f | 0xe0..=0xff | 0xc2 | 0xc3 => rest.is_empty(),
        // int8/uint8, int16/uint16, int32/uint32/float32, int64/uint64/float64
        0xcc | 0xd0 => rest.len() == 1,
        0xcd | 0xd1 => rest.len() == 2,
        0xca | 0xce | 0xd2 => rest.len() == 4,
        0xcb | 0xcf | 0xd3 => rest.len() == 8,
        // fixstr, str8, str16, str32: the length, then exactly that much UTF-8
        0xa0..=0xbf => {
            rest.len() == usize::from(marker & 0x1f) && std::str::from_utf8(rest).is_ok()
        }
        0xd9 => {
            rest.len() > 1 && rest.len() - 1 == be(1) && std::str::from_utf8(&rest[1..]).is_ok()
        }
        0xda => {
            rest.len() > 2 && rest.len() - 2 == be(2) && std::str::from_utf8(&rest[2..]).is_ok()
        }
        0xdb => {
            rest.len() > 4 && rest.len() - 4 == be(4) && std::str::from_utf8(&rest[4..]).is_ok()
        }
        // bin8, bin16, bin32: the length, then exactly that many bytes
        0xc4 => !rest.is_empty() && rest.len() - 1 == be(1),
        0xc5 => rest.len() >= 2 && rest.len() - 2 == be(2),
        0xc6 => rest.len() >= 4 && rest.len() - 4 == be(4),
        _ => false,
    }
}

/// Checks that a document of `doc_len` bytes may be stored, before its bytes are copied.
pub(crate) fn check_doc_len(doc_len: usize, max: usize) -> Result<()> {
    Ok(sessionstore::value::check_size(doc_len, max)?)
}

/// Splits a buffer into its key (validated as UTF-8 of at most 1024 bytes) and the rest.
pub(crate) fn split_key(buf: &[u8], key_len: usize) -> Result<(&str, &[u8])> {
    let (key, rest) = buf.split_at(key_len);
    Ok((sessionstore::names::key_from_bytes(key)?, rest))
}

/// Calls `f` with a copy of the bytes of `array`; `what` names it in the null error.
pub(crate) fn with_bytes<R>(
    env: &Env<'_>,
    array: &JByteArray<'_>,
    what: &str,
    f: impl FnOnce(&[u8]) -> Result<R>,
) -> Result<R> {
    if array.is_null() {
        return Err(null(what).into());
    }
    let mut bytes = vec![0u8; array.len(env)?];
    // SAFETY: i8 and u8 have the same size and alignment, and every bit pattern is valid for
    // both; the slice reborrows `bytes` for this call only.
    let signed =
        unsafe { std::slice::from_raw_parts_mut(bytes.as_mut_ptr().cast::<i8>(), bytes.len()) };
    array.get_region(env, 0, signed)?;
    f(&bytes)
}

/// The text of `string`; `what` names it in the null error.
pub(crate) fn string(env: &Env<'_>, string: &JString<'_>, what: &str) -> Result<String> {
    if string.is_null() {
        return Err(null(what).into());
    }
    Ok(string.try_to_string(env)?)
}

/// A new Java `byte[]` holding `bytes`.
pub(crate) fn byte_array<'local>(
    env: &mut Env<'local>,
    bytes: &[u8],
) -> Result<JByteArray<'local>> {
    Ok(env.byte_array_from_slice(bytes)?)
}

#[cfg(test)]
mod tests {
    use super::is_valid_scalar;

    /// Whatever the fast check accepts, the core's full validation accepts too; and it accepts
    /// every scalar form Java writes.
    #[test]
    fn the_scalar_check_never_accepts_what_the_core_refuses() {
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
            let core = sessionstore::value::validate(doc, 1 << 20).is_ok();
            if is_valid_scalar(doc) {
                assert!(
                    core,
                    "the fast check accepted what the core refuses: {doc:x?}"
                );
                accepted += 1;
            } else if doc.len() < 40 && core {
                // Containers and extensions are left to the core.
                assert!(matches!(doc[0], 0x80..=0x9f | 0xd4), "{doc:x?}");
            }
        }
        assert_eq!(accepted, 23);
    }
}
