"""The exception hierarchy of docs/API.md §6, and which call raises which."""

from __future__ import annotations

import pytest

import sessionstore as ss

HIERARCHY = {
    ss.StoreError: (Exception,),
    ss.StoreDestroyedError: (ss.StoreError,),
    ss.FactoryClosedError: (ss.StoreError,),
    ss.BackendError: (ss.StoreError,),
    ss.BackendTimeoutError: (ss.BackendError,),
    ss.InvalidArgumentError: (ss.StoreError, ValueError),
    ss.ValueTooLargeError: (ss.StoreError, ValueError),
    ss.ConfigError: (ss.StoreError, ValueError),
}


@pytest.mark.parametrize("cls", list(HIERARCHY), ids=lambda c: c.__name__)
def test_bases(cls: type[BaseException]) -> None:
    assert cls.__bases__ == HIERARCHY[cls]
    assert cls.__module__ == "sessionstore"
    assert cls.__doc__
    assert issubclass(cls, ss.StoreError) or cls is ss.StoreError
    # Raisable and catchable like any exception, with a message.
    with pytest.raises(cls, match="boom"):
        raise cls("boom")


def test_timeout_is_a_backend_error() -> None:
    assert issubclass(ss.BackendTimeoutError, ss.BackendError)
    assert not issubclass(ss.BackendError, ValueError)


@pytest.mark.parametrize(
    "url",
    [
        "memory://?bogus=1",
        "memory://?ttl_ms=abc",
        "memory://?ttl_ms=1",
        "memory://?prefix=a b",
        "memory://?max_value_bytes=1",
        "memory://?timeout_ms=1&timeout_ms=2",
        "redis://host:notaport",
        "ftp://nowhere",
        "memory://?ttl_ms",
    ],
)
def test_config_error(url: str) -> None:
    with pytest.raises(ss.ConfigError):
        ss.StoreFactory(url)
    with pytest.raises(ValueError):
        ss.StoreFactory(url)


@pytest.mark.parametrize("sid", ["", "a b", "a/b", "x" * 129, "é", "a\0b"])
def test_invalid_session_id(factory: ss.StoreFactory, sid: str) -> None:
    with pytest.raises(ss.InvalidArgumentError):
        factory.create_store(sid)
    with pytest.raises(ValueError):
        factory.destroy_session(sid)


@pytest.mark.parametrize("sid", [42, b"bytes-id", None, 1.5])
def test_session_id_type(factory: ss.StoreFactory, sid: object) -> None:
    with pytest.raises(TypeError):
        factory.create_store(sid)  # type: ignore[arg-type]


def test_invalid_key(store: ss.Store) -> None:
    with pytest.raises(ss.InvalidArgumentError):
        store.set("k" * 1025, 1)
    with pytest.raises(ss.InvalidArgumentError):
        store.get("k" * 1025)
    store.set("k" * 1024, 1)  # the longest key
    assert store.get("k" * 1024) == 1
    with pytest.raises(TypeError):
        store.set(1, 1)  # type: ignore[arg-type]


def test_value_too_large_is_value_error() -> None:
    with ss.StoreFactory("memory://?max_value_bytes=16") as f, f.create_store("s") as s:
        with pytest.raises(ss.ValueTooLargeError) as info:
            s.set("k", b"x" * 100)
        assert isinstance(info.value, ValueError)


def test_destroyed_error(factory: ss.StoreFactory, sid: str) -> None:
    a = factory.create_store(sid)
    b = factory.create_store(sid)
    a.set("k", 1)
    a.destroy()
    for call in (
        lambda: b.get("k"),
        lambda: b.set("k", 2),
        lambda: b.has("k"),
        lambda: b.delete("k"),
        lambda: len(b),
        lambda: b.keys(),
        lambda: b.items(),
        lambda: b.update(k=1),
        lambda: a.get("k"),
        lambda: b["k"],
        lambda: "k" in b,
    ):
        with pytest.raises(ss.StoreDestroyedError):
            call()
    assert a.destroyed and b.destroyed
    a.destroy()  # destroying again is a no-op
    a.close()
    b.close()


def test_factory_closed_error(url: str, sid: str) -> None:
    f = ss.StoreFactory(url)
    s = f.create_store(sid)
    s.set("k", 1)
    s.destroy()
    f.close()
    f.close()  # idempotent
    assert f.closed
    with pytest.raises(ss.FactoryClosedError):
        f.create_store(sid)
    with pytest.raises(ss.FactoryClosedError):
        f.destroy_session(sid)
    with pytest.raises(ss.FactoryClosedError):
        s.get("k")
    s.close()


def test_closed_store_raises_store_error(store: ss.Store) -> None:
    store.set("k", 1)
    store.destroy()
    store.close()
    store.close()  # idempotent
    assert store.closed and store.destroyed
    with pytest.raises(ss.StoreError, match="closed"):
        store.get("k")
    with pytest.raises(ss.StoreError):
        store.set("k", 1)


@pytest.mark.parametrize("cls", list(HIERARCHY), ids=lambda c: c.__name__)
def test_exceptions_pickle(cls: type[BaseException]) -> None:
    """multiprocessing and concurrent.futures carry exceptions between processes pickled."""
    import pickle

    again = pickle.loads(pickle.dumps(cls("message")))
    assert type(again) is cls and again.args == ("message",)
