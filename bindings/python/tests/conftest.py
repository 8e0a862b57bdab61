"""Shared fixtures. `SESSIONSTORE_TEST_URLS` (comma-separated, default `memory://`) names the
backends every backend-agnostic test runs against, so the Redis suite reuses these tests."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

import sessionstore

URLS = [u.strip() for u in os.environ.get("SESSIONSTORE_TEST_URLS", "memory://").split(",") if u.strip()]


@pytest.fixture(params=URLS)
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
