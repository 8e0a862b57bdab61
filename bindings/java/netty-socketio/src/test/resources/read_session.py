"""The Python half of CrossLanguageTest: reads the session a Java client wrote through a
netty-socketio server, checks every value and its Python type, and writes one back.

    python read_session.py URL SESSION_ID

Exit 0 and "ok" when every value matches; exit 1 and one line per mismatch otherwise.
"""

import sys

import sessionstore

# What the Java side wrote (the handshake's store params, the connect listener, the client's
# events), as Python must read it: ints as int (never bool), floats as float, None in a list.
EXPECTED = {
    "userId": 7,
    "claims": {"role": "admin", "rooms": ["lobby", "ops"]},
    "tenant": "acme",
    "score": 3,
    "ratio": 0.5,
    "ok": True,
    "profile": {"tags": [1, "two", None, {"deep": True}]},
}


def same(path, expected, actual, errors):
    if type(expected) is not type(actual):
        errors.append(f"{path}: expected {type(expected).__name__} {expected!r}, got {type(actual).__name__} {actual!r}")
    elif isinstance(expected, dict):
        if list(expected) != list(actual):
            errors.append(f"{path}: keys {list(actual)} instead of {list(expected)}")
        for k in expected:
            if k in actual:
                same(f"{path}.{k}", expected[k], actual[k], errors)
    elif isinstance(expected, list):
        if len(expected) != len(actual):
            errors.append(f"{path}: {actual!r} instead of {expected!r}")
        for i, (e, a) in enumerate(zip(expected, actual)):
            same(f"{path}[{i}]", e, a, errors)
    elif expected != actual:
        errors.append(f"{path}: {actual!r} instead of {expected!r}")


def main():
    url, sid = sys.argv[1], sys.argv[2]
    errors = []
    with sessionstore.StoreFactory(url) as factory:
        with factory.create_store(sid) as store:
            if sorted(store.keys()) != sorted(EXPECTED):
                errors.append(f"keys {sorted(store.keys())} instead of {sorted(EXPECTED)}")
            for key, value in EXPECTED.items():
                same(key, value, store.get(key), errors)
            store.set("fromPython", {"n": 1, "list": [2**40, "x"]})
    for line in errors:
        print(line)
    print("mismatch" if errors else "ok")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
