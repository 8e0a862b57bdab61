//! Stores: the operations of one session's handle. Keys arrive as UTF-8 `byte[]`, values as
//! MessagePack documents in `byte[]`.

use jni::objects::{JByteArray, JClass};
use jni::sys::{jboolean, jint, jlong};
use jni::EnvUnowned;

use crate::args::{byte_array, with_bytes, with_key};
use crate::handles::STORES;
use crate::runner::run;

/// `void storeSet(long store, byte[] key, byte[] document)`: the core validates the document.
#[no_mangle]
pub extern "system" fn Java_io_sessionstore_Native_storeSet<'l>(
    env: EnvUnowned<'l>,
    _class: JClass<'l>,
    store: jlong,
    key: JByteArray<'l>,
    document: JByteArray<'l>,
) {
    run(env, |env| {
        let store = STORES.get(store)?;
        with_key(env, &key, |key| {
            with_bytes(env, &document, "value", |doc| Ok(store.set(key, doc)?))
        })
    })
}

/// `byte[] storeGet(long store, byte[] key)`: the document, or `null` when the key is missing.
#[no_mangle]
pub extern "system" fn Java_io_sessionstore_Native_storeGet<'l>(
    env: EnvUnowned<'l>,
    _class: JClass<'l>,
    store: jlong,
    key: JByteArray<'l>,
) -> JByteArray<'l> {
    run(env, |env| {
        let store = STORES.get(store)?;
        let doc = with_key(env, &key, |key| Ok(store.get(key)?))?;
        match doc {
            Some(doc) => byte_array(env, &doc),
            None => Ok(JByteArray::default()),
        }
    })
}

/// `boolean storeHas(long store, byte[] key)`.
#[no_mangle]
pub extern "system" fn Java_io_sessionstore_Native_storeHas<'l>(
    env: EnvUnowned<'l>,
    _class: JClass<'l>,
    store: jlong,
    key: JByteArray<'l>,
) -> jboolean {
    run(env, |env| {
        let store = STORES.get(store)?;
        with_key(env, &key, |key| Ok(store.has(key)?))
    })
}

/// `boolean storeDel(long store, byte[] key)`: whether the key had a value.
#[no_mangle]
pub extern "system" fn Java_io_sessionstore_Native_storeDel<'l>(
    env: EnvUnowned<'l>,
    _class: JClass<'l>,
    store: jlong,
    key: JByteArray<'l>,
) -> jboolean {
    run(env, |env| {
        let store = STORES.get(store)?;
        with_key(env, &key, |key| Ok(store.del(key)?))
    })
}

/// `int storeSize(long store)`: the number of keys, capped at `Integer.MAX_VALUE`.
#[no_mangle]
pub extern "system" fn Java_io_sessionstore_Native_storeSize<'l>(
    env: EnvUnowned<'l>,
    _class: JClass<'l>,
    store: jlong,
) -> jint {
    run(env, |_env| {
        let len = STORES.get(store)?.len()?;
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
        let keys = STORES.get(store)?.keys_encoded()?;
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
        let all = STORES.get(store)?.get_all_encoded()?;
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
        let store = STORES.get(store)?;
        with_bytes(env, &map_document, "map", |doc| {
            Ok(store.set_many_encoded(doc)?)
        })
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
    run(env, |_env| Ok(STORES.get(store)?.destroy()?))
}

/// `boolean storeIsDestroyed(long store)`: whether this handle destroyed or saw its session
/// destroyed.
#[no_mangle]
pub extern "system" fn Java_io_sessionstore_Native_storeIsDestroyed<'l>(
    env: EnvUnowned<'l>,
    _class: JClass<'l>,
    store: jlong,
) -> jboolean {
    run(env, |_env| Ok(STORES.get(store)?.is_destroyed()))
}

/// `void storeRelease(long store)`: frees the handle; the data stays. A call running on the
/// handle at the same time finishes on its own reference.
#[no_mangle]
pub extern "system" fn Java_io_sessionstore_Native_storeRelease<'l>(
    env: EnvUnowned<'l>,
    _class: JClass<'l>,
    store: jlong,
) {
    run(env, |_env| {
        STORES.remove(store)?;
        Ok(())
    })
}
