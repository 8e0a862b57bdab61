"""python-socketio servers whose user sessions live in sessionstore (docs/API.md section 10).

:class:`Server` and :class:`AsyncServer` subclass ``socketio.Server`` and
``socketio.AsyncServer`` and take every argument those take (``client_manager=`` included).
Each namespace connection gets one store whose session id is the connection's Socket.IO
``sid``, so another process (a worker, another node, a Java server) opens it by that id::

    import sessionstore
    from sessionstore.socketio import Server

    sio = Server(sessionstore.StoreFactory("redis://127.0.0.1:6379/0?ttl_ms=60000"),
                 async_mode="threading")

    @sio.event
    def connect(sid, environ, auth):
        sio.save_session(sid, {"userId": auth["user"]})  # python-socketio's session API
        sio.store(sid)["tenant"] = "acme"                  # or the live sessionstore.Store

The store is opened before the ``connect`` handler runs and destroyed after the
``disconnect`` handler returns, when the connection is refused (the handler returns False or
raises ``ConnectionRefusedError``, or fails), and by ``shutdown()``. With ``ttl_ms`` a crashed
server's sessions vanish within ``ttl_ms``. Session values are sessionstore values (docs/API.md
section 3): str, int, float, bool, bytes, list, dict, None inside them; other objects only with
``allow_pickle=True``.

Needs python-socketio >= 5.18 (``pip install "sessionstore[socketio]"``); ``import sessionstore``
works without it.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Mapping
from typing import Any

try:
    import socketio as _socketio  # type: ignore[import-untyped]
except ImportError:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        'sessionstore.socketio needs python-socketio >= 5.18: pip install "sessionstore[socketio]"'
    ) from None

from . import AsyncStore, AsyncStoreFactory, Store, StoreError, StoreFactory

__all__ = ["AsyncServer", "Server"]

#: The sids whose store the connect attempt running in this context opened (a thread, a
#: greenlet or an asyncio task runs one attempt at a time).
_attempt: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "sessionstore_socketio_attempt", default=None
)


def _namespace(namespace: str | None) -> str:
    return namespace or "/"


class _Sessions:
    """The stores of one server's namespace connections and the decisions about them, shared by
    :class:`Server` and :class:`AsyncServer` (which only add the I/O, sync or awaited)."""

    def __init__(self, server: Any, factory: Any) -> None:
        self.server = server
        self.factory = factory
        self.stores: dict[tuple[str, str], Any] = {}

    def get(self, sid: str, namespace: str | None) -> Any:
        """The store of `sid` in `namespace`; ``KeyError`` when it has none here."""
        try:
            return self.stores[(_namespace(namespace), sid)]
        except KeyError:
            raise KeyError(f"no session for sid {sid!r} in namespace {_namespace(namespace)!r}") from None

    def wants(self, namespace: str, sid: str) -> bool:
        """Whether the connect handler about to run for `sid` needs its store opened (python-
        socketio calls it twice for a legacy handler without `auth`), noting it for the
        attempt that runs it."""
        if (namespace, sid) in self.stores:
            return False
        attempt = _attempt.get()
        if attempt is not None:
            attempt.append(sid)
        return True

    def add(self, namespace: str, sid: str, store: Any) -> None:
        """Keeps the store just opened for `sid`."""
        self.stores[(namespace, sid)] = store

    def begin(self) -> tuple[list[str], contextvars.Token[list[str] | None]]:
        """Starts one connect attempt (see :meth:`finish`)."""
        opened: list[str] = []
        return opened, _attempt.set(opened)

    def finish(
        self, attempt: tuple[list[str], contextvars.Token[list[str] | None]], namespace: str | None
    ) -> list[Any]:
        """Ends a connect attempt: the stores to end, those it opened for a connection that did
        not come up (refused, or its handler failed)."""
        opened, token = attempt
        _attempt.reset(token)
        ns = _namespace(namespace)
        ended = []
        for sid in opened:
            if not self.server.manager.is_connected(sid, ns):
                store = self.stores.pop((ns, sid), None)
                if store is not None:
                    ended.append(store)
        return ended

    def unavailable(self, sid: str, error: BaseException) -> BaseException:
        """What refuses a connection whose store could not be opened."""
        self.server.logger.error("sessionstore: no session for %s: %r", sid, error)
        refusal: BaseException = _socketio.exceptions.ConnectionRefusedError("the session store is unavailable")
        return refusal

    def pop(self, namespace: str, sid: str) -> Any:
        """Forgets the store of `sid` (to end it), or None when it had none."""
        return self.stores.pop((namespace, sid), None)

    def pop_all(self) -> list[Any]:
        """Forgets every store (to end them), one at a time: a connection opening meanwhile
        is either taken or left whole."""
        stores = []
        while True:
            try:
                stores.append(self.stores.popitem()[1])
            except KeyError:
                return stores

    def failed(self, store: Any, error: BaseException) -> None:
        # Ending a session must not break python-socketio's own bookkeeping (the manager's
        # disconnect runs after the handler): log it; with ttl_ms the lease reclaims it anyway.
        self.server.logger.error("sessionstore: could not destroy the session %s: %r", store.session_id, error)


class Server(_socketio.Server):  # type: ignore[misc]
    """A ``socketio.Server`` whose user sessions live in stores of `factory`.

    `factory` is a :class:`sessionstore.StoreFactory`; every other argument is
    ``socketio.Server``'s. ``get_session`` returns a dict snapshot of the store,
    ``save_session`` replaces its keys (the new values in one atomic batch, then the keys the
    dict no longer has are deleted), ``with sio.session(sid) as s:`` saves on exit, and
    :meth:`store` is the live store.
    """

    def __init__(self, factory: StoreFactory, **kwargs: Any) -> None:
        if not isinstance(factory, StoreFactory):
            raise TypeError(f"Server needs a sessionstore.StoreFactory, not {type(factory).__name__}")
        super().__init__(**kwargs)
        self._sessions = _Sessions(self, factory)

    @property
    def factory(self) -> StoreFactory:
        """The factory the sessions' stores come from."""
        return self._sessions.factory  # type: ignore[no-any-return]

    def store(self, sid: str, namespace: str | None = None) -> Store:
        """The live store of connection `sid` in `namespace` (default ``/``); ``KeyError`` for
        a sid that has none here."""
        return self._sessions.get(sid, namespace)  # type: ignore[no-any-return]

    def get_session(self, sid: str, namespace: str | None = None) -> dict[str, Any]:
        """A dict snapshot of the session (changes to it are kept only by ``save_session``)."""
        return dict(self.store(sid, namespace).items())

    def save_session(self, sid: str, session: Mapping[str, Any], namespace: str | None = None) -> None:
        """Makes the session hold exactly `session`'s keys, in one atomic step."""
        self.store(sid, namespace).replace_all(session)

    def shutdown(self) -> None:
        """Stops python-socketio's background tasks, then destroys every session still open."""
        try:
            super().shutdown()
        finally:
            for store in self._sessions.pop_all():
                self._end(store)

    def _end(self, store: Store) -> None:
        try:
            store.destroy()
        except Exception as error:  # noqa: BLE001 - logged, see _Sessions.failed
            self._sessions.failed(store, error)
        finally:
            store.close()

    def _handle_connect(self, eio_sid: str, namespace: str | None, data: Any) -> None:
        attempt = self._sessions.begin()
        try:
            super()._handle_connect(eio_sid, namespace, data)
        finally:
            for store in self._sessions.finish(attempt, namespace):
                self._end(store)

    def _trigger_event(self, event: str, namespace: str, *args: Any) -> Any:
        if event == "connect" and self._sessions.wants(namespace, args[0]):
            try:
                store = self.factory.create_store(args[0])
            except StoreError as error:
                raise self._sessions.unavailable(args[0], error) from error
            self._sessions.add(namespace, args[0], store)
        if event != "disconnect":
            return super()._trigger_event(event, namespace, *args)
        try:
            return super()._trigger_event(event, namespace, *args)
        finally:
            store = self._sessions.pop(namespace, args[0])
            if store is not None:
                self._end(store)


