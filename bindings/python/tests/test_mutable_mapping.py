"""Store is a collections.abc.MutableMapping: every method of the ABC, == with a mapping, bool()
that follows the lifecycle instead of raising, messages that name a bad key, and a closed store
raising its own class (on every backend)."""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping

import pytest

import sessionstore


def test_a_store_is_a_mutable_mapping(factory: sessionstore.StoreFactory) -> None:
    store = factory.create_store("abc-store")
    assert isinstance(store, MutableMapping) and isinstance(store, Mapping)
    assert not store, "an empty store is falsy"
    store.update(a=1, b="two")
    assert store, "a store with keys is truthy"
    assert store == {"a": 1, "b": "two"}
    assert store != {"a": 1}
    assert (store == 42) is False  # not a mapping: NotImplemented, then identity
    assert store.setdefault("a", 9) == 1
    assert store.setdefault("c", [3]) == [3] and store["c"] == [3]
    assert store.pop("c") == [3]
    assert store.pop("c", "gone") == "gone"
    with pytest.raises(KeyError):
        store.pop("c")
    key, value = store.popitem()
    assert (key, value) in {("a", 1), ("b", "two")}
    assert key not in store and len(store) == 1
    store.clear()
    assert len(store) == 0 and store == {}
    with pytest.raises(KeyError):
        store.popitem()
    # Non-str keys: no such key (as a dict would say), or a message that names the key.
    assert 1 not in store
    assert store.get(1) is None and store.get(1, "d") == "d"
    with pytest.raises(KeyError):
        store[1]  # type: ignore[index]
    with pytest.raises(TypeError, match="key must be str, not int"):
        store[1] = 2  # type: ignore[index]
    with pytest.raises(TypeError, match="key must be str, not int"):
        store.set(1, 2)  # type: ignore[arg-type]
    # The lifecycle: bool() is False once destroyed or closed, never an exception.
    store["x"] = 1
    store.destroy()
    assert not store
    store.close()
    assert not store
    with pytest.raises(sessionstore.StoreClosedError, match="closed"):
        store.get("x")
    assert issubclass(sessionstore.StoreClosedError, sessionstore.StoreError)
