"""Python get/set on Redis: sessionstore against redis-py (a benchmark, not a test).

Run: `make bench-redis-python`, or `python bindings/python/bench_redis.py` with sessionstore and
redis-py installed and redis-server on PATH. Without --url it starts its own redis-server (no
persistence) on a free 127.0.0.1 port and stops it by PID at the end.

In one run, against one server, the same work from THREADS threads, each on its own session:
  * ours:     sessionstore.Store.set / .get on a redis:// factory shared by every thread
              (one hash per session, HSET / HGET through the store's scripts; I/O without the GIL)
  * redis-py: hset / hget on one hash per thread through ONE shared redis.Redis client and its
              connection pool, decode_responses=True so both hand back the same str
with the same short str value. Prints ops/s of each and the ratio (target: ours >= 3x redis-py).

Then hot-session get on a redis://?near_cache=1000 factory beside get on memory://, the same
threads and value (target: the near cache >= 0.8x memory's ops/s).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import redis

import sessionstore

VALUE = "user-42:tenant-7"  # 16 bytes, as in scripts/bench-redis.sh
KEY = "userId"


@contextmanager
def own_server() -> Iterator[str]:
    """A throwaway redis-server on a free loopback port; stopped by its PID."""
    binary = shutil.which("redis-server")
    if binary is None:
        sys.exit("bench_redis: redis-server not found (tests/redis/harness.sh true installs it)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    workdir = tempfile.mkdtemp(prefix="bench-redis-py.")
    proc = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
            "--dir",
            workdir,
            "--logfile",
            os.path.join(workdir, "log"),
        ],
    )
    try:
        client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=1)
        for _ in range(100):
            try:
                if client.ping():
                    break
            except redis.ConnectionError:
                time.sleep(0.1)
        else:
            sys.exit("bench_redis: redis-server did not come up")
        client.close()
        yield f"redis://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(workdir, ignore_errors=True)


def run_threads(work: list[Callable[[], None]]) -> float:
    """Runs one callable per thread, released together; returns the wall time of all of them."""
    start = threading.Barrier(len(work) + 1)

    def body(fn: Callable[[], None]) -> None:
        start.wait()
        fn()

    threads = [threading.Thread(target=body, args=(fn,)) for fn in work]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    return time.perf_counter() - t0


def ours_work(stores: list[sessionstore.Store], op: str, n: int) -> list[Callable[[], None]]:
    def make(store: sessionstore.Store) -> Callable[[], None]:
        if op == "set":

            def fn() -> None:
                set_ = store.set
                for _ in range(n):
                    set_(KEY, VALUE)
        else:

            def fn() -> None:
                get = store.get
                for _ in range(n):
                    if get(KEY) != VALUE:
                        raise AssertionError("ours: wrong value")

        return fn

    return [make(s) for s in stores]


def redispy_work(client: redis.Redis, hashes: list[str], op: str, n: int) -> list[Callable[[], None]]:
    def make(name: str) -> Callable[[], None]:
        if op == "set":

            def fn() -> None:
                hset = client.hset
                for _ in range(n):
                    hset(name, KEY, VALUE)
        else:

            def fn() -> None:
                hget = client.hget
                for _ in range(n):
                    if hget(name, KEY) != VALUE:
                        raise AssertionError("redis-py: wrong value")

        return fn

    return [make(h) for h in hashes]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", help="a redis:// url to use instead of starting a server")
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--ops", type=int, default=3000, help="operations per thread per round")
    ap.add_argument("--rounds", type=int, default=3, help="rounds per measurement; the median counts")
    args = ap.parse_args()

    with own_server() if args.url is None else _given(args.url) as url:
        run = f"{os.getpid()}-{int(time.time())}"
        host_port = url.split("://", 1)[1].split("/", 1)[0].split("?", 1)[0]
        host, port = host_port.rsplit(":", 1)
        client = redis.Redis(host=host, port=int(port), decode_responses=True)
        sep = "&" if "?" in url else "?"
        factory = sessionstore.StoreFactory(f"{url}{sep}prefix=pybench")
        stores = [factory.create_store(f"s{run}-{i}") for i in range(args.threads)]
        hashes = [f"pybench-redispy:s{run}-{i}" for i in range(args.threads)]
        total = args.threads * args.ops
        results: dict[tuple[str, str], float] = {}
        try:
            # Warm up both (connections, scripts loaded, pool filled), then alternate rounds so
            # drift in machine load hits both sides alike.
            run_threads(ours_work(stores, "set", 200))
            run_threads(redispy_work(client, hashes, "set", 200))
            for op in ("set", "get"):
                ours_t: list[float] = []
                theirs_t: list[float] = []
                for _ in range(args.rounds):
                    ours_t.append(run_threads(ours_work(stores, op, args.ops)))
                    theirs_t.append(run_threads(redispy_work(client, hashes, op, args.ops)))
                results[("ours", op)] = total / statistics.median(ours_t)
                results[("redis-py", op)] = total / statistics.median(theirs_t)
            # The near cache beside memory://: hot reads, after each store's value is cached.
            near = sessionstore.StoreFactory(f"{url}{sep}prefix=pybench&near_cache=1000")
            memory = sessionstore.StoreFactory("memory://")
            near_stores = [near.create_store(s.session_id) for s in stores]
            memory_stores = [memory.create_store(s.session_id) for s in stores]
            for s in memory_stores:
                s.set(KEY, VALUE)
            while near.stats()["near_cache"]["hits"] < len(near_stores):
                run_threads(ours_work(near_stores, "get", 1))
            near_t: list[float] = []
            memory_t: list[float] = []
            for _ in range(args.rounds):
                near_t.append(run_threads(ours_work(near_stores, "get", args.ops * 10)))
                memory_t.append(run_threads(ours_work(memory_stores, "get", args.ops * 10)))
            results[("near", "get")] = total * 10 / statistics.median(near_t)
            results[("memory", "get")] = total * 10 / statistics.median(memory_t)
            near.close()
            memory.close()
        finally:
            for s in stores:
                s.destroy()
                s.close()
            factory.close()
            if hashes:
                client.delete(*hashes)
            client.close()

    print(
        f"{args.threads} threads x {args.ops} ops, median of {args.rounds} rounds, "
        f"redis-py {redis.__version__}, sessionstore {sessionstore.__version__}, "
        f"Python {sys.version.split()[0]}"
    )
    for op in ("set", "get"):
        ours, theirs = results[("ours", op)], results[("redis-py", op)]
        print(
            f"{op}: ours {ours:9.0f} ops/s   redis-py {theirs:9.0f} ops/s   ratio {ours / theirs:5.2f}x (target >= 3x)"
        )
    near, memory = results[("near", "get")], results[("memory", "get")]
    print(
        f"get: near cache {near:9.0f} ops/s   memory:// {memory:9.0f} ops/s"
        f"   ratio {near / memory:5.2f}x (target >= 0.8x)"
    )


@contextmanager
def _given(url: str) -> Iterator[str]:
    yield url


if __name__ == "__main__":
    main()
