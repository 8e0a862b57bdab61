"""sessionstore.AsyncStoreFactory / AsyncStore (docs/API.md section 9) on every backend url: every
call and error, the lifecycle, several event loops over one factory, cancellation mid-call on
a SIGSTOPped redis-server, and a loop that keeps running while calls wait."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest
from servers import (
    is_memory,
    raw_keys,
    redis_process,
    unique_prefix,
    wait_for,
    wait_for_async,
    with_options,
)

import sessionstore as ss

T = TypeVar("T")


def run(main: Callable[[], Awaitable[T]]) -> T:
    """Runs `main()` on a fresh event loop (a test per loop, as pytest-asyncio does)."""

    async def body() -> T:
        return await main()

    return asyncio.run(body())


def sid() -> str:
    return str(uuid.uuid4())


def test_every_call(url: str) -> None:
    async def main() -> None:
        async with ss.AsyncStoreFactory(url) as factory:
            assert not factory.closed and factory.url.split("://")[0] == (url.split("://")[0] or "memory")
            s = sid()
            store = await factory.create_store(uuid.UUID(s))
            assert isinstance(store, ss.AsyncStore) and store.session_id == s
            assert await store.get("userId") is None and await store.get("userId", 0) == 0
            await store.set("userId", 42)
            await store.set("claims", {"role": "admin", "tenants": ["acme"], "t": (1, 2)})
            assert await store.get("userId") == 42
            assert await store.get("claims") == {"role": "admin", "tenants": ["acme"], "t": [1, 2]}
            assert await store.has("userId") and not await store.has("nope")
            assert await store.size() == 2
            assert sorted(await store.keys()) == ["claims", "userId"]
            await store.update({"a": 1}, b=b"\x00raw")
            assert dict(await store.items())["b"] == b"\x00raw"
            values = await store.values()
            assert len(values) == 4 and 42 in values and b"\x00raw" in values
            assert await store.delete("a") is True and await store.delete("a") is False
            # A tuple answer stays one value (get's default is returned as given).
            assert await store.get("missing", (1, 2)) == (1, 2)
            # asyncio takes the calls as coroutines.
            assert await asyncio.create_task(store.get("userId")) == 42
            assert await asyncio.gather(store.get("userId"), store.has("b")) == [42, True]
            assert await asyncio.wait_for(store.size(), 30) == 3
            # A second handle on the same session, through async with.
            async with await factory.create_store(s) as again:
                assert await again.get("userId") == 42
            assert again.closed and not store.closed
            # The sync API sees the same session (one backend).
            assert not store.destroyed
            await factory.destroy_session(s)
            with pytest.raises(ss.StoreDestroyedError):
                await store.get("userId")
            assert store.destroyed
            await store.close()
            assert store.closed and "closed=True" in repr(store)
            with pytest.raises(ss.StoreError, match="closed"):
                await store.get("userId")
            await store.close()  # twice: a no-op
        assert factory.closed and "closed=True" in repr(factory)

    run(main)


def test_errors(url: str) -> None:
    async def main() -> None:
        with pytest.raises(ss.ConfigError):
            ss.AsyncStoreFactory("redis://127.0.0.1:1/0?bogus=1")
        with pytest.raises(ValueError):
            ss.AsyncStoreFactory(url, workers=0)
        factory = ss.AsyncStoreFactory(with_options(url, max_value_bytes=64))
        store = await factory.create_store(sid())
        with pytest.raises(TypeError):
            await store.set("k", None)
        with pytest.raises(TypeError):
            await store.set("k", object())
        with pytest.raises(ss.InvalidArgumentError):
            await store.set("k" * 2000, 1)
        with pytest.raises(ss.ValueTooLargeError):
            await store.set("k", "x" * 100)
        with pytest.raises(ss.InvalidArgumentError):
            await factory.create_store("bad id!")
        with pytest.raises(TypeError):
            await factory.create_store(42)  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            await store.update({1: "x"})  # type: ignore[dict-item]
        assert await store.size() == 0  # nothing of a failed batch was stored
        await store.destroy()
        await store.destroy()  # destroying twice is a no-op
        await factory.close()
        await factory.close()
        for call in (lambda: factory.create_store(sid()), lambda: factory.destroy_session(sid())):
            with pytest.raises(ss.FactoryClosedError):
                await call()
        with pytest.raises(ss.FactoryClosedError):
            await store.get("k")

    run(main)


def test_pickle_opt_in(url: str) -> None:
    async def main() -> None:
        async with ss.AsyncStoreFactory(url, allow_pickle=True) as factory:
            assert factory.allow_pickle
            store = await factory.create_store(sid())
            await store.set("when", complex(1, 2))
            assert await store.get("when") == complex(1, 2)
            await store.destroy()

    run(main)


def test_unreachable_backend_is_a_backend_error() -> None:
    async def main() -> None:
        factory = ss.AsyncStoreFactory("redis://127.0.0.1:1?timeout_ms=200")  # never connects here
        with pytest.raises(ss.BackendError):
            await factory.create_store(sid())
        with pytest.raises(ss.BackendError):
            async with factory:
                pass
        await factory.close()

    run(main)


def test_one_factory_over_several_loops(url: str) -> None:
    """One factory (and its stores) used from one asyncio.run after another, as with
    pytest-asyncio's per-test loops, and from two loops in two threads at once."""
    factory = ss.AsyncStoreFactory(url)
    s = sid()

    async def write() -> ss.AsyncStore:
        store = await factory.create_store(s)
        await store.set("n", 1)
        return store

    store = run(write)

    async def read(store: ss.AsyncStore = store) -> Any:
        await store.set("n", await store.get("n") + 1)
        return await store.get("n")

    assert run(read) == 2
    assert run(read) == 3

    import threading

    answers: list[Any] = []
    threads = [threading.Thread(target=lambda: answers.append(run(lambda: factory.create_store(s)))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(answers) == 2 and all(isinstance(a, ss.AsyncStore) for a in answers)

    async def close() -> None:
        await store.destroy()
        for a in answers:
            await a.close()
        await factory.close()

    # Made before the loop runs: the call starts when asyncio.run awaits it.
    asyncio.run(factory.destroy_session(s))
    run(close)


def test_memory_calls_do_not_suspend() -> None:
    async def main() -> None:
        async with ss.AsyncStoreFactory() as factory:
            store = await factory.create_store("a")
            other_ran = False

            async def other() -> None:
                nonlocal other_ran
                other_ran = True

            task = asyncio.create_task(other())
            for i in range(100):
                await store.set("k", i)
                assert await store.get("k") == i
            assert not other_ran  # no await above gave the loop a turn
            await task
            assert other_ran

    run(main)


def test_workers_stop_when_the_factory_closes(url: str) -> None:
    if is_memory(url):
        pytest.skip("memory:// calls run in the caller: no worker starts")

    def threads() -> int:
        return len(os.listdir("/proc/self/task"))

    async def main() -> None:
        factory = ss.AsyncStoreFactory(url, workers=4)
        assert factory.workers == 4
        store = await factory.create_store(sid())
        await asyncio.gather(*(store.set(f"k{i}", i) for i in range(32)))
        assert await store.size() == 32
        await store.destroy()
        await store.close()
        await factory.close()

    before = threads()
    run(main)
    wait_for(lambda: threads() <= before + 2, what="the workers to exit")  # the core's own may linger


def redis_only(url: str) -> None:
    if is_memory(url):
        pytest.skip("needs a Redis backend")


def test_cancellation_mid_call_on_a_stopped_server() -> None:
    """Calls in flight on a SIGSTOPped redis-server: the cancelled ones raise CancelledError at
    once, the others answer correctly once it resumes, and a store whose opening was cancelled
    is released (its lease lapses: no handle leaked)."""
    with redis_process() as redis:
        prefix = unique_prefix()
        # The lease outlasts the freeze: Redis expires keys by the wall clock, so a live
        # session whose last renewal was a lease before the resume would be gone.
        url = with_options(redis.url, prefix=prefix, timeout_ms=20000, ttl_ms=2000)

        async def main() -> None:
            async with ss.AsyncStoreFactory(url) as factory:
                store = await factory.create_store("live")
                await asyncio.gather(*(store.set(f"k{i}", i) for i in range(20)))
                redis.pause()
                try:
                    gets = [asyncio.create_task(store.get(f"k{i}")) for i in range(20)]
                    opening = asyncio.create_task(factory.create_store("abandoned"))
                    await asyncio.sleep(0.2)  # every call is in flight, the server frozen
                    assert not any(t.done() for t in gets) and not opening.done()
                    for t in gets[::2]:
                        t.cancel()
                    opening.cancel()
                    done, _ = await asyncio.wait(gets[::2] + [opening], timeout=10)
                    assert len(done) == 11 and all(t.cancelled() for t in done)
                finally:
                    redis.resume()
                answers = await asyncio.wait_for(asyncio.gather(*gets[1::2]), 30)
                assert answers == list(range(1, 20, 2))
                # The cancelled opening attached on the server; its handle must be released, so
                # the lease lapses and the session goes (a live handle would refresh it). The
                # loop must keep running meanwhile: it receives the opening's late answer, and
                # dropping that answer releases the handle.
                await wait_for_async(
                    lambda: raw_keys(url, prefix) == [f"{prefix}:live".encode()],
                    timeout=20,
                    what="the abandoned session's lease to lapse",
                )
                await store.destroy()

        run(main)


def test_the_loop_keeps_running_while_calls_wait() -> None:
    """50 coroutines with calls in flight on a frozen server: a ticker task keeps ticking; once
    the server resumes, every call answers its own value."""
    with redis_process() as redis:
        url = with_options(redis.url, prefix=unique_prefix(), timeout_ms=20000)

        async def main() -> None:
            async with ss.AsyncStoreFactory(url) as factory:
                stores = [await factory.create_store(f"s{i}") for i in range(50)]
                await asyncio.gather(*(s.set("me", i) for i, s in enumerate(stores)))
                ticks = 0

                async def ticker() -> None:
                    nonlocal ticks
                    while True:
                        ticks += 1
                        await asyncio.sleep(0.005)

                async def user(i: int, store: ss.AsyncStore) -> list[Any]:
                    return [await store.get("me"), await store.has("me"), await store.size()]

                tick = asyncio.create_task(ticker())
                redis.pause()
                try:
                    users = [asyncio.create_task(user(i, s)) for i, s in enumerate(stores)]
                    start = ticks
                    while ticks < start + 20:  # 20 ticks while all 50 wait on the server
                        await asyncio.sleep(0.005)
                    assert not any(u.done() for u in users)
                finally:
                    redis.resume()
                answers = await asyncio.wait_for(asyncio.gather(*users), 30)
                assert answers == [[i, True, 1] for i in range(50)]
                tick.cancel()
                for s in stores:
                    await s.destroy()

        run(main)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_inherited_async_factory_raises_in_a_forked_child() -> None:
    from test_fork import run_in_child

    factory = ss.AsyncStoreFactory()
    store = run(lambda: factory.create_store("s"))

    def child() -> None:
        for call in (lambda: factory.create_store("s"), lambda: store.get("k"), factory.close):
            try:
                call()
            except ss.StoreError as e:
                assert "before a fork" in str(e)
            else:
                raise AssertionError("an inherited factory answered")

    assert run_in_child(child) == 0
    run(factory.close)


def test_answers_are_coroutines_to_asyncio(url: str) -> None:
    """The awaitables (an in-memory answer, a remote call) follow the coroutine protocol."""

    async def main() -> None:
        async with ss.AsyncStoreFactory(url) as factory:
            store = await factory.create_store(sid())
            call = store.get("k", 5)
            assert asyncio.iscoroutine(call)
            assert await call == 5
            with pytest.raises(RuntimeError, match="reuse"):
                await call
            assert await store.get("k", (1, 2)) == (1, 2)  # a tuple stays one answer
            err = KeyError("thrown")
            assert await store.get("k", err) is err  # so does an exception
            call = store.get("k")
            call.close()
            with pytest.raises(KeyError):
                store.get("k").throw(KeyError("x"))
            await store.set("k", 7)
            call = store.get("k")
            if is_memory(url):
                with pytest.raises(StopIteration) as stop:
                    call.send(None)
                assert stop.value.value == 7
            else:
                assert await asyncio.ensure_future(call) == 7
            await store.destroy()

    run(main)


def test_a_loop_closed_with_calls_in_flight_leaks_nothing() -> None:
    """asyncio.run ends (cancelling a task whose call waits on a frozen server): once the call
    completes, the dead loop's fd and the call are freed."""
    import gc

    def fds() -> int:
        return len(os.listdir("/proc/self/fd"))

    with redis_process() as redis:
        factory = ss.AsyncStoreFactory(with_options(redis.url, prefix=unique_prefix(), timeout_ms=20000))
        store = run(lambda: factory.create_store("s"))
        gc.collect()
        before = fds()

        async def main() -> None:
            redis.pause()
            asyncio.get_running_loop().create_task(store.get("k"))  # cancelled by asyncio.run
            await asyncio.sleep(0.1)

        try:
            run(main)
        finally:
            redis.resume()
        wait_for(lambda: gc.collect() >= 0 and fds() <= before, what="the loop's fd to close")
        run(store.close)
        run(factory.close)
