//! Stores: the operations of one session's handle. Keys arrive as UTF-8, values as MessagePack
//! documents; the hot operations share one buffer (see [`crate::args`]).

use jni::objects::{JByteArray, JClass};
use jni::sys::{jboolean, jbyteArray, jint, jlong};
use jni::EnvUnowned;

use crate::args::{
    byte_array, check_bounds, check_doc_len, split_key, with_bytes, with_scratch, RawEnv,
};
use crate::handles::with_store;
use crate::runner::Result;
use crate::runner::{run, run_fast};
use sessionstore::{bridge, Error, ErrorKind, Store};

/// `void storeSet(long store, byte[] buffer, int keyLength, int length)`: the key is
/// `buffer[0, keyLength)`, the document `buffer[keyLength, length)`; the core validates it.
#[no_mangle]
pub extern "system" fn Java_io_sessionstore_Native_storeSet<'l>(
    env: EnvUnowned<'l>,
    _class: JClass<'l>,
    store: jlong,
    buffer: jbyteArray,
    key_len: jint,
    len: jint,
) {
    run_fast(env, |raw| {
        check_bounds(key_len, len)?;
        with_store(store, |store| {
            check_doc_len((len - key_len) as usize, store.max_value_bytes())?;
            with_scratch(len as usize, |input, _| {
                raw.read(buffer, input)?;
                let (key, doc) = split_key(input, key_len as usize)?;
                Ok(store.set(key, doc)?)
            })
        })?
    })
}

/// `int storeGet(long store, byte[] buffer, int keyLength, int capacity)`: writes the document
/// of the key `buffer[0, keyLength)` to the front of `buffer` (`capacity` bytes long) and
/// answers its length; -1 when the key has no value; `-(2 + n)` when the document is `n`
/// bytes, more than `capacity` (then nothing is written: call again with a larger buffer).
#[no_mangle]
pub extern "system" fn Java_io_sessionstore_Native_storeGet<'l>(
    env: EnvUnowned<'l>,
    _class: JClass<'l>,
    store: jlong,
    buffer: jbyteArray,
    key_len: jint,
    capacity: jint,
) -> jint {
    run_fast(env, |raw| {
        check_bounds(key_len, capacity)?;
        let capacity = capacity as usize;
        with_scratch(key_len as usize, |input, output| {
            raw.read(buffer, input)?;
            let (key, _) = split_key(input, key_len as usize)?;
            let answer = get_into(store, key, capacity, output)?;
            if answer >= 0 {
                raw.write(buffer, output);
            }
            Ok(answer)
        })
    })
}

/// The answer of `storeGet`/`storeGetSmall` for `key`: -1 when it has no value; its
/// document's length when that fits in `capacity` (the document is then in `output`, for the
/// caller to write to its buffer); `-(2 + n)` for an `n`-byte document past `capacity`.
/// The document is copied out first: no JNI call runs while the backend lends the value.
fn get_into(store: jlong, key: &str, capacity: usize, output: &mut Vec<u8>) -> Result<jint> {
    let found = with_store(store, |store| {
        store.get_with(key, |doc| {
            if doc.len() <= capacity {
                output.extend_from_slice(doc);
            }
            doc.len()
        })
    })??;
    Ok(match found {
        None => -1,
        Some(len) if len <= capacity => len as jint,
        Some(needed) => -2 - jint::try_from(needed).unwrap_or(jint::MAX - 2),
    })
}

/// Runs `f` on the key that is the first `key_len` bytes of the Java `buffer`.
fn with_buffer_key<R>(
    raw: RawEnv,
    buffer: jbyteArray,
    key_len: jint,
    f: impl FnOnce(&str) -> Result<R>,
) -> Result<R> {
    check_bounds(key_len, key_len)?;
    with_scratch(key_len as usize, |input, _| {
        raw.read(buffer, input)?;
        f(split_key(input, key_len as usize)?.0)
    })
}

/// Runs `f` on a key of at most 16 bytes passed in two words (see [`small`]).
fn with_small_key<R>(
    words: [jlong; 2],
    key_len: jint,
    f: impl FnOnce(&str) -> Result<R>,
) -> Result<R> {
    let bytes = small(words, key_len, key_len)?;
    f(split_key(&bytes[..key_len as usize], key_len as usize)?.0)
}

