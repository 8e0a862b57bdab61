"""Pre-fork servers: a factory inherited across fork raises a clear error instead of hanging;
a factory opened in the child works."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable

import pytest

import sessionstore as ss

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


def run_in_child(body: Callable[[], None], timeout: float = 20.0) -> int:
    """Runs `body` in a forked child; its exit status (0 when `body` returned)."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 1
        try:
            body()
            code = 0
        except BaseException as e:  # noqa: BLE001
            os.write(2, f"child failed: {e!r}\n".encode())
        finally:
            os._exit(code)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.01)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    pytest.fail("the child hung")


def test_inherited_factory_raises_and_new_one_works() -> None:
    parent = ss.StoreFactory("memory://?ttl_ms=1000")  # with a lease: a sweeper thread too
    store = parent.create_store("s")
    store["k"] = "parent"

    def child() -> None:
        for call in (
            lambda: parent.create_store("s"),
            lambda: parent.destroy_session("s"),
            lambda: store.get("k"),
            lambda: store.set("k", 1),
            lambda: "k" in store,
            lambda: len(store),
            parent.close,
            store.close,
            lambda: store.destroyed,
            lambda: store.closed,
        ):
            try:
                call()
            except ss.StoreError as e:
                assert "before a fork" in str(e) and str(os.getppid()) in str(e), str(e)
            else:
                raise AssertionError("an inherited factory answered")
        assert store.session_id == "s"  # plain data still reads
        assert "fork" in repr(store) and "memory://" in repr(parent)
        with ss.StoreFactory() as fresh, fresh.create_store("s") as s:
            s["k"] = "child"
            assert s["k"] == "child"

    assert run_in_child(child) == 0
    # The parent is untouched by what the child did.
    assert store["k"] == "parent"
    store.destroy()
    parent.close()


def test_fork_while_another_thread_holds_the_store_busy() -> None:
    f = ss.StoreFactory()
    s = f.create_store("busy")
    stop = threading.Event()

    def hammer() -> None:
        i = 0
        while not stop.is_set():
            s[f"k{i % 50}"] = i
            i += 1

    t = threading.Thread(target=hammer)
    t.start()
    try:
        for _ in range(3):

            def child() -> None:
                try:
                    s.get("k1")
                except ss.StoreError:
                    pass
                else:
                    raise AssertionError("inherited store answered")
                # Dropping inherited objects must not touch locks a parent thread may hold.
                global_objs = [s, f]
                del global_objs
                with ss.StoreFactory() as g, g.create_store("busy") as c:
                    c["x"] = 1
                    assert c["x"] == 1

            assert run_in_child(child) == 0
    finally:
        stop.set()
        t.join()
    s.destroy()
    f.close()


def test_factory_created_in_child_can_fork_again() -> None:
    def child() -> None:
        f = ss.StoreFactory()
        f.create_store("a")["k"] = 1

        def grandchild() -> None:
            try:
                f.create_store("a")
            except ss.StoreError as e:
                assert "before a fork" in str(e)
            else:
                raise AssertionError("inherited factory answered in the grandchild")

        assert run_in_child(grandchild) == 0
        assert f.create_store("a")["k"] == 1

    assert run_in_child(child) == 0


def test_child_opens_its_own_factory_on_the_same_backend(url: str, sid: str) -> None:
    """The gunicorn pattern on every backend: the parent's factory is off limits in the
    worker, a worker's own factory works, and on a shared backend it sees the parent's data."""
    parent = ss.StoreFactory(url)
    store = parent.create_store(sid)
    store["from"] = "parent"

    def child() -> None:
        try:
            store.get("from")
        except ss.StoreError as e:
            assert "before a fork" in str(e)
        else:
            raise AssertionError("inherited store answered")
        with ss.StoreFactory(url) as own, own.create_store(sid) as s:
            seen = s.get("from")
            assert seen == (None if url.startswith("memory") or url == "" else "parent"), seen
            s["from_child"] = 1

    assert run_in_child(child) == 0
    shared = not (url.startswith("memory") or url == "")
    assert ("from_child" in store) is shared
    store.destroy()
    parent.close()
