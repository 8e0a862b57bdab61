"""Throughput of a memory:// Store against pure-Python equivalents (a benchmark, not a test).

Run: `make bench-python`, or `python bindings/python/bench.py` with sessionstore installed.

Compares, with the same keys and values and in one run:
  * sessionstore.Store on memory://
  * LockedStore: a pure-Python thread-safe store (dict of dicts behind a threading.Lock), the
    thing a Python server would write instead; the targets are get >= 2.0x and set >= 1.0x it
  * PlainStore: the same without the lock, the floor of any Python store
"""

from __future__ import annotations

import argparse
import gc
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import sessionstore


class LockedStore:
    """A pure-Python thread-safe session store with the same methods as sessionstore.Store."""

    def __init__(self, data: dict[str, dict[str, Any]], session_id: str) -> None:
        self._lock = threading.Lock()
        self._data = data
        self._sid = session_id
        with self._lock:
            self._data.setdefault(session_id, {})

    def set(self, key: str, value: Any) -> None:
        with self._lock:
            self._data[self._sid][key] = value

    def get(self, key: str, default: Any = None) -> Any:
        with self._lock:
            return self._data[self._sid].get(key, default)

    def has(self, key: str) -> bool:
        with self._lock:
            return key in self._data[self._sid]


class PlainStore:
    """The same store without a lock: not thread-safe, the floor of any Python store."""

    def __init__(self, data: dict[str, dict[str, Any]], session_id: str) -> None:
        self._data = data
        self._sid = session_id
        self._data.setdefault(session_id, {})

    def set(self, key: str, value: Any) -> None:
        self._data[self._sid][key] = value

    def get(self, key: str, default: Any = None) -> Any:
        return self._data[self._sid].get(key, default)

    def has(self, key: str) -> bool:
        return key in self._data[self._sid]


def ops_per_s(fn: Callable[[], None], n: int, repeat: int) -> float:
    """Best of `repeat` runs of `fn` (which does `n` operations)."""
    best = float("inf")
    for _ in range(repeat):
        gc.disable()
        t0 = time.perf_counter()
        fn()
        dt = time.perf_counter() - t0
        gc.enable()
        best = min(best, dt)
    return n / best


def bench(n: int, repeat: int) -> list[tuple[str, dict[str, float]]]:
    factory = sessionstore.StoreFactory("memory://")
    stores = {
        "sessionstore": factory.create_store("bench-session"),
        "locked dict": LockedStore({}, "bench-session"),
        "plain dict": PlainStore({}, "bench-session"),
    }
    values = {
        "str": "user-42",
        "int": 42,
        "dict": {"id": 42, "roles": ["admin", "dev"], "tenant": "acme"},
    }
    rows = []
    for vname, value in values.items():
        results: dict[str, dict[str, float]] = {}
        for sname, store in stores.items():
            store.set("key", value)
            get, set_, has = store.get, store.set, store.has
            keys = range(n // 10)

            def do_get() -> None:
                for _ in keys:
                    get("key")
                    get("key")
                    get("key")
                    get("key")
                    get("key")
                    get("key")
                    get("key")
                    get("key")
                    get("key")
                    get("key")

            def do_set() -> None:
                for _ in keys:
                    set_("key", value)
                    set_("key", value)
                    set_("key", value)
                    set_("key", value)
                    set_("key", value)
                    set_("key", value)
                    set_("key", value)
                    set_("key", value)
                    set_("key", value)
                    set_("key", value)

            def do_has() -> None:
                for _ in keys:
                    has("key")
                    has("key")
                    has("key")
                    has("key")
                    has("key")
                    has("key")
                    has("key")
                    has("key")
                    has("key")
                    has("key")

            results[sname] = {
                "get": ops_per_s(do_get, n, repeat),
                "set": ops_per_s(do_set, n, repeat),
                "has": ops_per_s(do_has, n, repeat),
            }
        rows.append((vname, results))
    factory.close()
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=200_000, help="operations per run")
    parser.add_argument("-r", "--repeat", type=int, default=5, help="runs (best is kept)")
    args = parser.parse_args()
    print(
        f"python {sys.version.split()[0]}, sessionstore {sessionstore.__version__}, "
        f"{args.n} ops per run, best of {args.repeat}"
    )
    print(
        f"{'value':6} {'op':4} {'sessionstore':>14} {'locked dict':>14} {'plain dict':>14}"
        f" {'vs locked':>10} {'vs plain':>9}"
    )
    verdicts = []
    for vname, results in bench(args.n, args.repeat):
        for op in ("get", "set", "has"):
            ours = results["sessionstore"][op]
            locked = results["locked dict"][op]
            plain = results["plain dict"][op]
            print(
                f"{vname:6} {op:4} {ours:>12,.0f}/s {locked:>12,.0f}/s {plain:>12,.0f}/s"
                f" {ours / locked:>9.2f}x {ours / plain:>8.2f}x"
            )
            if vname == "str" and op in ("get", "set"):
                target = 2.0 if op == "get" else 1.0
                verdicts.append(
                    f"{op} of a short str: {ours / locked:.2f}x the locked dict "
                    f"(target {target}x): {'met' if ours / locked >= target else 'MISSED'}"
                )
    print("\n".join(verdicts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
