"""Ctrl-C ends a call blocked on a stopped Redis server at once, not after timeout_ms: the
signal handler runs while the call waits, and its exception is what the call raises."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
from collections.abc import Iterator

import pytest

import sessionstore

REDIS_SERVER = os.environ.get("SESSIONSTORE_TEST_REDIS_SERVER") or shutil.which("redis-server")


class Interrupted(Exception):
    """What the test's SIGINT handler raises."""


@pytest.fixture
def stopped_server() -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A throwaway redis-server on a free loopback port, stopped by the test; resumed and
    stopped by PID at the end."""
    if REDIS_SERVER is None:
        pytest.skip("no redis-server")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with tempfile.TemporaryDirectory() as home:
        server = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                home,
            ],
            stdout=subprocess.DEVNULL,
        )
        try:
            url = f"redis://127.0.0.1:{port}?timeout_ms=60000"
            for _ in range(100):
                try:
                    sessionstore.StoreFactory(url).close()
                    break
                except sessionstore.BackendError:
                    threading.Event().wait(0.05)
            yield url, server
        finally:
            server.send_signal(signal.SIGCONT)
            server.terminate()
            server.wait(10)


def test_ctrl_c_ends_a_call_blocked_on_a_stopped_server(stopped_server: tuple[str, subprocess.Popen[bytes]]) -> None:
    url, server = stopped_server
    previous = signal.getsignal(signal.SIGINT)

    def raise_interrupted(signum: int, frame: object) -> None:
        raise Interrupted

    signal.signal(signal.SIGINT, raise_interrupted)
    # A bound for the test itself: if the call ignores the signal, the server resumes after
    # 20 s and the call completes, which fails the test instead of hanging it.
    resume = threading.Timer(20, server.send_signal, (signal.SIGCONT,))
    try:
        with sessionstore.StoreFactory(url) as factory, factory.create_store("ctrl-c") as store:
            store["k"] = 1
            server.send_signal(signal.SIGSTOP)
            resume.start()
            # The signal is sent from inside the block: however late this thread runs, it
            # arrives where it is expected.
            with pytest.raises(Interrupted):
                threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT)).start()
                store.get("k")
            server.send_signal(signal.SIGCONT)
            assert store.get("k") == 1, "the connection still serves the next call"
            store.destroy()
    finally:
        resume.cancel()
        signal.signal(signal.SIGINT, previous)
