"""The mapping protocol of Store, with dict semantics."""

from __future__ import annotations

import pytest

import sessionstore as ss


def test_item_access(store: ss.Store) -> None:
    store["a"] = 1
    assert store["a"] == 1
    assert "a" in store and "b" not in store
    with pytest.raises(KeyError) as info:
        store["b"]
    assert info.value.args == ("b",)
    del store["a"]
    assert "a" not in store
    with pytest.raises(KeyError):
        del store["a"]


def test_non_str_keys_behave_as_absent(store: ss.Store) -> None:
    assert 1 not in store
    assert None not in store
    with pytest.raises(KeyError):
        store[1]  # type: ignore[index]
    with pytest.raises(KeyError):
        del store[1]  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        store[1] = "x"  # type: ignore[index]


def test_len_iter_keys_items_values(store: ss.Store) -> None:
    assert len(store) == 0 and list(store) == [] and not store
    data = {"a": 1, "b": [2], "c": {"d": "e"}}
    for k, v in data.items():
        store[k] = v
    assert len(store) == 3 and store
    assert sorted(store) == ["a", "b", "c"]
    assert sorted(store.keys()) == ["a", "b", "c"]
    assert dict(store.items()) == data
    assert sorted(map(repr, store.values())) == sorted(map(repr, data.values()))
    assert dict(store) == data
    assert {k: store[k] for k in store} == data


def test_update_forms(store: ss.Store) -> None:
    store.update({"a": 1, "b": 2})
    store.update([("c", 3)])
    store.update(d=4)
    store.update({"a": 10}, e=5)

    class Mapping:
        def keys(self) -> list[str]:
            return ["f"]

        def __getitem__(self, key: str) -> int:
            return 6

    store.update(Mapping())
    store.update()
    assert dict(store.items()) == {"a": 10, "b": 2, "c": 3, "d": 4, "e": 5, "f": 6}


def test_update_is_all_or_nothing(store: ss.Store) -> None:
    store["keep"] = "me"
    with pytest.raises(TypeError):
        store.update({"a": 1, "b": None})
    with pytest.raises(TypeError):
        store.update({"a": 1, "b": object()})
    with pytest.raises(ss.InvalidArgumentError):
        store.update({"a": 1, "k" * 2000: 2})
    with pytest.raises(TypeError):
        store.update({1: 1})  # type: ignore[dict-item]
    assert dict(store.items()) == {"keep": "me"}


def test_update_too_large_stores_nothing() -> None:
    with ss.StoreFactory("memory://?max_value_bytes=32") as f, f.create_store("s") as s:
        with pytest.raises(ss.ValueTooLargeError):
            s.update({"a": 1, "b": b"x" * 64})
        assert len(s) == 0


def test_context_manager_releases(factory: ss.StoreFactory, sid: str) -> None:
    with factory.create_store(sid) as s:
        s["k"] = "v"
        assert not s.closed
    assert s.closed
    with factory.create_store(sid) as again:  # the data stays after a release
        assert again["k"] == "v"
        again.destroy()


def test_context_manager_does_not_swallow(factory: ss.StoreFactory, sid: str) -> None:
    with pytest.raises(RuntimeError), factory.create_store(sid) as s:
        raise RuntimeError("inside")
    assert s.closed


def test_session_id_forms(factory: ss.StoreFactory) -> None:
    import uuid

    u = uuid.uuid4()
    with factory.create_store(u) as s:
        assert s.session_id == str(u) and type(s.session_id) is str
        s["x"] = 1
    with factory.create_store(str(u)) as s:
        assert s["x"] == 1
        s.destroy()
    factory.destroy_session(u)
