"""sessionstore.socketio on real servers with python-socketio's own clients: a threaded Server
behind a Werkzeug WSGI server and an AsyncServer under uvicorn, over websocket and polling, on
every backend url. Raw state is checked after each session: on Redis no key is left under the
test's own prefix, and a second factory opening the sid finds it empty."""

from __future__ import annotations

import asyncio
import json
import os
import select
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

socketio = pytest.importorskip("socketio", reason="python-socketio is the optional [socketio] extra")
pytest.importorskip("werkzeug", reason="the threaded server test runs Werkzeug")
pytest.importorskip("uvicorn", reason="the AsyncServer test runs uvicorn")

from servers import (  # noqa: E402
    UvicornServer,
    WsgiServer,
    is_memory,
    is_redis,
    probe_keys,
    raw_keys,
    unique_prefix,
    wait_for,
    with_options,
)

import sessionstore as ss  # noqa: E402
from sessionstore.socketio import AsyncServer, Server  # noqa: E402

HERE = Path(__file__).resolve().parent
TRANSPORTS = ["websocket", "polling"]
# python-engineio's AsyncServer (4.15.1; plain socketio.AsyncServer too) runs the disconnect at
# a polling client's close packet but does not answer that client's pending long-poll (its
# threaded Server does), and the Python client's disconnect() waits for that poll to time out:
# ping_interval + ping_timeout. Short pings bound that to 6 s instead of 45; the timeout leaves
# a client 5 s to answer a ping, since 24 clients and their server share one GIL on a loaded
# machine.
PINGS = {"ping_interval": 1, "ping_timeout": 5}


@pytest.fixture(autouse=True)
def quick_websocket_close(monkeypatch: pytest.MonkeyPatch) -> None:
    """websocket-client waits up to 3 s for the close frame Werkzeug's server never sends (it
    reads the client's close frame as the next HTTP request): wait 0.2 s instead. This only
    shortens the test client's closing handshake."""
    import websocket

    close = websocket.WebSocket.close
    monkeypatch.setattr(close, "__defaults__", (*close.__defaults__[:-1], 0.2))


@dataclass
class App:
    """One running Socket.IO server, its factory, and what its handlers saw."""

    sio: Any
    url: str  # the backend url, with the test's prefix
    prefix: str
    web: str  # http://127.0.0.1:PORT
    shut_down: bool = False
    connected: list[str] = field(default_factory=list)
    disconnected: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def sync_handlers(app: App) -> None:
    sio = app.sio

    @sio.event
    def connect(sid: str, environ: dict[str, Any], auth: dict[str, Any] | None) -> Any:
        with app.lock:
            app.connected.append(sid)
        auth = auth or {}
        if auth.get("refuse") == "false":
            sio.store(sid)["half"] = "written"  # written, then the connection is refused
            return False
        if auth.get("refuse") == "raise":
            sio.store(sid)["half"] = "written"
            raise socketio.exceptions.ConnectionRefusedError("not you")
        sio.save_session(sid, {"userId": auth.get("user"), "stale": True})
        sio.save_session(sid, {"userId": auth.get("user")})  # replaces: "stale" goes
        sio.store(sid)["tenant"] = "acme"
        return None

    @sio.event
    def whoami(sid: str) -> Any:
        return sio.get_session(sid)

    @sio.event
    def bump(sid: str) -> Any:
        with sio.session(sid) as session:
            session["n"] = session.get("n", 0) + 1
            return session["n"]

    @sio.event
    def disconnect(sid: str, reason: str) -> None:
        try:
            # Still readable here (unless shutdown() already ended every session).
            seen = {} if app.shut_down else sio.get_session(sid)
        except Exception as e:  # noqa: BLE001 - kept for the test's failure message
            seen = {"error": repr(e)}
        with app.lock:
            app.disconnected[sid] = seen


