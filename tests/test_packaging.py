"""Data files ship in the wheel: a non-editable install (the Dockerfile's) must still find the
demo snapshots, the example config, stop-words and the brand-safety list."""

from __future__ import annotations

import tomllib
from pathlib import PurePosixPath

from tests.conftest import ROOT

PACKAGES = ("topicscout", "sources", "trends", "bot")


def test_every_data_file_in_a_package_is_declared_as_package_data() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))[
        "tool"]["setuptools"]["package-data"]
    missing = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*"):
            if path.is_dir() or path.suffix in (".py", ".pyc") or "__pycache__" in path.parts:
                continue
            relative = path.relative_to(ROOT / package).as_posix()
            if not any(_setuptools_match(relative, p) for p in declared.get(package, [])):
                missing.append(f"{package}/{relative}")
    assert missing == []


def _setuptools_match(relative: str, pattern: str) -> bool:
    """Glob as setuptools does: ``*`` never crosses a ``/`` (``data/*`` misses ``data/demo/x``)."""
    path = PurePosixPath(relative)
    return len(path.parts) == len(PurePosixPath(pattern).parts) and path.match(pattern)
