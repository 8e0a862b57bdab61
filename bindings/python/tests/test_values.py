"""Every value type of docs/API.md §3 through a store and through packb/unpackb."""

from __future__ import annotations

import enum
import math
import pickle
import struct

import pytest

import sessionstore
from sessionstore import Opaque, packb, unpackb

ROUND_TRIP = [
    b"",
    b"\x00\x01raw bytes\xff",
    bytes(range(256)) * 300,  # bin32
    "",
    "short",
    "ключ — 鍵 — 🔑",
    "x" * 70_000,  # str32
    0,
    1,
    -1,
    127,
    128,
    -32,
    -33,
    255,
    256,
    65_535,
    65_536,
    2**31,
    2**32,
    2**63 - 1,
    2**63,
    2**64 - 1,
    -(2**63),
    -(2**31) - 1,
    0.0,
    -0.0,
    1.5,
    1e300,
    math.inf,
    -math.inf,
    True,
    False,
    [],
    [1, "two", 3.0, None, [b"four"], {"five": 5}],
    {},
    {"k": None, "list": [None, None], "nested": {"deep": {"er": [1, 2, 3]}}},
    {"": "empty key", "ключ": "unicode key"},
    Opaque(74, b"\xac\xed\x00\x05java-serialized"),
    Opaque(-1, b"\x00" * 8),
    Opaque(1, b""),
]


@pytest.mark.parametrize("value", ROUND_TRIP, ids=lambda v: type(v).__name__ + ":" + repr(v)[:30])
def test_round_trip_through_store(store: sessionstore.Store, value: object) -> None:
    store.set("v", value)
    got = store.get("v")
    assert got == value
    assert type(got) is type(value)
    assert unpackb(packb(value)) == value


def test_nan_round_trips(store: sessionstore.Store) -> None:
    store.set("nan", math.nan)
    assert math.isnan(store.get("nan"))


@pytest.mark.parametrize(
    ("given", "read"),
    [
        (bytearray(b"abc"), b"abc"),
        (memoryview(b"abcdef")[::2], b"ace"),
        ((1, "a", (2, 3)), [1, "a", [2, 3]]),
        ({"t": (1, 2)}, {"t": [1, 2]}),
    ],
)
def test_accepted_types_read_as_their_portable_form(store: sessionstore.Store, given: object, read: object) -> None:
    store.set("v", given)
    got = store.get("v")
    assert got == read and type(got) is type(read)


class Color(enum.IntEnum):
    RED = 1


class Name(str, enum.Enum):  # noqa: UP042 (the str-mixin enum is what is tested)
    ADA = "ada"


def test_subclasses_are_written_as_their_base_type(store: sessionstore.Store) -> None:
    store.set("int", Color.RED)
    store.set("str", Name.ADA)
    assert store.get("int") == 1 and type(store.get("int")) is int
    assert store.get("str") == "ada" and type(store.get("str")) is str


def test_bool_is_not_int() -> None:
    assert packb(True) == b"\xc3" and packb(False) == b"\xc2"
    assert packb(1) == b"\x01"
    assert unpackb(b"\xc3") is True


def test_wire_format_markers() -> None:
    assert packb("a") == b"\xa1a"
    assert packb(b"a") == b"\xc4\x01a"
    assert packb(1.5) == b"\xcb" + struct.pack(">d", 1.5)  # always float64
    assert packb([None]) == b"\x91\xc0"
    assert packb({"a": 1}) == b"\x81\xa1a\x01"
    assert packb(-1) == b"\xff"
    # Never the int8/int16 markers, which Java reads as Byte/Short: foreign ints read as
    # Integer (int32) or Long (int64) there.
    assert packb(-33) == b"\xd2" + struct.pack(">i", -33)
    assert packb(-40000) == b"\xd2" + struct.pack(">i", -40000)
    assert packb(-(2**31)) == b"\xd2" + struct.pack(">i", -(2**31))
    assert packb(-(2**31) - 1) == b"\xd3" + struct.pack(">q", -(2**31) - 1)
    assert packb(200) == b"\xcc\xc8" and packb(70000) == b"\xce" + struct.pack(">I", 70000)
    assert packb(2**64 - 1) == b"\xcf" + b"\xff" * 8
    assert packb(-(2**63)) == b"\xd3\x80" + b"\x00" * 7
    assert packb(Opaque(74, b"x")) == b"\xd4\x4ax"


def test_foreign_encodings_decode() -> None:
    assert unpackb(b"\xca" + struct.pack(">f", 1.5)) == 1.5  # float32 (Java's Float)
    assert unpackb(b"\xd0\x05") == 5  # int8 marker for a positive value (Java's Byte)
    assert unpackb(b"\xd1\x00\x05") == 5
    assert unpackb(b"\xd2\xff\xff\xff\xff") == -1
    assert unpackb(b"\xcd\x01\x00") == 256
    assert unpackb(b"\xd9\x01a") == "a"  # str8
    assert unpackb(b"\xdc\x00\x01\x01") == [1]  # array16
    assert unpackb(b"\xde\x00\x01\xa1a\x01") == {"a": 1}  # map16
    assert unpackb(bytearray(b"\xa1a")) == "a"
    assert unpackb(memoryview(b"\xa1a")) == "a"


@pytest.mark.parametrize("value", [2**64, -(2**63) - 1, 10**30, [2**64], {"a": -(2**70)}])
def test_int_out_of_range_is_overflow_error(store: sessionstore.Store, value: object) -> None:
    with pytest.raises(OverflowError):
        store.set("v", value)
    with pytest.raises(OverflowError):
        packb(value)


