"""The intent of socketio4j's store tests (AbstractStoreTest, MemoryStoreFactoryTest), ported."""

from __future__ import annotations

import threading
import uuid

import pytest

import sessionstore


def test_basic_operations(store: sessionstore.Store) -> None:
    store.set("key1", "value1")
    store.set("key2", 123)
    store.set("key3", True)
    assert store.get("key1") == "value1"
    assert store.get("key2") == 123 and type(store.get("key2")) is int
    assert store.get("key3") is True
    assert store.has("key1") and store.has("key2") and store.has("key3")
    assert not store.has("nonexistent")
    assert store.delete("key1") is True
    assert not store.has("key1")
    assert store.get("key1") is None


def test_null_value_is_rejected(store: sessionstore.Store) -> None:
    with pytest.raises(TypeError):
        store.set("nullKey", None)
    with pytest.raises(TypeError):
        store["nullKey"] = None
    assert not store.has("nullKey")


def test_complex_objects(store: sessionstore.Store) -> None:
    obj = {"name": "test", "value": 42, "tags": ["a", "b"], "nested": {"ok": True, "n": None}}
    store.set("complexKey", obj)
    assert store.get("complexKey") == obj


class Claims:
    def __init__(self, name: str, value: int) -> None:
        self.name, self.value = name, value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Claims) and (self.name, self.value) == (other.name, other.value)


def test_complex_objects_pickled_with_opt_in(pickle_factory: sessionstore.StoreFactory, sid: str) -> None:
    with pickle_factory.create_store(sid) as store:
        store.set("complexKey", Claims("test", 42))
        got = store.get("complexKey")
        assert isinstance(got, Claims) and got == Claims("test", 42)
        store.destroy()


def test_complex_objects_without_opt_in_are_type_errors(store: sessionstore.Store) -> None:
    with pytest.raises(TypeError, match="allow_pickle"):
        store.set("complexKey", Claims("test", 42))


def test_overwrite_values(store: sessionstore.Store) -> None:
    store.set("overwriteKey", "original")
    assert store.get("overwriteKey") == "original"
    store.set("overwriteKey", "updated")
    assert store.get("overwriteKey") == "updated"
    assert len(store) == 1


def test_delete_nonexistent_key(store: sessionstore.Store) -> None:
    assert store.delete("nonexistent") is False
    assert not store.has("nonexistent")


def test_get_nonexistent_key(store: sessionstore.Store) -> None:
    assert store.get("nonexistent") is None
    assert store.get("nonexistent", "fallback") == "fallback"


def test_concurrent_access(store: sessionstore.Store) -> None:
    threads_n, ops = 10, 100
    errors: list[BaseException] = []

    def work(t: int) -> None:
        try:
            for j in range(ops):
                key, value = f"thread{t}_key{j}", f"value{t}_{j}"
                store.set(key, value)
                assert store.get(key) == value
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(threads_n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    for t in range(threads_n):
        for j in range(ops):
            assert store.get(f"thread{t}_key{j}") == f"value{t}_{j}"
    assert len(store) == threads_n * ops


def test_store_isolation(factory: sessionstore.StoreFactory) -> None:
    sid1, sid2 = uuid.uuid4(), uuid.uuid4()
    with factory.create_store(sid1) as store1, factory.create_store(sid2) as store2:
        store1.set("isolatedKey", "store1Value")
        assert not store2.has("isolatedKey")
        assert store2.get("isolatedKey") is None
        assert store1.has("isolatedKey")
        assert store1.get("isolatedKey") == "store1Value"
        store1.destroy()
        store2.destroy()


def test_destroy_on_disconnect(factory: sessionstore.StoreFactory) -> None:
    sid = uuid.uuid4()
    store = factory.create_store(sid)
    store.set("key1", "value1")
    store.set("key2", "value2")
    store.set("key3", 123)
    assert store.get("key1") == "value1" and store.get("key3") == 123

    factory.destroy_session(sid)  # what a server does when the client disconnects

    with pytest.raises(sessionstore.StoreDestroyedError):
        store.get("key1")
    assert store.destroyed
    with factory.create_store(sid) as fresh:
        assert not fresh.has("key1") and fresh.get("key1") is None
        assert len(fresh) == 0
        fresh.destroy()
    store.close()


def test_factory_specific_store_type(factory: sessionstore.StoreFactory) -> None:
    store = factory.create_store(uuid.uuid4())
    assert isinstance(store, sessionstore.Store)
    store.set("memoryKey", "memoryValue")
    assert store.get("memoryKey") == "memoryValue"
    store.destroy()