def async_handlers(app: App) -> None:
    sio = app.sio

    @sio.event
    async def connect(sid: str, environ: dict[str, Any], auth: dict[str, Any] | None) -> Any:
        app.connected.append(sid)
        auth = auth or {}
        if auth.get("refuse") == "false":
            await sio.store(sid).set("half", "written")
            return False
        if auth.get("refuse") == "raise":
            await sio.store(sid).set("half", "written")
            raise socketio.exceptions.ConnectionRefusedError("not you")
        await sio.save_session(sid, {"userId": auth.get("user"), "stale": True})
        await sio.save_session(sid, {"userId": auth.get("user")})
        await sio.store(sid).set("tenant", "acme")
        return None

    @sio.event
    async def whoami(sid: str) -> Any:
        return await sio.get_session(sid)

    @sio.event
    async def bump(sid: str) -> Any:
        async with sio.session(sid) as session:
            session["n"] = session.get("n", 0) + 1
            return session["n"]

    @sio.event
    async def disconnect(sid: str, reason: str) -> None:
        try:
            app.disconnected[sid] = await sio.get_session(sid)
        except Exception as e:  # noqa: BLE001 - kept for the test's failure message
            app.disconnected[sid] = {"error": repr(e)}


@contextmanager
def running_sync_app(url: str) -> Iterator[App]:
    prefix = unique_prefix()
    backend = with_options(url, prefix=prefix, timeout_ms=10000)  # a shared CI machine
    factory = ss.StoreFactory(backend)
    app = App(Server(factory, async_mode="threading", **PINGS), backend, prefix, "")
    sync_handlers(app)
    web = WsgiServer(socketio.WSGIApp(app.sio))
    app.web = web.url
    try:
        yield app
    finally:
        web.stop()
        if not app.shut_down:
            app.sio.shutdown()
        factory.close()


@contextmanager
def running_async_app(url: str) -> Iterator[App]:
    prefix = unique_prefix()
    backend = with_options(url, prefix=prefix, timeout_ms=10000)  # a shared CI machine
    factory = ss.AsyncStoreFactory(backend)
    app = App(AsyncServer(factory, async_mode="asgi", **PINGS), backend, prefix, "")
    async_handlers(app)
    web = UvicornServer(socketio.ASGIApp(app.sio))
    app.web = web.url
    try:
        yield app
    finally:
        try:
            web.run(app.sio.shutdown())
        finally:
            web.stop()
            asyncio.run(factory.close())


@pytest.fixture
def sync_app(url: str) -> Iterator[App]:
    with running_sync_app(url) as app:
        yield app


@pytest.fixture(params=["Server", "AsyncServer"])
def app(request: pytest.FixtureRequest, url: str) -> Iterator[App]:
    running = running_sync_app if request.param == "Server" else running_async_app
    with running(url) as app:
        yield app


def read_elsewhere(app: App, sid: str) -> dict[str, Any]:
    """The session as a second factory (another node) reads it."""
    with ss.StoreFactory(app.url) as other, other.create_store(sid) as store:
        return dict(store.items())


def assert_nothing_left(app: App, sid: str) -> None:
    """Polls until the session is destroyed, then checks the raw state."""
    wait_for(lambda: sid not in {s for (_, s) in app.sio._sessions.stores}, what=f"{sid} to end")
    if is_memory(app.url):
        # One process, one memory world: the server's own factory must find it empty. The
        # store leaves the table just before it is destroyed, so the probe is polled.
        wait_for(lambda: memory_probe_empty_sync(app, sid), what=f"{sid} destroyed")
        return
    if not is_redis(app.url):
        # No raw view: another node's probe must find the session empty.
        wait_for(lambda: probe_keys(app.url, sid) == [], what=f"{sid} destroyed")
        return
    wait_for(lambda: raw_keys(app.url, app.prefix) == [], what="no key under the prefix")
    with ss.StoreFactory(app.url) as other, other.create_store(sid) as probe:
        assert probe.keys() == []
        probe.destroy()
    assert raw_keys(app.url, app.prefix) == []


