"""factory.stats(): after a known sequence of calls and errors, exactly those calls and errors
(docs/API.md §12), on every backend."""

from __future__ import annotations

import pytest

import sessionstore


def test_stats_count_every_call_and_error(factory: sessionstore.StoreFactory, url: str) -> None:
    store = factory.create_store("py-stats")
    store["a"] = 1
    store.update({"b": 2, "c": 3})
    assert store.get("a") == 1
    assert store.get("missing") is None
    assert "a" in store
    del store["a"]
    assert len(store) == 2
    assert sorted(store.keys()) == ["b", "c"]
    with pytest.raises(sessionstore.InvalidArgumentError):
        store.set("k" * 1025, 1)
    store.destroy()
    with pytest.raises(sessionstore.StoreDestroyedError):
        store.get("b")
    store.close()

    stats = factory.stats()
    assert stats["calls"] == {
        "open": 1,
        "get": 3,
        "set": 2,
        "has": 1,
        "del": 1,
        "len": 1,
        "keys": 1,
        "get_all": 0,
        "set_many": 1,
        "replace_all": 0,
        "destroy": 1,
        "destroy_session": 0,
    }
    assert stats["errors"]["InvalidArg"] == 1
    assert stats["errors"]["Destroyed"] == 1
    assert sum(stats["errors"].values()) == 2
    remote = not url.startswith("memory")
    assert stats["latency_us"]["count"] == (sum(stats["calls"].values()) if remote else 0)
    assert stats["latency_us"]["p50"] <= stats["latency_us"]["p99"] <= stats["latency_us"]["max"]
    assert stats["open_stores"] == 0
    assert set(stats["lease"]) == {"rounds", "renewals", "overruns"}
    factory.close()
    with pytest.raises(sessionstore.FactoryClosedError):
        factory.stats()
