//! Factories: open, close, describe, destroy a session, open a store.

use jni::objects::{JByteArray, JClass, JString};
use jni::sys::jlong;
use jni::EnvUnowned;
use sessionstore::StoreFactory;

use crate::args::{byte_array, string};
use crate::handles::{insert_factory, insert_store, remove_factory, with_factory};
use crate::runner::{run, Result};

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
        Ok(insert_factory(factory)?)
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
        remove_factory(factory)?.close();
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
        let url = with_factory(factory, |f| f.config().redacted_url())?;
        byte_array(env, url.as_bytes())
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
        let store = with_factory(factory, |factory| -> Result<_> {
            let sid = string(env, &session_id, "session id")?;
            Ok(factory.create_store(sid)?)
        })??;
        Ok(insert_store(store)?)
    })
}
