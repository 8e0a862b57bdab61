"""Type stubs of the native module `sessionstore._sessionstore` (re-exported by `sessionstore`)."""

import uuid
from collections.abc import Iterable, Iterator, Mapping
from types import TracebackType
from typing import Any, Final, Literal, Self, TypeAlias, final, overload

#: What a store holds (docs/API.md §3): bytes (bytearray and memoryview are accepted and read back
#: as bytes), str, int (-2**63 .. 2**64-1), float, bool, list (a tuple is written as a list),
#: dict with str keys, None inside a list or dict, Opaque; with allow_pickle=True, any
#: picklable object.
_Value: TypeAlias = Any
_SessionId: TypeAlias = str | uuid.UUID

__all__ = [
    "AsyncStore",
    "AsyncStoreFactory",
    "BackendError",
    "BackendTimeoutError",
    "CORE_VERSION",
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

MAX_DEPTH: Final[int]
"""The deepest nesting of lists and dicts a value may have."""
CORE_VERSION: Final[str]

class StoreError(Exception):
    """Base class of every sessionstore error."""

class StoreClosedError(StoreError):
    """The store was closed (its handle released): open a new one with create_store."""

class StoreDestroyedError(StoreError):
    """The session's data is gone since this store was opened: destroyed, its lease expired, or
    the server lost it."""

class FactoryClosedError(StoreError):
    """The StoreFactory was closed."""

class BackendError(StoreError):
    """The backend refused the operation or the connection failed."""

class BackendTimeoutError(BackendError):
    """A remote operation passed timeout_ms."""

class InvalidArgumentError(StoreError, ValueError):
    """A bad session id, key, or MessagePack document."""

class ValueTooLargeError(StoreError, ValueError):
    """A value whose encoded form is over max_value_bytes."""

class ConfigError(StoreError, ValueError):
    """A malformed url, an unknown option, or an option out of range."""

@final
class Opaque:
    """A MessagePack ext value of a type this binding does not interpret (e.g. Java's ext 74,
    or ext 80 read by a factory without allow_pickle). Written back, it is the same ext."""

    def __new__(cls, type_code: int, data: bytes) -> Self: ...
    @property
    def type_code(self) -> int:
        """The MessagePack ext type code (-128..127)."""
    @property
    def data(self) -> bytes:
        """The ext payload."""
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class StoreFactory:
    """Opens stores on the backend a url names: `memory://` (the default) or Redis.

    With allow_pickle=True, values of other types are stored pickled (MessagePack ext 80) and
    ext 80 values are unpickled on read: only for data every writer is trusted with.
    Raises ConfigError for a malformed url or option.
    """

    def __new__(cls, url: str = "memory://", allow_pickle: bool = False) -> Self: ...
    def create_store(self, session_id: _SessionId) -> Store:
        """Opens a store on session `session_id`, attaching to its data if it has any."""
    def destroy_session(self, session_id: _SessionId) -> None:
        """Deletes the session everywhere; stores open on it then raise StoreDestroyedError."""
    def close(self) -> None:
        """Closes the factory (idempotent): its stores then raise FactoryClosedError."""
    def stats(self) -> dict[str, Any]:
        """The factory's counters since it opened: calls, errors, latency_us, open_stores, lease."""
    @property
    def closed(self) -> bool: ...
    @property
    def url(self) -> str:
        """The url, with any password replaced by `***`."""
    @property
    def allow_pickle(self) -> bool: ...
    def __enter__(self) -> Self: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
        /,
    ) -> Literal[False]: ...

@final
class Store:
    """One handle on one session's key-value data: a MutableMapping of str keys.

    close() (or the end of a `with` block) releases the handle; the data stays until
    destroy(). Keys are str of at most 1024 UTF-8 bytes.
    """

    @property
    def session_id(self) -> str: ...
    @property
    def destroyed(self) -> bool:
        """True once this handle destroyed its session or saw it destroyed."""
    @property
    def closed(self) -> bool:
        """True once close() released this handle."""
    def set(self, key: str, value: _Value) -> None:
        """Stores `value` under `key`. None or an unsupported type: TypeError."""
    @overload
    def get(self, key: object) -> _Value | None: ...
    @overload
    def get(self, key: object, default: _Value) -> _Value: ...
    def has(self, key: str) -> bool: ...
    def delete(self, key: str) -> bool:
        """Deletes `key`; whether it had a value."""
    def pop(self, key: str, *default: _Value) -> _Value:
        """Removes `key` and answers its value, or `default` (KeyError without one)."""
    def popitem(self) -> tuple[str, _Value]: ...
    def clear(self) -> None:
        """Deletes every key; the session stays (destroy() ends it)."""
    def setdefault(self, key: str, default: _Value | None = None) -> _Value:
        """The value of `key`; when it has none, stores `default` and answers it."""
    def keys(self) -> list[str]: ...
    def items(self) -> list[tuple[str, _Value]]: ...
    def values(self) -> list[_Value]: ...
    def update(
        self,
        other: Mapping[str, _Value] | Iterable[tuple[str, _Value]] | None = None,
        /,
        **kwargs: _Value,
    ) -> None:
        """Stores every entry in one atomic batch: if any is invalid, nothing is stored."""
    def replace_all(
        self,
        other: Mapping[str, _Value] | Iterable[tuple[str, _Value]] | None = None,
        /,
        **kwargs: _Value,
    ) -> None:
        """Makes the store hold exactly these entries, in one atomic step."""
    def destroy(self) -> None:
        """Deletes the session's data everywhere; every handle on it then raises
        StoreDestroyedError."""
    def close(self) -> None:
        """Releases the handle (idempotent); the data stays."""
    def __enter__(self) -> Self: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
        /,
    ) -> Literal[False]: ...
    def __getitem__(self, key: str, /) -> _Value: ...
    def __setitem__(self, key: str, value: _Value, /) -> None: ...
    def __delitem__(self, key: str, /) -> None: ...
    def __contains__(self, key: object, /) -> bool: ...
    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[str]: ...
    def __bool__(self) -> bool: ...
    def __eq__(self, other: object, /) -> bool: ...

