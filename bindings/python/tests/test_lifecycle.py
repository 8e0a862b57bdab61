"""Factories, leases, reprs and the release/destroy lifecycle."""

from __future__ import annotations

import gc
import time

import pytest

import sessionstore as ss

SECRET = "s3cr3t-pa55"


def test_defaults() -> None:
    with ss.StoreFactory() as f:
        assert f.url == "memory://" and f.allow_pickle is False and not f.closed
        with f.create_store("a") as s:
            s["k"] = 1
    assert f.closed
    with ss.StoreFactory("", allow_pickle=True) as f:
        assert f.allow_pickle


def test_reprs(factory: ss.StoreFactory, sid: str) -> None:
    assert "StoreFactory" in repr(factory) and "closed=False" in repr(factory)
    s = factory.create_store(sid)
    assert sid in repr(s) and "destroyed=False" in repr(s)
    s.destroy()
    s.close()
    assert "destroyed=True" in repr(s) and "closed=True" in repr(s)


@pytest.mark.parametrize(
    "url",
    [
        f"redis://user:{SECRET}@127.0.0.1:1/0?timeout_ms=50",
        f"redis://:{SECRET}@127.0.0.1:1?timeout_ms=50",
        f"rediss://user:{SECRET}@127.0.0.1:1/3?timeout_ms=50",
        f"redis://user:{SECRET}@127.0.0.1:notaport/0",
        f"redis://user:{SECRET}@127.0.0.1:1/0?bogus=1",
        f"redis://user:{SECRET}@127.0.0.1:1/0?ttl_ms=x",
        f"redis://user:{SECRET}@127.0.0.1:1/notadb",
        f"redis+sentinel://user:{SECRET}@127.0.0.1:1",
        f"redis+cluster://user:{SECRET}@127.0.0.1:1,127.0.0.1:2?timeout_ms=50",
        f"redis://user:{SECRET}@/0",
        f"redis://user:{SECRET}@127.0.0.1:1/0?prefix=bad%20prefix",
    ],
)
def test_password_never_shown(url: str) -> None:
    """Whatever happens to a url with a password (a config error, a failed connection, or a
    working factory in a build with Redis), no message and no repr shows the password."""
    try:
        f = ss.StoreFactory(url)
    except ss.StoreError as e:
        assert SECRET not in str(e) and SECRET not in repr(e)
        assert all(SECRET not in str(a) for a in e.args)
        return
    try:
        assert SECRET not in repr(f) and SECRET not in f.url
        try:
            s = f.create_store("x")
            assert SECRET not in repr(s)
            s.close()
        except ss.StoreError as e:
            assert SECRET not in str(e)
    finally:
        f.close()


def test_memory_data_goes_with_the_factory() -> None:
    with ss.StoreFactory() as f:
        f.create_store("a")["k"] = 1
    with ss.StoreFactory() as g:  # a new memory factory is a new, empty world
        assert "k" not in g.create_store("a")


def test_release_keeps_data_and_handles_are_independent(factory: ss.StoreFactory, sid: str) -> None:
    a = factory.create_store(sid)
    b = factory.create_store(sid)
    a["k"] = "v"
    assert b["k"] == "v"
    a.close()
    assert b["k"] == "v"
    b["k2"] = 2
    with factory.create_store(sid) as c:
        assert dict(c.items()) == {"k": "v", "k2": 2}
    b.destroy()
    b.close()


def test_garbage_collected_store_releases(factory: ss.StoreFactory, sid: str) -> None:
    s = factory.create_store(sid)
    s["k"] = 1
    del s
    gc.collect()
    with factory.create_store(sid) as again:
        assert again["k"] == 1
        again.destroy()


def test_ttl_lease_on_memory() -> None:
    with ss.StoreFactory("memory://?ttl_ms=100") as f:
        live = f.create_store("live")
        live["k"] = "kept"
        with f.create_store("idle") as idle:
            idle["k"] = "reclaimed"
        time.sleep(0.35)
        # A session whose handle is open is never reclaimed; a released one is, after ttl_ms.
        assert live["k"] == "kept"
        with f.create_store("idle") as again:
            assert "k" not in again and len(again) == 0
        live.close()


def test_ttl_lease_reclaim_marks_old_handles_destroyed() -> None:
    with ss.StoreFactory("memory://?ttl_ms=50") as f:
        with f.create_store("s") as s:
            s["k"] = 1
        time.sleep(0.2)
        with f.create_store("s") as fresh:
            assert len(fresh) == 0
