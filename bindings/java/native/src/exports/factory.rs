//! Factories: open, close, describe, destroy a session, open a store.

use jni::objects::{JByteArray, JClass, JString};
use jni::sys::jlong;
use jni::EnvUnowned;
use sessionstore::bridge;

use crate::args::{byte_array, string};
use crate::handles::with_factory;
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
        Ok(bridge::open_factory(&url)? as jlong)
    })
}

/// `void factoryClose(long factory)`: closes the factory and frees what it holds. Its handle
/// and every store of it then answer `FactoryClosedException`; closing again is a no-op.
#[no_mangle]
pub extern "system" fn Java_io_sessionstore_Native_factoryClose<'l>(
    env: EnvUnowned<'l>,
    _class: JClass<'l>,
    factory: jlong,
) {
    run(env, |_env| Ok(bridge::close_factory(factory as u64)?))
}

/// `byte[] factoryDescribe(long factory)`: the url with its password redacted, as UTF-8.
#[no_mangle]
pub extern "system" fn Java_io_sessionstore_Native_factoryDescribe<'l>(
    env: EnvUnowned<'l>,
    _class: JClass<'l>,
    factory: jlong,
) -> JByteArray<'l> {
    run(env, |env| {
        let url = with_factory(factory, |f| f.config().redacted_url())?;
        byte_array(env, url.as_bytes())
    })
}

/// `byte[] factoryStats(long factory)`: the factory's counters, as one MessagePack map.
#[no_mangle]
pub extern "system" fn Java_io_sessionstore_Native_factoryStats<'l>(
    env: EnvUnowned<'l>,
    _class: JClass<'l>,
    factory: jlong,
) -> JByteArray<'l> {
    run(env, |env| {
        let stats = with_factory(factory, |f| f.stats().map(|s| s.encode()))??;
        byte_array(env, &stats)
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
        with_factory(factory, |factory| {
            let sid = string(env, &session_id, "session id")?;
            Ok(factory.destroy_session(sid)?)
        })?
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
        let sid = string(env, &session_id, "session id")?;
        Ok(bridge::open_store(factory as u64, sid.as_bytes())? as jlong)
    })
}
