"""Fuzz target of Python's value decoder, sessionstore.unpackb (docs/API.md §3, §6).

For any bytes, unpackb either returns a value or raises InvalidArgumentError, the documented
exception of a bad document: never another exception, a crash or a hang. It agrees with the
core's validator, reached through the C library (ss_store_set_msgpack on a memory store):
what one host stores every other host must read, so the two accept exactly the same documents.
A decoded value packs again (packb), and that document decodes and packs to itself.

Run under atheris by `make fuzz-python`, over the committed corpus by `make fuzz-replay-python`
(replay.py); `check` is the whole target. Pickles are never loaded (allow_pickle stays False):
loading fuzzed pickles would run fuzzed code.
"""

from __future__ import annotations

import ctypes
import math
import os
import sys
from pathlib import Path

import sessionstore as ss

ROOT = Path(__file__).resolve().parents[2]
LIB = Path(
    os.environ.get(
        "SESSIONSTORE_CLIB", ROOT / "target" / "debug" / "libsessionstore.so"
    )
)


class _Core:
    """One memory store of the C library, whose set_msgpack is the core's validator."""

    def __init__(self, path: Path) -> None:
        c = ctypes.CDLL(str(path))
        u64, size, p = ctypes.c_uint64, ctypes.c_size_t, ctypes.c_char_p
        c.ss_factory_open.argtypes = [p, size, ctypes.POINTER(u64)]
        c.ss_store_open.argtypes = [u64, p, size, ctypes.POINTER(u64)]
        c.ss_store_set_msgpack.argtypes = [u64, p, size, p, size]
        self.c = c
        factory, store = u64(), u64()
        assert c.ss_factory_open(b"memory://", 9, ctypes.byref(factory)) == 0
        assert c.ss_store_open(factory, b"fuzz", 4, ctypes.byref(store)) == 0
        self.store = store

    def accepts(self, doc: bytes) -> bool:
        status = self.c.ss_store_set_msgpack(self.store, b"k", 1, doc, len(doc))
        # 0: stored; -2: invalid document. Nothing else may answer a small document.
        assert status in (0, -2), f"ss_store_set_msgpack answered {status} for {doc!r}"
        return status == 0


_core: _Core | None = None


def _the_core() -> _Core:
    global _core
    if _core is None:
        if not LIB.exists():
            sys.exit(
                f"no C library at {LIB}: `cargo build` makes it (or set SESSIONSTORE_CLIB)"
            )
        _core = _Core(LIB)
    return _core


def _same(a: object, b: object) -> bool:
    """Equality where NaN equals NaN (a float of the document compares to itself)."""
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def check(data: bytes) -> None:
    """The whole target: raises AssertionError (or whatever escapes unpackb) on a finding."""
    try:
        value = ss.unpackb(data)
    except ss.InvalidArgumentError:
        value = None
        decoded = False
    else:
        decoded = True
    accepted = _the_core().accepts(data)
    assert decoded == accepted, (
        f"unpackb {'accepts' if decoded else 'refuses'} what the core "
        f"{'accepts' if accepted else 'refuses'}: {data!r}"
    )
    if not decoded:
        return
    doc = ss.packb(value)
    again = ss.unpackb(doc)
    assert _same(again, value), (
        f"{data!r}: {value!r} packs to {doc!r}, which reads {again!r}"
    )
    assert ss.packb(again) == doc, f"{data!r}: packing is not stable"
    assert _the_core().accepts(doc), f"the core refuses what packb wrote: {doc!r}"


def main() -> None:
    import atheris  # only the fuzzing run needs it; the replay does not

    _the_core()
    atheris.Setup(sys.argv, check)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