@final
class AsyncStoreFactory:
    """Opens AsyncStores on the backend a url names, for asyncio code (docs/API.md section 9): the
    same urls, values, errors and lifecycle as StoreFactory.

    Nothing connects in the constructor (a bad url still raises ConfigError there): a remote
    backend is connected by the first call, on a worker thread, or by `async with`. At most
    `workers` threads run the blocking calls. Each method starts its call when called and
    returns an awaitable (a coroutine to asyncio); an in-memory call answers without
    suspending.
    """

    def __new__(cls, url: str = "memory://", allow_pickle: bool = False, *, workers: int | None = None) -> Self: ...
    async def create_store(self, session_id: _SessionId) -> AsyncStore:
        """Opens a store on session `session_id`, attaching to its data if it has any."""
    async def destroy_session(self, session_id: _SessionId) -> None:
        """Deletes the session everywhere; stores open on it then raise StoreDestroyedError."""
    async def close(self) -> None:
        """Closes the factory (idempotent) and stops its workers: its stores then raise
        FactoryClosedError."""
    def stats(self) -> dict[str, Any]:
        """The factory's counters since it opened (no I/O): calls, errors, latency_us, open_stores, lease."""
    @property
    def closed(self) -> bool: ...
    @property
    def url(self) -> str:
        """The url, with any password replaced by `***`."""
    @property
    def allow_pickle(self) -> bool: ...
    @property
    def workers(self) -> int:
        """The bound on worker threads."""
    async def __aenter__(self) -> Self: ...
    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
        /,
    ) -> None: ...

@final
class AsyncStore:
    """One handle on one session's key-value data, for asyncio code: every method is awaited.

    `await close()` (or the end of an `async with` block) releases the handle; the data stays
    until `await destroy()`. Cancelling a task awaiting a call is safe: the call may or may
    not have happened, and nothing else is affected.
    """

    @property
    def session_id(self) -> str: ...
    @property
    def destroyed(self) -> bool:
        """True once this handle destroyed its session or saw it destroyed."""
    @property
    def closed(self) -> bool:
        """True once close() released this handle."""
    async def set(self, key: str, value: _Value) -> None:
        """Stores `value` under `key`. None or an unsupported type: TypeError."""
    @overload
    async def get(self, key: str) -> _Value | None: ...
    @overload
    async def get(self, key: str, default: _Value) -> _Value: ...
    async def has(self, key: str) -> bool: ...
    async def delete(self, key: str) -> bool:
        """Deletes `key`; whether it had a value."""
    async def size(self) -> int:
        """How many keys the session holds."""
    async def keys(self) -> list[str]: ...
    async def items(self) -> list[tuple[str, _Value]]: ...
    async def values(self) -> list[_Value]: ...
    async def update(
        self,
        other: Mapping[str, _Value] | Iterable[tuple[str, _Value]] | None = None,
        /,
        **kwargs: _Value,
    ) -> None:
        """Stores every entry in one atomic batch: if any is invalid, nothing is stored."""
    async def replace_all(
        self,
        other: Mapping[str, _Value] | Iterable[tuple[str, _Value]] | None = None,
        /,
        **kwargs: _Value,
    ) -> None:
        """Makes the store hold exactly these entries, in one atomic step."""
    async def destroy(self) -> None:
        """Deletes the session's data everywhere; every handle on it then raises
        StoreDestroyedError."""
    async def close(self) -> None:
        """Releases the handle (idempotent); the data stays."""
    async def __aenter__(self) -> Self: ...
    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
        /,
    ) -> None: ...

def packb(value: _Value, *, allow_pickle: bool = False) -> bytes:
    """Encodes `value` as the portable MessagePack document a store keeps for it."""

def unpackb(data: bytes | bytearray | memoryview, *, allow_pickle: bool = False) -> _Value:
    """Decodes one portable MessagePack document; InvalidArgumentError if it is not one."""
