"""Python's encoding against the C ABI: a document packb writes goes through
ss_store_set_msgpack / ss_store_get_msgpack byte-identical and decodes to the same value,
and the C library's own documents (keys, get_all, raw bin) decode here."""

from __future__ import annotations

import ctypes
import math
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

import sessionstore as ss

ROOT = Path(__file__).resolve().parents[3]
LIB = Path(os.environ.get("SESSIONSTORE_CLIB", ROOT / "target" / "debug" / "libsessionstore.so"))


class Bytes(ctypes.Structure):
    _fields_ = [("data", ctypes.POINTER(ctypes.c_uint8)), ("len", ctypes.c_size_t)]


@pytest.fixture(scope="module")
def lib() -> ctypes.CDLL:
    if not LIB.exists():
        if not (ROOT / "Cargo.toml").exists():
            pytest.skip(f"no C library at {LIB} and no repository to build it in")
        subprocess.run(["cargo", "build", "--quiet"], cwd=ROOT, check=True)
    c = ctypes.CDLL(str(LIB))
    u64, size, p = ctypes.c_uint64, ctypes.c_size_t, ctypes.c_char_p
    c.ss_factory_open.argtypes = [p, size, ctypes.POINTER(u64)]
    c.ss_factory_close.argtypes = [u64]
    c.ss_store_open.argtypes = [u64, p, size, ctypes.POINTER(u64)]
    c.ss_store_release.argtypes = [u64]
    c.ss_store_destroy.argtypes = [u64]
    for name in ("ss_store_set_msgpack", "ss_store_set"):
        getattr(c, name).argtypes = [u64, p, size, p, size]
    for name in ("ss_store_get_msgpack", "ss_store_get"):
        getattr(c, name).argtypes = [u64, p, size, ctypes.POINTER(Bytes)]
    c.ss_store_keys.argtypes = [u64, ctypes.POINTER(Bytes)]
    c.ss_store_get_all.argtypes = [u64, ctypes.POINTER(Bytes)]
    c.ss_store_set_many.argtypes = [u64, p, size]
    c.ss_store_set_str.argtypes = [u64, p, size, p, size]
    c.ss_store_get_str.argtypes = [u64, p, size, ctypes.POINTER(Bytes)]
    c.ss_store_set_i64.argtypes = [u64, p, size, ctypes.c_int64]
    c.ss_store_get_i64.argtypes = [u64, p, size, ctypes.POINTER(ctypes.c_int64)]
    c.ss_bytes_free.argtypes = [ctypes.POINTER(Bytes)]
    c.ss_bytes_free.restype = None
    c.ss_last_error.restype = ctypes.c_char_p
    for name in (
        "ss_factory_open",
        "ss_factory_close",
        "ss_store_open",
        "ss_store_release",
        "ss_store_destroy",
        "ss_store_set_msgpack",
        "ss_store_set",
        "ss_store_get_msgpack",
        "ss_store_get",
        "ss_store_keys",
        "ss_store_get_all",
        "ss_store_set_many",
        "ss_store_set_str",
        "ss_store_get_str",
        "ss_store_set_i64",
        "ss_store_get_i64",
    ):
        getattr(c, name).restype = ctypes.c_int
    return c


class CStore:
    def __init__(self, lib: ctypes.CDLL, handle: int) -> None:
        self.lib, self.handle = lib, handle

    def _ok(self, status: int) -> int:
        if status < 0:
            raise AssertionError(f"status {status}: {self.lib.ss_last_error().decode()}")
        return status

    def _take(self, call, *args) -> bytes | None:  # type: ignore[no-untyped-def]
        out = Bytes()
        status = self._ok(call(self.handle, *args, ctypes.byref(out)))
        if status == 1:  # SS_NOT_FOUND
            return None
        data = ctypes.string_at(out.data, out.len) if out.len else b""
        self.lib.ss_bytes_free(ctypes.byref(out))
        return data

    def set_msgpack(self, key: str, doc: bytes) -> int:
        k = key.encode()
        return self.lib.ss_store_set_msgpack(self.handle, k, len(k), doc, len(doc))

    def get_msgpack(self, key: str) -> bytes | None:
        k = key.encode()
        return self._take(self.lib.ss_store_get_msgpack, k, len(k))

    def set_raw(self, key: str, raw: bytes) -> None:
        k = key.encode()
        self._ok(self.lib.ss_store_set(self.handle, k, len(k), raw, len(raw)))

    def get_raw(self, key: str) -> bytes | None:
        k = key.encode()
        return self._take(self.lib.ss_store_get, k, len(k))

    def keys(self) -> bytes | None:
        return self._take(self.lib.ss_store_keys)

    def get_all(self) -> bytes | None:
        return self._take(self.lib.ss_store_get_all)

    def set_many(self, doc: bytes) -> int:
        return self.lib.ss_store_set_many(self.handle, doc, len(doc))

    def set_str(self, key: str, text: str) -> None:
        k, v = key.encode(), text.encode()
        self._ok(self.lib.ss_store_set_str(self.handle, k, len(k), v, len(v)))

    def get_str(self, key: str) -> str | None:
        k = key.encode()
        data = self._take(self.lib.ss_store_get_str, k, len(k))
        return None if data is None else data.decode()

    def set_i64(self, key: str, n: int) -> None:
        k = key.encode()
        self._ok(self.lib.ss_store_set_i64(self.handle, k, len(k), n))

    def get_i64(self, key: str) -> int | None:
        k = key.encode()
        out = ctypes.c_int64(7)
        status = self._ok(self.lib.ss_store_get_i64(self.handle, k, len(k), ctypes.byref(out)))
        return None if status == 1 else out.value


