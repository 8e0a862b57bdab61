//! The asyncio [`Exec`]: a remote call becomes one boxed [`Call`] that a pool worker runs
//! without the GIL and posts to the calling loop's [`Channel`]; the loop's reader resolves the
//! future that the caller's [`Pending`] waits on. No thread per call, no polling.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyWeakrefMethods, PyWeakrefReference};
use sessionstore::Result as CoreResult;

use super::awaitable::Pending;
use super::channel::{self, Channel, Complete};
use super::pool::{Job, Pool};
use super::ready;
use super::store::AsyncStore;
use crate::errors::{self, IntoPy};
use crate::exec::{Exec, Finish};
use crate::handle::StoreHandle;

/// One call in flight: its work (until run), then its output, and where the answer goes.
struct Call<W, R, F> {
    work: Option<W>,
    output: Option<CoreResult<R>>,
    finish: F,
    /// Weak: a finished call queued for a loop that is gone must not keep that loop alive
    /// through its future (the loop holds the channel, the channel its queue). Whoever awaits
    /// the call holds the future.
    future: Py<PyWeakrefReference>,
    /// Taken when the call is posted: a queued call holding its own channel would keep a
    /// channel whose loop is gone (and its fd) alive for ever.
    channel: Option<Arc<Channel>>,
}

impl<W, R, F> Job for Call<W, R, F>
where
    W: FnOnce() -> CoreResult<R> + Send + 'static,
    R: Send + 'static,
    F: Finish<R>,
{
    fn run(mut self: Box<Self>) {
        if let Some(work) = self.work.take() {
            // A panic must not take the worker down with the caller's future unresolved.
            let output = catch_unwind(AssertUnwindSafe(work))
                .unwrap_or_else(|panic| Err(errors::panicked(&*panic)));
            self.output = Some(output);
        }
        if let Some(channel) = self.channel.take() {
            channel.post(self);
        }
    }
}

impl<W, R, F> Complete for Call<W, R, F>
where
    W: FnOnce() -> CoreResult<R> + Send + 'static,
    R: Send + 'static,
    F: Finish<R>,
{
    fn complete(self: Box<Self>, py: Python<'_>) {
        let Call {
            output,
            finish,
            future,
            ..
        } = *self;
        // Nobody awaits it any more, or its task cancelled it: the answer is dropped (a store
        // it opened is released).
        let Some(future) = future.bind(py).upgrade() else {
            return;
        };
        let future = &future;
        let resolved = (|| -> PyResult<()> {
            if future.call_method0(intern!(py, "done"))?.is_truthy()? {
                return Ok(());
            }
            let answer = output
                .unwrap_or_else(|| Err(errors::panicked(&"a call completed without running")))
                .py_err(py)
                .and_then(|r| finish(py, r));
            match answer {
                Ok(value) => future.call_method1(intern!(py, "set_result"), (value,))?,
                Err(error) => {
                    future.call_method1(intern!(py, "set_exception"), (error.into_value(py),))?
                }
            };
            Ok(())
        })();
        if let Err(error) = resolved {
            // Only a broken future could refuse; the other calls of the batch still go on.
            error.write_unraisable(py, Some(future));
        }
    }
}

static GET_RUNNING_LOOP: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

fn running_loop(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    let get = GET_RUNNING_LOOP.get_or_try_init(py, || -> PyResult<_> {
        Ok(py.import("asyncio")?.getattr("get_running_loop")?.unbind())
    })?;
    // RuntimeError("no running event loop") outside a coroutine: the error asyncio gives.
    get.bind(py).call0()
}

/// Submits `work` to `pool`, its answer going to a new future of `event_loop` (returned).
fn start<R: Send + 'static>(
    pool: &Pool,
    py: Python<'_>,
    event_loop: &Bound<'_, PyAny>,
    work: impl FnOnce() -> CoreResult<R> + Send + 'static,
    finish: impl Finish<R>,
) -> PyResult<Py<PyAny>> {
    let channel = channel::of(py, event_loop)?;
    let future = event_loop
        .call_method0(intern!(py, "create_future"))?
        .unbind();
    pool.submit(Box::new(Call {
        work: Some(work),
        output: None,
        finish,
        future: PyWeakrefReference::new(future.bind(py))?.unbind(),
        channel: Some(channel),
    }));
    Ok(future)
}

impl Exec for Pool {
    fn done<'py>(
        &self,
        py: Python<'py>,
        result: PyResult<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        match result {
            Ok(value) => ready::ready(py, value),
            Err(error) => Pending::ready(py, Err(error)),
        }
    }

    fn blocking<'py, R: Send + 'static>(
        &self,
        py: Python<'py>,
        work: impl FnOnce() -> CoreResult<R> + Send + 'static,
        finish: impl Finish<R>,
    ) -> PyResult<Bound<'py, PyAny>> {
        match running_loop(py) {
            Ok(event_loop) => {
                let future = start(self, py, &event_loop, work, finish)?;
                Pending::waiting(py, future)
            }
            // Called before any loop runs, as in `asyncio.run(factory.close())`: the call starts
            // when first awaited, on the loop that awaits it.
            Err(_) => {
                let pool = self.clone();
                Pending::deferred(
                    py,
                    Box::new(move |py: Python<'_>| {
                        start(&pool, py, &running_loop(py)?, work, finish)
                    }),
                )
            }
        }
    }

    fn store_maker(&self) -> impl Finish<StoreHandle> {
        let pool = self.clone();
        move |py: Python<'_>, handle: StoreHandle| {
            Ok(Py::new(py, AsyncStore::new(handle, pool))?.into_any())
        }
    }
}
