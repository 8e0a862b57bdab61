"""Python code that runs in the middle of a store call (a finalizer started by the garbage
collector, a pickle hook) may use the same store: nothing deadlocks, because the binding never
runs Python code while the backend holds a lock."""

from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import gc
    import sessionstore as ss

    f = ss.StoreFactory(allow_pickle=True)
    s = f.create_store("reentrant")
    s["o"] = ss.Opaque(74, b"x")
    s["l"] = [1, [2], {"a": ss.Opaque(1, b"")}]
    s["p"] = {frozenset({1})}

    class Finalizer:
        def __del__(self):
            s.set("touched", len(s))
            s.get("o")

    def garbage():
        g = Finalizer()
        g.cycle = g  # only the cyclic collector frees it, at some allocation

    gc.set_threshold(1, 1, 1)
    for _ in range(3000):
        garbage()
        assert s.get("o") == ss.Opaque(74, b"x")
        garbage()
        assert s.get("l")[2]["a"].type_code == 1
        garbage()
        assert s.get("p") == {frozenset({1})}
        garbage()
        s.items(); s.update({"u": [1, 2]}); list(s)
    gc.collect()
    print("ok", s["touched"] > 0)
    """
)


def test_finalizers_during_store_calls_do_not_deadlock() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["ok", "True"]