/// `boolean storeHas(long store, byte[] buffer, int keyLength)`.
#[no_mangle]
pub extern "system" fn Java_io_sessionstore_Native_storeHas<'l>(
    env: EnvUnowned<'l>,
    _class: JClass<'l>,
    store: jlong,
    buffer: jbyteArray,
    key_len: jint,
) -> jboolean {
    run_fast(env, |raw| {
        with_buffer_key(raw, buffer, key_len, |key| {
            Ok(with_store(store, |store| store.has(key))??)
        })
    })
}

/// `boolean storeDel(long store, byte[] buffer, int keyLength)`: whether the key had a value.
#[no_mangle]
pub extern "system" fn Java_io_sessionstore_Native_storeDel<'l>(
    env: EnvUnowned<'l>,
    _class: JClass<'l>,
    store: jlong,
    buffer: jbyteArray,
    key_len: jint,
) -> jboolean {
    run_fast(env, |raw| {
        with_buffer_key(raw, buffer, key_len, |key| {
            Ok(with_store(store, |store| store.del(key))??)
        })
    })
}

/// `int storeSize(long store)`: the number of keys, capped at `Integer.MAX_VALUE`.
#[no_mangle]
pub extern "system" fn Java_io_sessionstore_Native_storeSize<'l>(
    env: EnvUnowned<'l>,
    _class: JClass<'l>,
    store: jlong,
) -> jint {
    run_fast(env, |_raw| {
        let len = with_store(store, |store| store.len())??;
        Ok(jint::try_from(len).unwrap_or(jint::MAX))
    })
}

/// `byte[] storeKeys(long store)`: every key, as a MessagePack array of str.
#[no_mangle]
pub extern "system" fn Java_io_sessionstore_Native_storeKeys<'l>(
    env: EnvUnowned<'l>,
    _class: JClass<'l>,
    store: jlong,
) -> JByteArray<'l> {
    run(env, |env| {
        let keys = with_store(store, Store::keys_encoded)??;
        byte_array(env, &keys)
    })
}

/// `byte[] storeGetAll(long store)`: every entry, as one MessagePack map.
#[no_mangle]
pub extern "system" fn Java_io_sessionstore_Native_storeGetAll<'l>(
    env: EnvUnowned<'l>,
    _class: JClass<'l>,
    store: jlong,
) -> JByteArray<'l> {
    run(env, |env| {
        let all = with_store(store, Store::get_all_encoded)??;
        byte_array(env, &all)
    })
}

/// `void storeSetAll(long store, byte[] mapDocument)`: every entry of the map, all or nothing.
#[no_mangle]
pub extern "system" fn Java_io_sessionstore_Native_storeSetAll<'l>(
    env: EnvUnowned<'l>,
    _class: JClass<'l>,
    store: jlong,
    map_document: JByteArray<'l>,
) {
    run(env, |env| {
        with_store(store, |store| {
            with_bytes(env, &map_document, "map", |doc| {
                Ok(store.set_many_encoded(doc)?)
            })
        })?
    })
}

/// `void storeDestroy(long store)`: deletes the session's data; every handle on it then
/// answers `StoreDestroyedException`.
#[no_mangle]
pub extern "system" fn Java_io_sessionstore_Native_storeDestroy<'l>(
    env: EnvUnowned<'l>,
    _class: JClass<'l>,
    store: jlong,
) {
    run(env, |_env| Ok(with_store(store, Store::destroy)??))
}

/// `boolean storeIsDestroyed(long store)`: whether this handle destroyed or saw its session
/// destroyed.
#[no_mangle]
pub extern "system" fn Java_io_sessionstore_Native_storeIsDestroyed<'l>(
    env: EnvUnowned<'l>,
    _class: JClass<'l>,
    store: jlong,
) -> jboolean {
    run(env, |_env| Ok(with_store(store, Store::is_destroyed)?))
}