def memory_probe_empty_sync(app: App, sid: str) -> bool:
    """Whether the server's own factory finds the session empty (the probe's empty session
    goes again); False while the session still holds data or is destroyed under the probe."""
    try:
        with app.sio.factory.create_store(sid) as probe:
            if probe.keys():
                return False
            probe.destroy()
            return True
    except ss.StoreDestroyedError:
        return False


def memory_probe_empty(app: App, sid: str) -> bool:
    """`memory_probe_empty_sync` on memory:// with an AsyncServer (the server's factory is async)."""

    async def probe() -> bool:
        store = await app.sio.factory.create_store(sid)
        try:
            if await store.keys():
                return False
            await store.destroy()
            return True
        except ss.StoreDestroyedError:
            return False
        finally:
            await store.close()

    return asyncio.run(probe())


def check_gone(app: App, sid: str) -> None:
    if is_memory(app.url) and isinstance(app.sio, AsyncServer):
        wait_for(lambda: sid not in {s for (_, s) in app.sio._sessions.stores}, what=f"{sid} to end")
        wait_for(lambda: memory_probe_empty(app, sid), what=f"{sid} destroyed")
    else:
        assert_nothing_left(app, sid)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_session_lifecycle(app: App, transport: str) -> None:
    client = socketio.SimpleClient()
    client.connect(app.web, auth={"user": 42}, transports=[transport], wait_timeout=30)
    try:
        sid = client.sid
        assert client.call("whoami", timeout=30) == {"userId": 42, "tenant": "acme"}
        assert client.call("bump", timeout=30) == 1
        assert client.call("bump", timeout=30) == 2
        assert client.transport == transport
        if not is_memory(app.url):
            # Another node reads the live session by the Socket.IO sid.
            assert read_elsewhere(app, sid) == {"userId": 42, "tenant": "acme", "n": 2}
    finally:
        client.disconnect()
    wait_for(lambda: sid in app.disconnected, what="the disconnect handler")
    assert app.disconnected[sid] == {"userId": 42, "tenant": "acme", "n": 2}
    check_gone(app, sid)


@pytest.mark.parametrize("how", ["false", "raise"])
def test_refused_connection_leaves_nothing(app: App, how: str) -> None:
    client = socketio.SimpleClient()
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(app.web, auth={"refuse": how}, transports=["websocket"], wait_timeout=30)
    client.disconnect()
    sid = wait_for(lambda: app.connected and app.connected[-1], what="the connect handler")
    assert sid not in app.disconnected
    check_gone(app, sid)


