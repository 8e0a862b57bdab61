//! Factories: open, close, describe, destroy a session, open a store.

use jni::objects::{JByteArray, JClass, JString};
use jni::sys::jlong;
use jni::EnvUnowned;
use sessionstore::StoreFactory;

use crate::args::{byte_array, string};
use crate::handles::{StoreEntry, FACTORIES, STORES};
use crate::runner::run;

/// `long factoryOpen(String url)`: a new factory handle.
#[no_mangle]
pub extern "system" fn Java_io_sessionstore_Native_factoryOpen<'l>(
    env: EnvUnowned<'l>,
    _class: JClass<'l>,
    url: JString<'l>,
) -> jlong {
    run(env, |env| {
        let url = string(env, &url, "url")?;
        let factory = StoreFactory::open(&url)?;
        Ok(FACTORIES.insert(factory))
    })
}

/// `void factoryClose(long factory)`: closes the factory and frees its handle. Every store of
/// it then answers `FactoryClosedException`.
#[no_mangle]
pub extern "system" fn Java_io_sessionstore_Native_factoryClose<'l>(
    env: EnvUnowned<'l>,
    _class: JClass<'l>,
    factory: jlong,
) {
    run(env, |_env| {
        FACTORIES.remove(factory)?.close();
        Ok(())
    })
}

/// `byte[] factoryDescribe(long factory)`: the url with its password redacted, as UTF-8.
#[no_mangle]
pub extern "system" fn Java_io_sessionstore_Native_factoryDescribe<'l>(
    env: EnvUnowned<'l>,
    _class: JClass<'l>,
    factory: jlong,
) -> JByteArray<'l> {
    run(env, |env| {
        let factory = FACTORIES.get(factory)?;
        byte_array(env, factory.config().redacted_url().as_bytes())
    })
}

/// `void factoryDestroySession(long factory, String sessionId)`.
#[no_mangle]
pub extern "system" fn Java_io_sessionstore_Native_factoryDestroySession<'l>(
    env: EnvUnowned<'l>,
    _class: JClass<'l>,
    factory: jlong,
    session_id: JString<'l>,
) {
    run(env, |env| {
        let factory = FACTORIES.get(factory)?;
        let sid = string(env, &session_id, "session id")?;
        Ok(factory.destroy_session(sid)?)
    })
}

/// `long storeOpen(long factory, String sessionId)`: a new store handle on the session.
#[no_mangle]
pub extern "system" fn Java_io_sessionstore_Native_storeOpen<'l>(
    env: EnvUnowned<'l>,
    _class: JClass<'l>,
    factory: jlong,
    session_id: JString<'l>,
) -> jlong {
    run(env, |env| {
        let factory = FACTORIES.get(factory)?;
        let sid = string(env, &session_id, "session id")?;
        let store = factory.create_store(sid)?;
        let leased = factory.config().ttl.is_some();
        Ok(STORES.insert(StoreEntry::new(store, leased)))
    })
}
