//! The library's version and constants, and the boundary self-tests the Java suite calls to
//! check that a panic and every error kind become their Java exception.

use jni::objects::{JByteArray, JClass, JString};
use jni::sys::jint;
use jni::EnvUnowned;
use sessionstore::{Error, ErrorKind};

use crate::args::{byte_array, string};
use crate::runner::run;

/// `byte[] version()`: the core's version, as UTF-8.
#[no_mangle]
pub extern "system" fn Java_io_sessionstore_Native_version<'l>(
    env: EnvUnowned<'l>,
    _class: JClass<'l>,
) -> JByteArray<'l> {
    run(env, |env| byte_array(env, sessionstore::VERSION.as_bytes()))
}

/// `int maxDepth()`: the deepest nesting of arrays and maps a value may have.
#[no_mangle]
pub extern "system" fn Java_io_sessionstore_Native_maxDepth<'l>(
    env: EnvUnowned<'l>,
    _class: JClass<'l>,
) -> jint {
    run(env, |_env| {
        Ok(jint::try_from(sessionstore::value::MAX_DEPTH).unwrap_or(jint::MAX))
    })
}

/// `void selfTestPanic()`: panics, so a test can see the panic become an exception.
#[no_mangle]
pub extern "system" fn Java_io_sessionstore_Native_selfTestPanic<'l>(
    env: EnvUnowned<'l>,
    _class: JClass<'l>,
) {
    run(env, |_env| -> crate::runner::Result<()> {
        panic!("self-test panic")
    })
}

/// `void selfTestFail(String kind)`: fails with the core error kind named `kind` (its Rust
/// name, e.g. `"Timeout"`), so a test can check the exception of every kind.
#[no_mangle]
pub extern "system" fn Java_io_sessionstore_Native_selfTestFail<'l>(
    env: EnvUnowned<'l>,
    _class: JClass<'l>,
    kind: JString<'l>,
) {
    run(env, |env| {
        let name = string(env, &kind, "kind")?;
        let kind = ErrorKind::from_name(&name)
            .ok_or_else(|| Error::new(ErrorKind::InvalidArg, format!("no kind {name:?}")))?;
        Err(Error::new(kind, format!("self-test {name}")).into())
    })
}
