"""The prometheus_client collector, scraped and parsed: its counters are the factory's stats."""

from __future__ import annotations

import pytest

import sessionstore

prometheus_client = pytest.importorskip("prometheus_client")
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

from sessionstore.prometheus import SessionStoreCollector  # noqa: E402


def scrape(registry: prometheus_client.CollectorRegistry) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = prometheus_client.generate_latest(registry).decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_a_scrape_shows_the_stats(factory: sessionstore.StoreFactory, url: str) -> None:
    store = factory.create_store("prometheus")
    store["a"] = 1
    assert store.get("a") == 1
    assert store.get("b") is None
    store.destroy()
    with pytest.raises(sessionstore.StoreDestroyedError):
        store.get("a")

    registry = prometheus_client.CollectorRegistry()
    registry.register(SessionStoreCollector(factory, name="test"))
    got = scrape(registry)
    backend = url.split("://", 1)[0]
    labels = (("backend", backend), ("name", "test"))

    def value(name: str, **extra: str) -> float:
        return got[(name, tuple(sorted((*labels, *extra.items()))))]

    assert value("sessionstore_calls_total", op="get") == 3
    assert value("sessionstore_calls_total", op="set") == 1
    assert value("sessionstore_calls_total", op="open") == 1
    assert value("sessionstore_errors_total", kind="Destroyed") == 1
    assert value("sessionstore_errors_total", kind="Timeout") == 0
    assert value("sessionstore_open_stores") == 1
    remote = backend != "memory"
    assert value("sessionstore_timed_calls_total") == (6 if remote else 0)
    assert value("sessionstore_call_latency_microseconds", quantile="0.5") <= value(
        "sessionstore_call_latency_microseconds", quantile="1"
    )
    assert value("sessionstore_lease_overruns_total") == 0
    store.close()
    factory.close()
    assert not any(name.startswith("sessionstore") for name, _ in scrape(registry)), "a closed factory is left out"


def test_a_scrape_shows_the_near_cache(url: str, sid: str) -> None:
    if not url.startswith(("redis", "rediss")):
        pytest.skip("the near cache is Redis's")
    near = url + ("&" if "?" in url else "?") + "near_cache=100"
    with sessionstore.StoreFactory(near) as factory:
        registry = prometheus_client.CollectorRegistry()
        registry.register(SessionStoreCollector(factory))
        store = factory.create_store(sid)
        assert store.get("a") is None
        assert factory.stats()["near_cache"]["misses"] == 1, "one read, one miss"
        store["a"] = 1
        # The first reads may miss: the invalidation of this factory's own write can arrive
        # after a fill and void it. Read until one is served from the cache (bounded).
        for _ in range(1000):
            assert store.get("a") == 1
            if factory.stats()["near_cache"]["hits"]:
                break
        # The invalidation of the write may still come and drop the entry: compare the scrape
        # with counters that did not change while it ran (bounded).
        for _ in range(100):
            near = factory.stats()["near_cache"]
            got = scrape(registry)
            if factory.stats()["near_cache"] == near:
                break
        assert near["hits"] >= 1 and near["misses"] >= 1 and near["sessions"] in (0, 1)
        labels = (("backend", url.split("://", 1)[0]),)
        for part in ("hits", "misses", "invalidations"):
            assert got[(f"sessionstore_near_cache_{part}_total", labels)] == near[part]
        assert got[("sessionstore_near_cache_sessions", labels)] == near["sessions"]
        assert got[("sessionstore_near_cache_bytes", labels)] == near["bytes"]
        assert near["bytes"] > 0 or near["sessions"] == 0
        store.destroy()
        store.close()
