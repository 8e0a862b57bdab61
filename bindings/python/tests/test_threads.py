"""Many threads on one store and one factory."""

from __future__ import annotations

import random
import sys
import threading
import uuid
from collections.abc import Iterator

import pytest

import sessionstore as ss


@pytest.fixture
def fast_switching() -> Iterator[None]:
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(old)


def run_threads(n: int, target, *args) -> list[BaseException]:  # type: ignore[no-untyped-def]
    errors: list[BaseException] = []

    def wrapped(i: int) -> None:
        try:
            target(i, *args)
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=wrapped, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
        assert not t.is_alive(), "a thread hung"
    return errors


def test_stress_one_store(factory: ss.StoreFactory, fast_switching: None) -> None:
    sid = str(uuid.uuid4())
    store = factory.create_store(sid)

    def work(i: int) -> None:
        rnd = random.Random(i)
        own = f"own{i}"
        for j in range(400):
            op = rnd.randrange(8)
            key = f"shared{rnd.randrange(16)}"
            if op == 0:
                store[key] = {"t": i, "j": j, "l": [j] * (j % 5)}
            elif op == 1:
                v = store.get(key)
                assert v is None or v == "batch" or (isinstance(v, dict) and set(v) == {"t", "j", "l"})
            elif op == 2:
                store.delete(key)
            elif op == 3:
                store.update({key: "batch", own: j})
                assert store[own] == j
            elif op == 4:
                assert len(store) >= 0
                assert all(isinstance(k, str) for k in store.keys())  # noqa: SIM118 (keys() is under test)
            elif op == 5:
                _ = store.items()
            elif op == 6:
                store[own] = j
                assert store[own] == j
            else:
                assert isinstance(key in store, bool)

    assert run_threads(8, work) == []
    for i in range(8):
        assert f"own{i}" in store
    store.destroy()
    store.close()


def test_stress_many_sessions_with_destroy(factory: ss.StoreFactory, fast_switching: None) -> None:
    prefix = uuid.uuid4().hex[:8]

    def work(i: int) -> None:
        rnd = random.Random(100 + i)
        for j in range(150):
            sid = f"{prefix}-{rnd.randrange(6)}"
            try:
                with factory.create_store(sid) as s:
                    s["v"] = j
                    if rnd.random() < 0.2:
                        factory.destroy_session(sid)
                    elif rnd.random() < 0.2:
                        s.destroy()
                    else:
                        s.get("v")
            except ss.StoreDestroyedError:
                pass  # another thread destroyed this session under us: expected

    assert run_threads(6, work) == []
    for k in range(6):
        factory.destroy_session(f"{prefix}-{k}")


def test_close_while_other_threads_use_the_store(factory: ss.StoreFactory, fast_switching: None) -> None:
    store = factory.create_store(str(uuid.uuid4()))
    store["k"] = 1
    go = threading.Event()

    def reader(i: int) -> None:
        go.wait()
        for _ in range(2000):
            try:
                store.get("k")
            except ss.StoreError as e:
                assert "closed" in str(e) or isinstance(e, ss.StoreDestroyedError)
                return

    def closer() -> None:
        go.set()
        store.destroy()
        store.close()

    t = threading.Thread(target=closer)
    t.start()
    assert run_threads(4, reader) == []
    t.join()
    assert store.closed
