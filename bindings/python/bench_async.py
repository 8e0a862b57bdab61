"""asyncio get/set: sessionstore.AsyncStore against redis.asyncio (a benchmark, not a test).

Run: `make bench-python-async`, or `python bindings/python/bench_async.py` with sessionstore and
redis-py installed and redis-server on PATH. It starts its own redis-server (no persistence) on
a free 127.0.0.1 port and stops it by PID at the end (bench_redis.own_server).

In one run, against one server, the same work from COROUTINES coroutines on one event loop,
each on its own session, with the same short str value:
  * ours:         await AsyncStore.set / .get on one redis:// AsyncStoreFactory
  * redis.asyncio: await hset / hget on one hash per coroutine through ONE shared
                  redis.asyncio.Redis client (its connection pool), decode_responses=True
Prints ops/s of each and the ratio (target: ours >= 3x), then, on memory://, `await store.get`
beside the sync `store.get` (target: >= 0.5x).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable

import redis
import redis.asyncio as aredis

import sessionstore
from bench_redis import KEY, VALUE, own_server


async def timed(coroutines: list[Awaitable[None]]) -> float:
    t0 = time.perf_counter()
    await asyncio.gather(*coroutines)
    return time.perf_counter() - t0


def ours(stores: list[sessionstore.AsyncStore], op: str, n: int) -> list[Awaitable[None]]:
    async def body(store: sessionstore.AsyncStore) -> None:
        if op == "set":
            for _ in range(n):
                await store.set(KEY, VALUE)
        else:
            for _ in range(n):
                if await store.get(KEY) != VALUE:
                    raise AssertionError("ours: wrong value")

    return [body(s) for s in stores]


def theirs(client: aredis.Redis, hashes: list[str], op: str, n: int) -> list[Awaitable[None]]:
    async def body(name: str) -> None:
        if op == "set":
            for _ in range(n):
                await client.hset(name, KEY, VALUE)
        else:
            for _ in range(n):
                if await client.hget(name, KEY) != VALUE:
                    raise AssertionError("redis.asyncio: wrong value")

    return [body(h) for h in hashes]


async def remote(url: str, coroutines: int, ops: int, rounds: int, workers: int | None) -> dict[tuple[str, str], float]:
    host, port = url.split("://", 1)[1].rsplit(":", 1)
    client = aredis.Redis(host=host, port=int(port), decode_responses=True)
    factory = (
        sessionstore.AsyncStoreFactory(f"{url}?prefix=pybench")
        if workers is None
        else sessionstore.AsyncStoreFactory(f"{url}?prefix=pybench", workers=workers)
    )
    stores = [await factory.create_store(f"a{i}") for i in range(coroutines)]
    hashes = [f"pybench-redis-asyncio:a{i}" for i in range(coroutines)]
    total = coroutines * ops
    results: dict[tuple[str, str], float] = {}
    try:
        # Warm up both (workers started, scripts loaded, pool filled), then alternate rounds
        # so drift in machine load hits both sides alike.
        await timed(ours(stores, "set", 50))
        await timed(theirs(client, hashes, "set", 50))
        for op in ("set", "get"):
            ours_t: list[float] = []
            theirs_t: list[float] = []
            for _ in range(rounds):
                ours_t.append(await timed(ours(stores, op, ops)))
                theirs_t.append(await timed(theirs(client, hashes, op, ops)))
            results[("ours", op)] = total / statistics.median(ours_t)
            results[("theirs", op)] = total / statistics.median(theirs_t)
    finally:
        for s in stores:
            await s.destroy()
            await s.close()
        await factory.close()
        await client.delete(*hashes)
        await client.aclose()
    return results


async def memory(calls: int, repeats: int) -> tuple[float, float]:
    """Best-of-`repeats` calls/s of `await store.get` and of the sync `store.get`, both run
    in the same coroutine, on the same value."""
    async with sessionstore.AsyncStoreFactory() as af:
        astore = await af.create_store("m")
        await astore.set(KEY, VALUE)
        sfactory = sessionstore.StoreFactory()
        sstore = sfactory.create_store("m")
        sstore.set(KEY, VALUE)
        aget, sget = astore.get, sstore.get
        best_async = best_sync = 0.0
        for _ in range(repeats):
            t0 = time.perf_counter()
            for _ in range(calls):
                await aget(KEY)
            t1 = time.perf_counter()
            for _ in range(calls):
                sget(KEY)
            t2 = time.perf_counter()
            best_async = max(best_async, calls / (t1 - t0))
            best_sync = max(best_sync, calls / (t2 - t1))
        sfactory.close()
    return best_async, best_sync


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--coroutines", type=int, default=64)
    ap.add_argument("--ops", type=int, default=300, help="operations per coroutine per round")
    ap.add_argument("--rounds", type=int, default=3, help="rounds per measurement; the median counts")
    ap.add_argument("--calls", type=int, default=200_000, help="memory:// calls per repeat")
    ap.add_argument("--workers", type=int, help="AsyncStoreFactory(workers=...); default its own")
    args = ap.parse_args()

    with own_server() as url:
        results = asyncio.run(remote(url, args.coroutines, args.ops, args.rounds, args.workers))
    print(
        f"{args.coroutines} coroutines x {args.ops} ops, median of {args.rounds} rounds, "
        f"workers {args.workers or 'default'}, "
        f"redis-py {redis.__version__}, sessionstore {sessionstore.__version__}, "
        f"Python {sys.version.split()[0]}"
    )
    for op in ("set", "get"):
        o, t = results[("ours", op)], results[("theirs", op)]
        print(f"{op}: AsyncStore {o:9.0f} ops/s   redis.asyncio {t:9.0f} ops/s   ratio {o / t:5.2f}x (target >= 3x)")
    a, s = asyncio.run(memory(args.calls, 5))
    print(
        f"memory:// get, best of 5 x {args.calls}: await AsyncStore.get {a:10.0f}/s   "
        f"Store.get {s:10.0f}/s   ratio {a / s:4.2f}x (target >= 0.5x)"
    )


if __name__ == "__main__":
    main()
