"""Real servers for the asyncio and python-socketio tests, each on a free 127.0.0.1 port and
each stopped by the test that started it: a threaded WSGI server (Werkzeug's, which
simple-websocket takes websockets from), uvicorn in a thread, a throwaway redis-server (for
SIGSTOP), and what reads a backend's raw state."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


def wait_for(condition: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> Any:
    """Polls `condition` until it is truthy (returned), failing after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.01)


async def wait_for_async(condition: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> Any:
    """`wait_for` inside a coroutine: sleeps with `asyncio.sleep`, so the loop goes on running
    (answers of calls still in flight are delivered by the loop)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.01)


def is_memory(url: str) -> bool:
    return url == "" or url.startswith("memory")


def is_redis(url: str) -> bool:
    """Whether `url` is a Redis backend, whose raw state `raw_keys` reads."""
    return url.startswith("redis")


def probe_keys(url: str, sid: str) -> list[str]:
    """The keys of session `sid` as another factory on `url` sees them (a backend without a
    raw view); a probe that finds the session empty destroys the empty session it opened.
    Empty too when the session is destroyed under the probe."""
    import sessionstore

    with sessionstore.StoreFactory(url) as factory, factory.create_store(sid) as probe:
        try:
            keys = probe.keys()
            if not keys:
                probe.destroy()
            return keys
        except sessionstore.StoreDestroyedError:
            return []


def with_options(url: str, **options: Any) -> str:
    """`url` with more query options (e.g. a test's own `prefix`)."""
    query = "&".join(f"{k}={v}" for k, v in options.items())
    return f"{url}{'&' if '?' in url else '?'}{query}"


def unique_prefix() -> str:
    return "t" + uuid.uuid4().hex[:12]


# ---- raw backend state ---------------------------------------------------------------------


def raw_keys(url: str, prefix: str) -> list[bytes]:
    """Every Redis key under `prefix:` on the deployment `url` names (every master of a
    Cluster; the current master behind Sentinel), through redis-py."""
    import redis
    from redis.cluster import ClusterNode, RedisCluster
    from redis.sentinel import Sentinel

    parts = urlsplit(url)
    scheme = parts.scheme
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    hosts = [h.rsplit(":", 1) for h in parts.netloc.rpartition("@")[2].split(",")]
    path = [p for p in parts.path.split("/") if p]
    pattern = f"{prefix}:*"
    auth = {"username": user, "password": password}
    if scheme == "redis+cluster":
        cluster = RedisCluster(startup_nodes=[ClusterNode(h, int(p)) for h, p in hosts], **auth)
        try:
            return sorted(cluster.scan_iter(match=pattern, target_nodes=RedisCluster.PRIMARIES))
        finally:
            cluster.close()
    if scheme == "redis+sentinel":
        db = int(path[1]) if len(path) > 1 else 0
        sentinel = Sentinel([(h, int(p)) for h, p in hosts])
        client = sentinel.master_for(path[0], db=db, **auth)
    else:
        db = int(path[0]) if path else 0
        ((host, port),) = hosts
        client = redis.Redis(host=host, port=int(port), db=db, **auth)
    try:
        return sorted(client.scan_iter(match=pattern))
    finally:
        client.close()


# ---- a throwaway redis-server --------------------------------------------------------------


class RedisProcess:
    """A redis-server on a free loopback port (no persistence), stopped by its PID."""

    def __init__(self) -> None:
        binary = os.environ.get("SESSIONSTORE_TEST_REDIS_SERVER") or shutil.which("redis-server")
        if not binary:
            pytest.skip("redis-server is not installed (tests/redis/harness.sh installs it)")
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="sessionstore-py-redis.")
        self.proc = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                LOOPBACK,
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--dir",
                self.dir,
                "--logfile",
                os.path.join(self.dir, "log"),
            ],
        )
        self.url = f"redis://{LOOPBACK}:{self.port}"
        wait_for(self._pings, what="redis-server to answer")

    def _pings(self) -> bool:
        try:
            with socket.create_connection((LOOPBACK, self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def pause(self) -> None:
        os.kill(self.proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.proc.pid, signal.SIGCONT)

    def stop(self) -> None:
        self.resume()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


@contextmanager
def redis_process() -> Iterator[RedisProcess]:
    server = RedisProcess()
    try:
        yield server
    finally:
        server.stop()


# ---- web servers ---------------------------------------------------------------------------


class WsgiServer:
    """A threaded Werkzeug server for a WSGI app (a socketio.WSGIApp), in a thread."""

    def __init__(self, app: Any) -> None:
        from werkzeug.serving import make_server

        self.server = make_server(LOOPBACK, 0, app, threaded=True)
        self.url = f"http://{LOOPBACK}:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), name="wsgi", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


class UvicornServer:
    """A real uvicorn server for an ASGI app (a socketio.ASGIApp), its loop in a thread."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        port = free_port()
        config = uvicorn.Config(
            app,
            host=LOOPBACK,
            port=port,
            log_level="warning",
            lifespan="off",
            ws="wsproto",
            loop="asyncio",
            timeout_graceful_shutdown=1,
        )
        self.server = uvicorn.Server(config)
        self.url = f"http://{LOOPBACK}:{port}"
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_until_complete, args=(self.server.serve(),), name="uvicorn", daemon=True
        )
        self.thread.start()
        wait_for(lambda: self.server.started or not self.thread.is_alive(), what="uvicorn to start")
        if not self.server.started:
            pytest.fail("uvicorn did not start")

    def run(self, coroutine: Any, timeout: float = 30.0) -> Any:
        """Runs `coroutine` on the server's loop (e.g. `sio.shutdown()`), waiting for it."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.loop.close()
