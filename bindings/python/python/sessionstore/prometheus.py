"""A prometheus_client collector for sessionstore factories (``pip install "sessionstore[prometheus]"``).

::

    from prometheus_client import REGISTRY
    from sessionstore.prometheus import SessionStoreCollector

    REGISTRY.register(SessionStoreCollector(factory))

Each scrape reads ``factory.stats()`` (docs/API.md §12) and exposes, labelled with the
factory's ``backend`` (``memory``, ``redis``, ``redis+cluster``…) and, when given, its ``name``:

- ``sessionstore_calls_total{op}``: calls by operation (``get``, ``set``…), failed ones included;
- ``sessionstore_errors_total{kind}``: failed calls by error kind (``Timeout``, ``Backend``…);
- ``sessionstore_call_latency_microseconds{quantile}`` (0.5, 0.99, and 1 for the slowest):
  the latency of remote calls, and ``sessionstore_timed_calls_total`` how many were timed;
- ``sessionstore_open_stores``: stores open now;
- ``sessionstore_lease_rounds_total``, ``sessionstore_lease_renewals_total``,
  ``sessionstore_lease_overruns_total``: the lease refresher's work;
- ``sessionstore_near_cache_hits_total``, ``sessionstore_near_cache_misses_total``,
  ``sessionstore_near_cache_invalidations_total``, ``sessionstore_near_cache_sessions`` and
  ``sessionstore_near_cache_bytes``: the near cache's work and size (zeros without one).

A closed factory's metrics are left out of the scrape.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from . import FactoryClosedError, StoreFactory

__all__ = ["SessionStoreCollector"]


class SessionStoreCollector(Collector):
    """Collects the stats of one or more factories on each scrape."""

    def __init__(self, *factories: StoreFactory, name: str | None = None) -> None:
        """`factories` to scrape; `name` adds a ``name`` label (for several collectors)."""
        self._factories = factories
        self._name = name

    def _labels(self, factory: StoreFactory) -> tuple[list[str], list[str]]:
        names, values = ["backend"], [factory.url.split("://", 1)[0] or "memory"]
        if self._name is not None:
            names.append("name")
            values.append(self._name)
        return names, values

    def collect(self) -> Iterator[Metric]:
        """One family per metric, with a sample per open factory (none when all are closed)."""
        scraped = []
        for factory in self._factories:
            try:
                scraped.append((self._labels(factory), factory.stats()))
            except FactoryClosedError:
                continue
        if not scraped:
            return
        names = scraped[0][0][0]
        calls = CounterMetricFamily(
            "sessionstore_calls", "Store calls by operation, failed ones included.", labels=[*names, "op"]
        )
        errors = CounterMetricFamily(
            "sessionstore_errors", "Failed store calls by error kind.", labels=[*names, "kind"]
        )
        latency = GaugeMetricFamily(
            "sessionstore_call_latency_microseconds",
            "Latency of remote store calls: median, 99th percentile, slowest (quantile 1).",
            labels=[*names, "quantile"],
        )
        timed_calls = CounterMetricFamily("sessionstore_timed_calls", "Remote store calls timed.", labels=names)
        stores = GaugeMetricFamily("sessionstore_open_stores", "Stores open now.", labels=names)
        lease = {
            part: CounterMetricFamily(f"sessionstore_lease_{part}", what, labels=names)
            for part, what in (
                ("rounds", "Lease refresher rounds."),
                ("renewals", "Session leases renewed."),
                ("overruns", "Lease refresher rounds longer than their period."),
            )
        }
        near_counters = {
            part: CounterMetricFamily(f"sessionstore_near_cache_{part}", what, labels=names)
            for part, what in (
                ("hits", "Reads answered from the near cache."),
                ("misses", "Reads the near cache sent to the server."),
                ("invalidations", "Cached sessions forgotten because they changed."),
            )
        }
        near_gauges = {
            part: GaugeMetricFamily(f"sessionstore_near_cache_{part}", what, labels=names)
            for part, what in (
                ("sessions", "Sessions in the near cache now."),
                ("bytes", "Bytes in the near cache now."),
            )
        }
        near: dict[str, CounterMetricFamily | GaugeMetricFamily] = {**near_counters, **near_gauges}
        for (_, values), stats in scraped:
            for op, n in stats["calls"].items():
                calls.add_metric([*values, op], n)
            for kind, n in stats["errors"].items():
                errors.add_metric([*values, kind], n)
            timed = stats["latency_us"]
            for quantile, field in (("0.5", "p50"), ("0.99", "p99"), ("1", "max")):
                latency.add_metric([*values, quantile], timed[field])
            timed_calls.add_metric(values, timed["count"])
            stores.add_metric(values, stats["open_stores"])
            for part, family in lease.items():
                family.add_metric(values, stats["lease"][part])
            for part, near_family in near.items():
                near_family.add_metric(values, stats["near_cache"][part])
        yield from (calls, errors, latency, timed_calls, stores, *lease.values(), *near.values())
