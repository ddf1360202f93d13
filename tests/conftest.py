"""Shared fixtures: a real SQLite file per test and the project's paths."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from topicscout.store import Store

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
DEMO = ROOT / "topicscout" / "data" / "demo"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    db = Store.open(tmp_path / "test.sqlite")
    yield db
    db.close()
