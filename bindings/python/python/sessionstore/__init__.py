"""Per-session key-value stores for real-time servers.

One :class:`StoreFactory` per process and configuration; one :class:`Store` per connected
client session. Values are portable MessagePack documents (docs/API.md §3), so a Python worker, a
Java node and a C program sharing a backend read each other's session data::

    import sessionstore

    with sessionstore.StoreFactory("memory://") as factory:
        with factory.create_store("6f1c9a2e") as store:
            store["userId"] = 42
            assert store.get("userId") == 42
            store.destroy()
"""

from collections.abc import MutableMapping

from ._sessionstore import (
    CORE_VERSION,
    MAX_DEPTH,
    AsyncStore,
    AsyncStoreFactory,
    BackendError,
    BackendTimeoutError,
    ConfigError,
    FactoryClosedError,
    InvalidArgumentError,
    Opaque,
    Store,
    StoreClosedError,
    StoreDestroyedError,
    StoreError,
    StoreFactory,
    ValueTooLargeError,
    packb,
    unpackb,
)

__version__ = CORE_VERSION

# A Store has every method of the ABC (pop, popitem, clear, setdefault, == with a mapping…).
MutableMapping.register(Store)

__all__ = [
    "AsyncStore",
    "AsyncStoreFactory",
    "BackendError",
    "BackendTimeoutError",
    "ConfigError",
    "FactoryClosedError",
    "InvalidArgumentError",
    "MAX_DEPTH",
    "Opaque",
    "Store",
    "StoreClosedError",
    "StoreDestroyedError",
    "StoreError",
    "StoreFactory",
    "ValueTooLargeError",
    "packb",
    "unpackb",
]
