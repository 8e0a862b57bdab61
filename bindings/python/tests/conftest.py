"""Shared fixtures. `SESSIONSTORE_TEST_URLS` (separated by whitespace, default `memory://`, as
tests/redis/harness.sh exports it) names the backends every backend-agnostic test runs against,
so the Redis suite reuses these tests."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator

import pytest

import sessionstore


def url_id(url: str) -> str:
    """The test id of a url: the url itself with any password as `***`, so ids stay readable
    and a password never reaches a report."""
    scheme, sep, rest = url.partition("://")
    authority, tail = re.match(r"([^/?]*)(.*)", rest, re.S).groups()  # type: ignore[union-attr]
    userinfo, at, hosts = authority.rpartition("@")
    if at and ":" in userinfo:
        userinfo = userinfo.split(":", 1)[0] + ":***"
    return f"{scheme}{sep}{userinfo}{at}{hosts}{tail}"


URLS = os.environ.get("SESSIONSTORE_TEST_URLS", "").split() or ["memory://"]


@pytest.fixture(params=URLS, ids=url_id)
def url(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def factory(url: str) -> Iterator[sessionstore.StoreFactory]:
    with sessionstore.StoreFactory(url) as f:
        yield f


@pytest.fixture
def pickle_factory(url: str) -> Iterator[sessionstore.StoreFactory]:
    with sessionstore.StoreFactory(url, allow_pickle=True) as f:
        yield f


@pytest.fixture
def sid() -> str:
    """A fresh session id, so tests sharing a Redis server never see each other's data."""
    return str(uuid.uuid4())


@pytest.fixture
def store(factory: sessionstore.StoreFactory, sid: str) -> Iterator[sessionstore.Store]:
    s = factory.create_store(sid)
    yield s
    if not s.closed:
        if not s.destroyed:
            s.destroy()
        s.close()