def test_concurrent_clients_stay_isolated(app: App) -> None:
    n = 24
    errors: list[BaseException] = []
    sids: list[str] = []
    start = threading.Barrier(n)

    def client_life(i: int) -> None:
        client = socketio.SimpleClient()
        try:
            start.wait(timeout=30)
            client.connect(app.web, auth={"user": i}, transports=["websocket"], wait_timeout=30)
            sids.append(client.sid)
            for expected in (1, 2, 3):
                assert client.call("bump", timeout=30) == expected
            assert client.call("whoami", timeout=30) == {"userId": i, "tenant": "acme", "n": 3}
        except BaseException as e:  # noqa: BLE001
            errors.append(e)
        finally:
            client.disconnect()

    threads = [threading.Thread(target=client_life, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert len(set(sids)) == n
    try:
        wait_for(lambda: len(app.disconnected) == n, timeout=30, what="every disconnect handler")
    except BaseException:
        pytest.fail(f"no disconnect handler ran for {set(sids) - set(app.disconnected)}")
    assert sorted(s.get("userId", s) for s in app.disconnected.values()) == list(range(n)), app.disconnected
    for sid in sids:
        check_gone(app, sid)


def test_shutdown_destroys_open_sessions(sync_app: App) -> None:
    client = socketio.SimpleClient()
    client.connect(sync_app.web, auth={"user": 7}, transports=["websocket"], wait_timeout=30)
    try:
        assert sync_app.sio._sessions.stores != {}
        sync_app.shut_down = True
        sync_app.sio.shutdown()
        assert sync_app.sio._sessions.stores == {}
        if is_redis(sync_app.url):
            assert raw_keys(sync_app.url, sync_app.prefix) == []
    finally:
        client.disconnect()


@pytest.fixture
def redis_sync_app(url: str) -> Iterator[App]:
    """`sync_app` on a Redis url; memory:// sessions live in one process, so they skip."""
    if is_memory(url):
        pytest.skip("memory:// sessions live in one process")
    with running_sync_app(url) as app:
        yield app


def test_another_process_reads_a_live_session(redis_sync_app: App) -> None:
    sync_app = redis_sync_app
    client = socketio.SimpleClient()
    client.connect(sync_app.web, auth={"user": "u-9"}, transports=["websocket"], wait_timeout=30)
    try:
        reader = (
            "import json, sys, sessionstore\n"
            "with sessionstore.StoreFactory(sys.argv[1]) as f, f.create_store(sys.argv[2]) as s:\n"
            "    print(json.dumps(dict(s.items()), sort_keys=True))\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", reader, sync_app.url, client.sid], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout) == {"userId": "u-9", "tenant": "acme"}
    finally:
        client.disconnect()


def test_killed_server_leaves_nothing_after_ttl(url: str) -> None:
    if is_memory(url):
        pytest.skip("memory:// sessions die with their process")
    prefix = unique_prefix()
    ttl_ms = 1500  # the server subprocess must renew in time on a loaded machine
    backend = with_options(url, prefix=prefix, ttl_ms=ttl_ms)
    server = subprocess.Popen([sys.executable, str(HERE / "sio_server.py"), backend], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        # The server prints its port once it listens; a server that never does fails the test.
        ready, _, _ = select.select([server.stdout], [], [], 30)
        assert ready, "the server subprocess printed no port within 30 s"
        port = int(server.stdout.readline())
        client = socketio.SimpleClient()
        client.connect(f"http://127.0.0.1:{port}", auth={"user": 5}, transports=["websocket"], wait_timeout=30)
        sid = client.sid
        with ss.StoreFactory(with_options(url, prefix=prefix)) as other, other.create_store(sid) as s:
            assert dict(s.items()) == {"userId": 5}
        # Still there while the server refreshes its lease (another node without a lease of its
        # own looks, where the backend has no raw view).
        reader = with_options(url, prefix=prefix)
        left = (lambda: raw_keys(url, prefix)) if is_redis(url) else (lambda: probe_keys(reader, sid))
        wait_for(left, what="the session's key")
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=30)
        client.disconnect()
        wait_for(
            lambda: not left(),
            timeout=20 * ttl_ms / 1000,
            what="the lease to reclaim the killed server's session",
        )
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def test_java_reads_what_a_socketio_handler_wrote(redis_sync_app: App) -> None:
    sync_app = redis_sync_app
    jar = HERE.parents[1] / "java" / "target" / "sessionstore-0.1.0.jar"
    java = os.environ.get("JAVA", "java")
    if not jar.exists():
        pytest.skip(f"{jar} is missing (make test-java builds it)")
    if subprocess.run([java, "-version"], capture_output=True).returncode != 0:
        pytest.skip("no java on PATH")
    client = socketio.SimpleClient()
    client.connect(sync_app.web, auth={"user": 1234}, transports=["websocket"], wait_timeout=30)
    try:
        assert client.call("bump", timeout=30) == 1
        done = subprocess.run(
            [java, "-cp", str(jar), str(HERE / "java" / "ReadSession.java"), sync_app.url, client.sid],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        lines = dict(line.split("=", 1) for line in done.stdout.strip().splitlines())
        assert lines == {"userId": "Integer:1234", "tenant": "String:acme", "n": "Integer:1"}
    finally:
        client.disconnect()
