//! The one runner every export goes through: it catches panics and throws the Java exception
//! for the error's kind. [`exception_class`] is the only place that maps a kind to a class.

use std::any::Any;

use jni::errors::ErrorPolicy;
use jni::strings::{JNIStr, JNIString};
use jni::{jni_str, Env, EnvUnowned};
use sessionstore::{bridge, Error, ErrorKind};

/// Why an export failed: the core said no, or a JNI call did.
pub(crate) enum Failure {
    Core(Error),
    Jni(jni::errors::Error),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Core(e)
    }
}

impl From<jni::errors::Error> for Failure {
    fn from(e: jni::errors::Error) -> Self {
        Failure::Jni(e)
    }
}

pub(crate) type Result<T> = std::result::Result<T, Failure>;

/// Runs an export's body: its value on success; on an error or a panic, the Java exception of
/// its kind is pending and the (ignored) return value is the type's default.
pub(crate) fn run<'local, T: Default>(
    mut env: EnvUnowned<'local>,
    body: impl FnOnce(&mut Env<'local>) -> Result<T>,
) -> T {
    env.with_env(body).resolve::<ThrowForKind>()
}

/// Runs a hot export's body on the raw environment (see [`RawEnv`](crate::args::RawEnv)):
/// no `jni` wrapper on the way in, the same panic catching and the same exceptions as [`run`]
/// on the way out. jni-rs checks for a pending exception before and after each call it makes,
/// and each check is a JVM state transition: on `get` and `set` that was most of the time.
pub(crate) fn run_fast<'local, T: Default>(
    mut env: EnvUnowned<'local>,
    body: impl FnOnce(crate::args::RawEnv) -> Result<T>,
) -> T {
    let raw = crate::args::RawEnv::new(env.as_raw());
    let failure = match bridge::catch(|| Ok(body(raw))) {
        Ok(Ok(value)) => return value,
        Ok(Err(failure)) => failure,
        Err(panic) => Failure::Core(panic),
    };
    env.with_env(|_env| Err::<T, Failure>(failure))
        .resolve::<ThrowForKind>()
}

/// The Java exception class of each error kind: the only such mapping of the binding.
pub(crate) fn exception_class(kind: ErrorKind) -> &'static JNIStr {
    match kind {
        ErrorKind::NullArg => jni_str!("java/lang/NullPointerException"),
        ErrorKind::InvalidArg | ErrorKind::TooLarge | ErrorKind::Config | ErrorKind::Type => {
            jni_str!("java/lang/IllegalArgumentException")
        }
        ErrorKind::InvalidHandle => jni_str!("java/lang/IllegalStateException"),
        ErrorKind::Destroyed => jni_str!("io/sessionstore/StoreDestroyedException"),
        ErrorKind::Closed => jni_str!("io/sessionstore/FactoryClosedException"),
        ErrorKind::Timeout => jni_str!("io/sessionstore/StoreTimeoutException"),
        // Backend, Internal (a caught panic) and any kind a later core adds.
        _ => jni_str!("io/sessionstore/StoreBackendException"),
    }
}

/// A JNI failure as a core error, so that it goes through the same mapping.
fn jni_error(e: &jni::errors::Error) -> Error {
    match e {
        jni::errors::Error::NullPtr(what) => bridge::null(what),
        other => Error::new(
            ErrorKind::Internal,
            format!("a JNI call of sessionstore failed: {other}"),
        ),
    }
}

fn throw(env: &mut Env<'_>, error: &Error) {
    if env.exception_check() {
        // A Java exception raised inside the body (e.g. an OutOfMemoryError) goes first.
        return;
    }
    let message = JNIString::from(error.message());
    if env
        .throw_new(exception_class(error.kind()), &message)
        .is_ok()
        || env.exception_check()
    {
        return;
    }
    // The class could not be thrown (a broken class path): never return without an exception.
    let _ = env.throw_new(jni_str!("java/lang/RuntimeException"), &message);
}

struct ThrowForKind;

impl<T: Default> ErrorPolicy<T, Failure> for ThrowForKind {
    type Captures<'unowned_env_local: 'native_method, 'native_method> = ();

    fn on_error<'unowned_env_local: 'native_method, 'native_method>(
        env: &mut Env<'unowned_env_local>,
        _cap: &mut (),
        err: Failure,
    ) -> jni::errors::Result<T> {
        match err {
            Failure::Core(e) => throw(env, &e),
            Failure::Jni(e) => throw(env, &jni_error(&e)),
        }
        Ok(T::default())
    }

    fn on_panic<'unowned_env_local: 'native_method, 'native_method>(
        env: &mut Env<'unowned_env_local>,
        _cap: &mut (),
        payload: Box<dyn Any + Send + 'static>,
    ) -> jni::errors::Result<T> {
        throw(env, &bridge::panic_error(&*payload));
        // A payload whose drop panics must not unwind into the JVM.
        std::mem::forget(payload);
        Ok(T::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_class() {
        let kinds = [
            (ErrorKind::NullArg, "java/lang/NullPointerException"),
            (ErrorKind::InvalidArg, "java/lang/IllegalArgumentException"),
            (ErrorKind::TooLarge, "java/lang/IllegalArgumentException"),
            (ErrorKind::Config, "java/lang/IllegalArgumentException"),
            (ErrorKind::Type, "java/lang/IllegalArgumentException"),
            (ErrorKind::InvalidHandle, "java/lang/IllegalStateException"),
            (
                ErrorKind::Destroyed,
                "io/sessionstore/StoreDestroyedException",
            ),
            (ErrorKind::Closed, "io/sessionstore/FactoryClosedException"),
            (ErrorKind::Backend, "io/sessionstore/StoreBackendException"),
            (ErrorKind::Timeout, "io/sessionstore/StoreTimeoutException"),
            (ErrorKind::Internal, "io/sessionstore/StoreBackendException"),
        ];
        for (kind, class) in kinds {
            assert_eq!(exception_class(kind).to_str(), class, "{kind:?}");
        }
    }

    #[test]
    fn jni_errors_become_core_errors() {
        let e = jni_error(&jni::errors::Error::NullPtr("key"));
        assert_eq!(e.kind(), ErrorKind::NullArg);
    }
}