class AsyncServer(_socketio.AsyncServer):  # type: ignore[misc]
    """A ``socketio.AsyncServer`` whose user sessions live in stores of `factory`.

    `factory` is a :class:`sessionstore.AsyncStoreFactory`; every other argument is
    ``socketio.AsyncServer``'s. The same as :class:`Server`, awaited: ``await
    sio.get_session(sid)``, ``await sio.save_session(sid, session)``, ``async with
    sio.session(sid) as s:``, and :meth:`store` is the live :class:`sessionstore.AsyncStore`.
    No call blocks the event loop.
    """

    def __init__(self, factory: AsyncStoreFactory, **kwargs: Any) -> None:
        if not isinstance(factory, AsyncStoreFactory):
            raise TypeError(f"AsyncServer needs a sessionstore.AsyncStoreFactory, not {type(factory).__name__}")
        super().__init__(**kwargs)
        self._sessions = _Sessions(self, factory)

    @property
    def factory(self) -> AsyncStoreFactory:
        """The factory the sessions' stores come from."""
        return self._sessions.factory  # type: ignore[no-any-return]

    def store(self, sid: str, namespace: str | None = None) -> AsyncStore:
        """The live store of connection `sid` in `namespace` (default ``/``); ``KeyError`` for
        a sid that has none here."""
        return self._sessions.get(sid, namespace)  # type: ignore[no-any-return]

    async def get_session(self, sid: str, namespace: str | None = None) -> dict[str, Any]:
        """A dict snapshot of the session (changes to it are kept only by ``save_session``)."""
        return dict(await self.store(sid, namespace).items())

    async def save_session(self, sid: str, session: Mapping[str, Any], namespace: str | None = None) -> None:
        """Makes the session hold exactly `session`'s keys, in one atomic step."""
        await self.store(sid, namespace).replace_all(session)

    async def shutdown(self) -> None:
        """Stops python-socketio's background tasks, then destroys every session still open."""
        try:
            await super().shutdown()
        finally:
            await asyncio.gather(*(self._end(store) for store in self._sessions.pop_all()))

    async def _end(self, store: AsyncStore) -> None:
        try:
            await store.destroy()
        except Exception as error:  # noqa: BLE001 - logged, see _Sessions.failed
            self._sessions.failed(store, error)
        finally:
            await store.close()

    async def _handle_connect(self, eio_sid: str, namespace: str | None, data: Any) -> None:
        attempt = self._sessions.begin()
        try:
            await super()._handle_connect(eio_sid, namespace, data)
        finally:
            for store in self._sessions.finish(attempt, namespace):
                await self._end(store)

    async def _trigger_event(self, event: str, namespace: str, *args: Any) -> Any:
        if event == "connect" and self._sessions.wants(namespace, args[0]):
            try:
                store = await self.factory.create_store(args[0])
            except StoreError as error:
                raise self._sessions.unavailable(args[0], error) from error
            self._sessions.add(namespace, args[0], store)
        if event != "disconnect":
            return await super()._trigger_event(event, namespace, *args)
        try:
            return await super()._trigger_event(event, namespace, *args)
        finally:
            store = self._sessions.pop(namespace, args[0])
            if store is not None:
                await self._end(store)