/// `void storeRelease(long store)`: frees the handle; the data stays. A call running on the
/// handle at the same time finishes first.
#[no_mangle]
pub extern "system" fn Java_io_sessionstore_Native_storeRelease<'l>(
    env: EnvUnowned<'l>,
    _class: JClass<'l>,
    store: jlong,
) {
    run(env, |_env| Ok(bridge::release_store(store as u64)?))
}

/// The key and document of a small call, passed in registers: `words` hold the bytes
/// little-endian, of which the first `len` count.
fn small<const N: usize>(words: [jlong; N], key_len: jint, len: jint) -> Result<[u8; 24]> {
    check_bounds(key_len, len)?;
    if len as usize > N * 8 {
        return Err(Error::new(
            ErrorKind::InvalidArg,
            format!("a small call carries at most {} bytes, got {len}", N * 8),
        )
        .into());
    }
    let mut bytes = [0u8; 24];
    for (chunk, word) in bytes.chunks_exact_mut(8).zip(words) {
        chunk.copy_from_slice(&word.to_le_bytes());
    }
    Ok(bytes)
}

/// `void storeSetSmall(long store, long w0, long w1, long w2, int keyLength, int length)`:
/// `storeSet` for a key and document of at most 24 bytes together, passed in the three words
/// (little-endian): no JNI call at all on the way in.
#[no_mangle]
pub extern "system" fn Java_io_sessionstore_Native_storeSetSmall<'l>(
    env: EnvUnowned<'l>,
    _class: JClass<'l>,
    store: jlong,
    w0: jlong,
    w1: jlong,
    w2: jlong,
    key_len: jint,
    len: jint,
) {
    run_fast(env, |_raw| {
        let bytes = small([w0, w1, w2], key_len, len)?;
        let (key, doc) = split_key(&bytes[..len as usize], key_len as usize)?;
        with_store(store, |store| store.set(key, doc))??;
        Ok(())
    })
}

/// `int storeGetSmall(long store, byte[] buffer, long w0, long w1, int keyLength, int capacity)`:
/// `storeGet` for a key of at most 16 bytes passed in the two words (little-endian); the
/// document is written to `buffer` as by `storeGet`.
#[no_mangle]
pub extern "system" fn Java_io_sessionstore_Native_storeGetSmall<'l>(
    env: EnvUnowned<'l>,
    _class: JClass<'l>,
    store: jlong,
    buffer: jbyteArray,
    w0: jlong,
    w1: jlong,
    key_len: jint,
    capacity: jint,
) -> jint {
    run_fast(env, |raw| {
        check_bounds(0, capacity)?;
        with_small_key([w0, w1], key_len, |key| {
            with_scratch(0, |_, output| {
                let answer = get_into(store, key, capacity as usize, output)?;
                if answer >= 0 {
                    raw.write_checked(buffer, output)?;
                }
                Ok(answer)
            })
        })
    })
}

/// `boolean storeHasSmall(long store, long w0, long w1, int keyLength)`: `storeHas` for a key
/// of at most 16 bytes passed in the two words.
#[no_mangle]
pub extern "system" fn Java_io_sessionstore_Native_storeHasSmall<'l>(
    env: EnvUnowned<'l>,
    _class: JClass<'l>,
    store: jlong,
    w0: jlong,
    w1: jlong,
    key_len: jint,
) -> jboolean {
    run_fast(env, |_raw| {
        with_small_key([w0, w1], key_len, |key| {
            Ok(with_store(store, |store| store.has(key))??)
        })
    })
}

/// `boolean storeDelSmall(long store, long w0, long w1, int keyLength)`: `storeDel` for a key
/// of at most 16 bytes passed in the two words.
#[no_mangle]
pub extern "system" fn Java_io_sessionstore_Native_storeDelSmall<'l>(
    env: EnvUnowned<'l>,
    _class: JClass<'l>,
    store: jlong,
    w0: jlong,
    w1: jlong,
    key_len: jint,
) -> jboolean {
    run_fast(env, |_raw| {
        with_small_key([w0, w1], key_len, |key| {
            Ok(with_store(store, |store| store.del(key))??)
        })
    })
}
