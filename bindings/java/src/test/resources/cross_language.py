"""The Python half of the Java cross-language test (CrossLanguageTest): one session over Redis
written by one host and read by the other, every value type of docs/API.md §3.

    python cross_language.py write URL SESSION_ID   # Python writes PYTHON_VALUES
    python cross_language.py check URL SESSION_ID   # Python reads what Java wrote

Exit 0 and "ok" when done; exit 1 and one line per mismatch otherwise. The Java test holds
the mirror of both tables (what Java must read, what Java writes): change them together.
"""

import math
import struct
import sys

import sessionstore

# Written by Python, read by Java (CrossLanguageTest.readsWhatPythonWrote).
PYTHON_VALUES = {
    "str": "hello",
    "str_empty": "",
    "unicode": "h\u00e9llo w\u00f6rld \u2713 \U0001f600 \u4e2d\u6587",
    "int_zero": 0,
    "int_small": 42,
    "int_neg_fix": -5,
    "int_neg_small": -100,
    "int_neg": -40000,
    "int_uint8": 200,
    "int_uint16": 60000,
    "int_int32_max": 2**31 - 1,
    "int_int32_min": -(2**31),
    "int_uint32": 2**32 - 1,
    "int_large": 2**40,
    "int_neg_large": -(2**40),
    "int64_max": 2**63 - 1,
    "int64_min": -(2**63),
    "uint64_big": 2**63,
    "uint64_max": 2**64 - 1,
    "float": 3.25,
    "float_tenth": 0.1,
    "float_neg_inf": -math.inf,
    "bool_true": True,
    "bool_false": False,
    "bytes": b"\x00\x01\xfe\xff bin",
    "bytes_empty": b"",
    "bytearray": bytearray(b"ba"),
    "list": [1, "two", 3.5, None, True, [2**40], b"\x07"],
    "tuple": (1, 2),
    "list_empty": [],
    "dict": {
        "name": "n",
        "none": None,
        "nested": {"deep": {"x": None, "ids": [1, -1]}, "\u00fc": "\u00f6"},
        "z_last": 0,
    },
    "dict_empty": {},
    "\u043a\u043b\u044e\u0447 \u2713": "unicode key",
}


def write(url, sid):
    with sessionstore.StoreFactory(url) as factory:
        with factory.create_store(sid) as store:
            for key, value in PYTHON_VALUES.items():
                if key.startswith("dict"):
                    continue
                store.set(key, value)
            # The dicts in one atomic batch, the other way of writing.
            store.update({k: v for k, v in PYTHON_VALUES.items() if k.startswith("dict")})
            missing = set(PYTHON_VALUES) - set(store.keys())
            if missing:
                return [f"not written: {sorted(missing)}"]
    return []


def f32(x):
    """The float a float32 holding x reads as."""
    return struct.unpack("<f", struct.pack("<f", x))[0]


# Written by Java (CrossLanguageTest.pythonReadsWhatJavaWrote), read by Python: the value and
# its exact Python type (bool is checked apart from int).
JAVA_VALUES = {
    "string": ("h\u00e9llo \u2713 \U0001f600", str),
    "string_empty": ("", str),
    "character": ("x", str),
    "character_unicode": ("\u00e9", str),
    "integer": (42, int),
    "integer_neg": (-7, int),
    "integer_min": (-(2**31), int),
    "integer_max": (2**31 - 1, int),
    "long": (2**40, int),
    "long_small": (5, int),
    "long_min": (-(2**63), int),
    "long_max": (2**63 - 1, int),
    "short": (-300, int),
    "short_max": (2**15 - 1, int),
    "byte": (-7, int),
    "byte_min": (-128, int),
    "biginteger_uint64_max": (2**64 - 1, int),
    "float": (1.5, float),
    "float_tenth": (f32(0.1), float),
    "double": (0.1, float),
    "double_neg": (-2.5e300, float),
    "boolean_true": (True, bool),
    "boolean_false": (False, bool),
    "bytes": (b"\x00\xff\x02 bin", bytes),
    "bytes_empty": (b"", bytes),
    "list": ([1, "a", None, 2.5, [], True, 2**40, b"\x01"], list),
    "list_empty": ([], list),
    "map": ({"a": 1, "null": None, "nested": {"b": [None, "c"], "d": {}}, "z": False}, dict),
    "map_empty": ({}, dict),
    "\u043a\u043b\u044e\u0447": ("unicode key", str),
}


def same(a, b):
    """Equal values of exactly the same types, all the way down (1 == 1.0 == True is not enough)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        # Insertion order is part of the contract (Java writes a LinkedHashMap).
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    return a == b


def check(url, sid):
    errors = []
    with sessionstore.StoreFactory(url) as factory:
        with factory.create_store(sid) as store:
            keys = set(store.keys())
            if keys != set(JAVA_VALUES):
                errors.append(f"keys: expected {sorted(JAVA_VALUES)}, got {sorted(keys)}")
            for key, (expected, kind) in JAVA_VALUES.items():
                got = store.get(key)
                if type(got) is not kind or not same(got, expected):
                    errors.append(f"{key}: expected {expected!r} ({kind.__name__}), "
                                  f"got {got!r} ({type(got).__name__})")
            # The same values through items() (one get_all on the backend).
            items = dict(store.items())
            for key, (expected, _) in JAVA_VALUES.items():
                if not same(items.get(key), expected):
                    errors.append(f"items()[{key!r}]: expected {expected!r}, got {items.get(key)!r}")
    return errors


def main(argv):
    if len(argv) != 4 or argv[1] not in ("write", "check"):
        print(__doc__)
        return 2
    errors = (write if argv[1] == "write" else check)(argv[2], argv[3])
    for e in errors:
        print(e)
    if errors:
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
