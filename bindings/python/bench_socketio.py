"""python-socketio request/ack events that read and write the session: python-socketio's own
in-process session beside sessionstore.socketio on memory:// and on Redis (a benchmark, not a
test).

Run: `make bench-socketio`, or `python bindings/python/bench_socketio.py` with sessionstore,
python-socketio (with its asyncio client: aiohttp), Werkzeug and uvicorn installed and
redis-server on PATH. It starts, each on a free 127.0.0.1 port and stopped at the end:
a redis-server (bench_redis.own_server) and one server process per kind below, for both a
threaded socketio.Server (Werkzeug, async_mode="threading") and a socketio.AsyncServer
(uvicorn, async_mode="asgi"):
  * plain:  python-socketio's server, its own in-process session
  * memory: sessionstore.socketio on memory://
  * redis:  sessionstore.socketio on the redis-server
Every server answers the event `touch` with `with sio.session(sid) as s:` (`async with` on
the AsyncServer): it reads the session, bumps a counter, writes the payload back, and acks the
counter. CLIENTS python-socketio AsyncClients (one process, websocket) each send EVENTS
`touch` calls one after another; rounds alternate between the kinds, the median counts.
Prints events/s of each kind and its ratio to plain (target on memory://: within 1.2x).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def serve(kind: str, mode: str, url: str) -> None:
    """The server process: prints its port, serves until killed."""
    import socketio

    import sessionstore
    from sessionstore.socketio import AsyncServer, Server

    if mode == "threading":
        from werkzeug.serving import make_server

        sio: Any = (
            socketio.Server(async_mode="threading")
            if kind == "plain"
            else Server(sessionstore.StoreFactory(url), async_mode="threading")
        )

        @sio.event
        def connect(sid: str, environ: Any, auth: Any) -> None:
            sio.save_session(sid, {"userId": auth["user"], "n": 0})

        @sio.event
        def touch(sid: str, data: Any) -> int:
            with sio.session(sid) as s:
                s["n"] += 1
                s["last"] = data
                return int(s["n"])

        server = make_server("127.0.0.1", 0, socketio.WSGIApp(sio), threaded=True)
        print(server.server_port, flush=True)
        server.serve_forever()
    else:
        import socket

        import uvicorn

        sio = (
            socketio.AsyncServer(async_mode="asgi")
            if kind == "plain"
            else AsyncServer(sessionstore.AsyncStoreFactory(url), async_mode="asgi")
        )

        @sio.event
        async def connect(sid: str, environ: Any, auth: Any) -> None:
            await sio.save_session(sid, {"userId": auth["user"], "n": 0})

        @sio.event
        async def touch(sid: str, data: Any) -> int:
            async with sio.session(sid) as s:
                s["n"] += 1
                s["last"] = data
                return int(s["n"])

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        print(port, flush=True)
        uvicorn.run(socketio.ASGIApp(sio), host="127.0.0.1", port=port, log_level="error", lifespan="off", ws="wsproto")


def start(kind: str, mode: str, url: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, __file__, "serve", kind, mode, url], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    return proc, f"http://127.0.0.1:{int(proc.stdout.readline())}"


async def round_trip(web: str, clients: int, events: int) -> float:
    """events/s of `clients` clients each sending `events` touch calls in turn."""
    import socketio

    conns = []
    for i in range(clients):
        for _ in range(100):  # the server process may still be starting
            client = socketio.AsyncClient()
            try:
                await client.connect(web, auth={"user": i}, transports=["websocket"])
                break
            except socketio.exceptions.ConnectionError:
                await asyncio.sleep(0.05)
        else:
            raise SystemExit(f"bench_socketio: cannot connect to {web}")
        conns.append(client)

    async def one(client: Any) -> None:
        for j in range(events):
            if await client.call("touch", {"j": j}, timeout=30) != j + 1:
                raise AssertionError("wrong ack")

    t0 = time.perf_counter()
    await asyncio.gather(*(one(c) for c in conns))
    elapsed = time.perf_counter() - t0
    for c in conns:
        await c.disconnect()
    return clients * events / elapsed


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "serve":
        serve(*sys.argv[2:5])
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--events", type=int, default=200, help="touch calls per client per round")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()

    sys.path.insert(0, str(HERE))
    from importlib.metadata import version

    import sessionstore
    from bench_redis import own_server

    kinds = ("plain", "memory", "redis")
    with own_server() as redis_url:
        urls = {"plain": "", "memory": "memory://", "redis": f"{redis_url}?prefix=siobench"}
        for mode in ("threading", "asgi"):
            servers = {k: start(k, mode, urls[k]) for k in kinds}
            try:
                rates: dict[str, list[float]] = {k: [] for k in kinds}
                for k in kinds:  # warm-up
                    asyncio.run(round_trip(servers[k][1], args.clients, 20))
                for _ in range(args.rounds):
                    for k in kinds:
                        rates[k].append(asyncio.run(round_trip(servers[k][1], args.clients, args.events)))
            finally:
                for proc, _ in servers.values():
                    proc.kill()
                    proc.wait()
            plain = statistics.median(rates["plain"])
            print(
                f"{mode}: {args.clients} clients x {args.events} touch calls, median of "
                f"{args.rounds} rounds (python-socketio {version('python-socketio')}, sessionstore "
                f"{sessionstore.__version__}, Python {sys.version.split()[0]})"
            )
            for k in kinds:
                r = statistics.median(rates[k])
                target = "  (target: within 1.2x, i.e. >= 0.83)" if k == "memory" else ""
                print(f"  {k:6s} {r:8.0f} events/s   {r / plain:4.2f}x of plain{target}")


if __name__ == "__main__":
    main()
