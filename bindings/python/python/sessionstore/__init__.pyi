from ._sessionstore import (
    CORE_VERSION as CORE_VERSION,
    MAX_DEPTH as MAX_DEPTH,
    BackendError as BackendError,
    BackendTimeoutError as BackendTimeoutError,
    ConfigError as ConfigError,
    FactoryClosedError as FactoryClosedError,
    InvalidArgumentError as InvalidArgumentError,
    Opaque as Opaque,
    Store as Store,
    StoreDestroyedError as StoreDestroyedError,
    StoreError as StoreError,
    StoreFactory as StoreFactory,
    ValueTooLargeError as ValueTooLargeError,
    packb as packb,
    unpackb as unpackb,
)

__version__: str
__all__: list[str]
