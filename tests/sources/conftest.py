"""The loopback HTTP server every sources test talks to."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.http_server import FakeServer


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with FakeServer() as fake:
        yield fake