@pytest.fixture
def cstore(lib: ctypes.CDLL) -> Iterator[CStore]:
    f, s = ctypes.c_uint64(), ctypes.c_uint64()
    assert lib.ss_factory_open(b"memory://", 9, ctypes.byref(f)) == 0
    assert lib.ss_store_open(f, b"py-cross", 8, ctypes.byref(s)) == 0
    yield CStore(lib, s.value)
    assert lib.ss_store_destroy(s) == 0
    assert lib.ss_store_release(s) == 0
    assert lib.ss_factory_close(f) == 0


def nest(n: int) -> list:
    v: list = ["leaf"]
    for _ in range(n - 1):
        v = [v]
    return v


VALUES = [
    b"raw",
    b"",
    bytes(range(256)) * 400,
    "text",
    "ключ 🔑",
    "s" * 40,
    "s" * 300,
    "s" * 70_000,
    0,
    1,
    -1,
    127,
    128,
    255,
    256,
    -32,
    -33,
    -129,
    2**16,
    -(2**15) - 1,
    2**31,
    2**32,
    -(2**31) - 1,
    2**63 - 1,
    2**63,
    2**64 - 1,
    -(2**63),
    0.0,
    -0.0,
    1.5,
    1e-300,
    math.inf,
    True,
    False,
    [],
    [1, None, "x", [2.5, b"y"]],
    {},
    {"a": None, "b": {"c": [True, {"d": -7}]}},
    {f"k{i}": i for i in range(40)},
    list(range(70_000)),
    ss.Opaque(74, b"\xac\xed\x00\x05"),
    ss.Opaque(80, b"not really a pickle"),
    ss.Opaque(1, b"x" * 300),
    nest(ss.MAX_DEPTH),
    [{"m": nest(ss.MAX_DEPTH - 2)}],
]


@pytest.mark.parametrize("value", VALUES, ids=lambda v: type(v).__name__ + ":" + repr(v)[:24])
def test_python_documents_round_trip_through_the_c_abi(cstore: CStore, value: object) -> None:
    doc = ss.packb(value)
    assert cstore.set_msgpack("k", doc) == 0, cstore.lib.ss_last_error().decode()
    back = cstore.get_msgpack("k")
    assert back == doc  # byte-identical
    assert ss.unpackb(back) == value


def test_tuples_and_buffers_cross_as_their_portable_form(cstore: CStore) -> None:
    for given, read in [((1, (2,)), [1, [2]]), (bytearray(b"ab"), b"ab"), (memoryview(b"cd"), b"cd")]:
        assert cstore.set_msgpack("k", ss.packb(given)) == 0
        assert ss.unpackb(cstore.get_msgpack("k")) == read


def test_pickled_documents_are_valid_for_the_core(cstore: CStore) -> None:
    doc = ss.packb({"s": {1, 2}}, allow_pickle=True)
    assert cstore.set_msgpack("k", doc) == 0
    assert ss.unpackb(cstore.get_msgpack("k"), allow_pickle=True) == {"s": {1, 2}}


def test_c_documents_decode_in_python(cstore: CStore) -> None:
    cstore.set_raw("raw", b"\x00bytes\xff")
    assert ss.unpackb(cstore.get_msgpack("raw")) == b"\x00bytes\xff"
    assert cstore.set_msgpack("n", ss.packb(42)) == 0
    assert sorted(ss.unpackb(cstore.keys())) == ["n", "raw"]
    assert ss.unpackb(cstore.get_all()) == {"raw": b"\x00bytes\xff", "n": 42}
    assert cstore.set_many(ss.packb({"a": [1], "b": {"c": None}})) == 0
    assert ss.unpackb(cstore.get_msgpack("b")) == {"c": None}
    cstore.set_msgpack("bin", ss.packb(b"via packb"))
    assert cstore.get_raw("bin") == b"via packb"


def test_what_the_core_refuses_python_refuses(cstore: CStore) -> None:
    too_deep = b"\x91" * (ss.MAX_DEPTH + 1) + b"\x01"
    assert cstore.set_msgpack("k", too_deep) == -2  # SS_ERR_INVALID_ARG
    with pytest.raises(ss.InvalidArgumentError):
        ss.unpackb(too_deep)
    with pytest.raises(ss.InvalidArgumentError):
        ss.packb(nest(ss.MAX_DEPTH + 1))
    for bad in (b"\xc0", b"\x81\x01\x02", b"\xa2\xff\xfe", b"\x01\x02"):
        assert cstore.set_msgpack("k", bad) == -2
        with pytest.raises(ss.InvalidArgumentError):
            ss.unpackb(bad)


@pytest.mark.parametrize("n", [0, 1, 42, 127, 128, 255, 256, 65535, 65536, 2**31 - 1, 2**31, 2**63 - 1])
def test_c_ints_are_python_ints(cstore: CStore, n: int) -> None:
    """What C's typed int calls write is byte for byte what Python writes, both signs."""
    for v in (n, -n - 1):
        cstore.set_i64("n", v)
        assert cstore.get_msgpack("n") == ss.packb(v)
        assert ss.unpackb(cstore.get_msgpack("n")) == v
        assert cstore.set_msgpack("p", ss.packb(v)) == 0
        assert cstore.get_i64("p") == v


@pytest.mark.parametrize("text", ["", "userId", "ünïcödé ✓", "x" * 300, "a\0b"])
def test_c_strings_are_python_strings(cstore: CStore, text: str) -> None:
    cstore.set_str("s", text)
    assert cstore.get_msgpack("s") == ss.packb(text)
    assert cstore.set_msgpack("p", ss.packb(text)) == 0
    assert cstore.get_str("p") == text
