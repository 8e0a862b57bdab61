"""Type stubs of the native module `sessionstore._sessionstore` (re-exported by `sessionstore`)."""

import uuid
from collections.abc import Iterable, Iterator, Mapping
from types import TracebackType
from typing import Any, Final, Literal, Self, TypeAlias, final, overload

#: What a store holds (API.md §3): bytes (bytearray and memoryview are accepted and read back
#: as bytes), str, int (-2**63 .. 2**64-1), float, bool, list (a tuple is written as a list),
#: dict with str keys, None inside a list or dict, Opaque; with allow_pickle=True, any
#: picklable object.
_Value: TypeAlias = Any
_SessionId: TypeAlias = str | uuid.UUID

__all__ = [
    "BackendError",
    "BackendTimeoutError",
    "CORE_VERSION",
    "ConfigError",
    "FactoryClosedError",
    "InvalidArgumentError",
    "MAX_DEPTH",
    "Opaque",
    "Store",
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

class StoreDestroyedError(StoreError):
    """The session was destroyed (or its lease reclaimed it) after this store was opened."""

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
    """One handle on one session's key-value data, with dict semantics.

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
    def get(self, key: str) -> _Value | None: ...
    @overload
    def get(self, key: str, default: _Value) -> _Value: ...
    def has(self, key: str) -> bool: ...
    def delete(self, key: str) -> bool:
        """Deletes `key`; whether it had a value."""
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

def packb(value: _Value, *, allow_pickle: bool = False) -> bytes:
    """Encodes `value` as the portable MessagePack document a store keeps for it."""

def unpackb(data: bytes | bytearray | memoryview, *, allow_pickle: bool = False) -> _Value:
    """Decodes one portable MessagePack document; InvalidArgumentError if it is not one."""
