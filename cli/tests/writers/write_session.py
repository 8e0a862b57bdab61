"""Writes two sessions through the Python binding for the CLI tests (cli/tests/cli.rs):
`<plain>` without a lease holding a value of every Python type of docs/API.md §3, and
`<leased>` with one. Usage: python write_session.py URL PLAIN LEASED"""

import sys
from collections import OrderedDict

import sessionstore


class Pickled:
    """Any other object: pickled (ext 80) by a factory with allow_pickle=True."""


url, plain, leased = sys.argv[1:4]
sep = "&" if "?" in url else "?"
with (
    sessionstore.StoreFactory(url, allow_pickle=True) as factory,
    factory.create_store(plain) as store,
):
    store.update(
        {
            "bytes": b"\x00\x01py",
            "bytearray": bytearray(b"ba"),
            "str": "héllo from Python",
            "int": 42,
            "neg": -(2**63),
            "big": 2**64 - 1,
            "float": 0.5,
            "bool": False,
            "list": [1, None, "x"],
            "tuple": (1, 2),
            "dict": OrderedDict([("z", 1), ("a", {"deep": [True]})]),
            "opaque74": sessionstore.Opaque(74, b"\xac\xed\x00\x05"),
            "opaque5": sessionstore.Opaque(5, b"x"),
            "pickled": Pickled(),
        }
    )
with (
    sessionstore.StoreFactory(f"{url}{sep}ttl_ms=60000") as factory,
    factory.create_store(leased) as store,
):
    store["userId"] = 7