@pytest.mark.parametrize(
    "value",
    [None, object(), {1: "int key"}, {("t",): 1}, {b"bytes": 1}, {"ok": [{2: 3}]}, {1, 2}, 1j, ...],
    ids=repr,
)
def test_unsupported_types_are_type_errors(store: sessionstore.Store, value: object) -> None:
    with pytest.raises(TypeError):
        store.set("v", value)
    with pytest.raises(TypeError):
        packb(value)
    assert not store.has("v")


def test_lone_surrogate_is_a_value_error(store: sessionstore.Store) -> None:
    with pytest.raises(ValueError):
        store.set("v", "\ud800")


def test_nesting_depth_is_bounded(store: sessionstore.Store) -> None:
    def nest(n: int) -> list:
        v: list = []
        for _ in range(n - 1):
            v = [v]
        return v

    store.set("deep", nest(sessionstore.MAX_DEPTH))
    assert store.get("deep") == nest(sessionstore.MAX_DEPTH)
    with pytest.raises(sessionstore.InvalidArgumentError):
        store.set("deeper", nest(sessionstore.MAX_DEPTH + 1))
    loop: list = []
    loop.append(loop)
    with pytest.raises(ValueError):
        store.set("loop", loop)
    with pytest.raises(sessionstore.InvalidArgumentError):
        unpackb(b"\x91" * (sessionstore.MAX_DEPTH + 1) + b"\x01")
    with pytest.raises(sessionstore.InvalidArgumentError):
        unpackb(b"\x91" * 100_000 + b"\x01")


@pytest.mark.parametrize(
    "doc",
    [b"", b"\xc0", b"\xc1", b"\xa5abc", b"\x01\x02", b"\x81\x01\x02", b"\xa2\xff\xfe", b"\xdd\xff\xff\xff\xff"],
)
def test_invalid_documents(doc: bytes) -> None:
    with pytest.raises(sessionstore.InvalidArgumentError):
        unpackb(doc)


def test_pickle_only_with_opt_in(pickle_factory: sessionstore.StoreFactory, sid: str) -> None:
    value = {"when": {1, 2, 3}, "c": complex(1, 2)}
    with pickle_factory.create_store(sid) as s:
        s.set("obj", value)
        s.set("plain", [1, "x"])  # portable values are never pickled
        assert s.get("obj") == value
        assert s.get("plain") == [1, "x"]
    doc = packb({"when": {1, 2, 3}}, allow_pickle=True)
    assert doc[:4] == b"\x81\xa4wh"
    assert doc[6] == 0xC7 and doc[8] == 80  # ext 8, type 80 ("P")
    assert unpackb(doc, allow_pickle=True) == {"when": {1, 2, 3}}
    # Without the opt-in, an ext 80 is never unpickled: it reads as opaque.
    opaque = unpackb(doc)["when"]
    assert isinstance(opaque, Opaque) and opaque.type_code == 80
    assert pickle.loads(opaque.data) == {1, 2, 3}
    with pickle_factory.create_store(sid) as s:
        s.destroy()


def test_pickled_value_read_by_a_factory_without_opt_in(url: str, sid: str) -> None:
    if url.startswith("memory"):
        pytest.skip("memory:// factories do not share data")
    with sessionstore.StoreFactory(url, allow_pickle=True) as writer, sessionstore.StoreFactory(url) as reader:
        writer.create_store(sid).set("obj", {1, 2})
        got = reader.create_store(sid).get("obj")
        assert isinstance(got, Opaque) and got.type_code == 80
        writer.destroy_session(sid)


_REENTER: dict[str, sessionstore.Store] = {}


def _touch(tag: str) -> tuple[str, object]:
    store = _REENTER["store"]
    store.set("touched", tag)
    return ("rebuilt", store.get("touched"))


class Reentrant:
    """Unpickling it writes and reads the very store being read: that must not deadlock."""

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (_touch, ("yes",))


def test_unpickling_may_use_the_same_store(pickle_factory: sessionstore.StoreFactory, sid: str) -> None:
    with pickle_factory.create_store(sid) as s:
        _REENTER["store"] = s
        s.set("a", Reentrant())
        s.set("b", [frozenset({1}), {"z": Reentrant()}])
        assert s.get("a") == ("rebuilt", "yes")
        assert s.get("b") == [frozenset({1}), {"z": ("rebuilt", "yes")}]
        assert dict(s.items())["a"] == ("rebuilt", "yes")
        s.destroy()
    _REENTER.clear()


def test_opaque() -> None:
    o = Opaque(74, b"data")
    assert o.type_code == 74 and o.data == b"data"
    assert o == Opaque(74, b"data") and o != Opaque(75, b"data") and o != (74, b"data")
    assert hash(o) == hash(Opaque(74, b"data"))
    assert "74" in repr(o)
    assert pickle.loads(pickle.dumps(o)) == o
    with pytest.raises(AttributeError):
        o.type_code = 1  # type: ignore[misc]
    with pytest.raises(OverflowError):
        Opaque(128, b"")
    assert unpackb(packb({"j": o})) == {"j": o}


def test_value_too_large() -> None:
    with sessionstore.StoreFactory("memory://?max_value_bytes=64") as f, f.create_store("s") as s:
        s.set("ok", b"x" * 60)
        with pytest.raises(sessionstore.ValueTooLargeError):
            s.set("big", b"x" * 64)
        with pytest.raises(ValueError):
            s.set("big", "y" * 100)
        assert not s.has("big")
