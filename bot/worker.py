"""Slow work off the event loop: one thread that owns its own App (its own SQLite connection).

A /digest runs the whole analysis (seconds); done on the event loop it would hold every vote
tap until it finished. A SQLite connection belongs to one thread (DESIGN.md), so the worker
opens its own on the same database file (WAL lets it read while the loop thread writes votes)
and keeps it, with its tokenizer cache, for the life of the bot.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from topicscout import service
from topicscout.store import Store

T = TypeVar("T")


class Worker:
    """Runs ``fn(app, *args)`` in its thread; an in-memory store is used inline instead."""

    def __init__(self, app: service.App) -> None:
        self._loop_app = app
        self._app: service.App | None = None
        self._executor = (ThreadPoolExecutor(1, thread_name_prefix="topicscout-worker")
                          if app.store.path is not None else None)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        if self._executor is None:
            return fn(self._loop_app, *args)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._call, fn, args)

    def _call(self, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        if self._app is None:
            assert self._loop_app.store.path is not None
            self._app = service.App(self._loop_app.config, Store.open(self._loop_app.store.path))
        return fn(self._app, *args)

    def close(self) -> None:
        """Close the worker's connection (in its own thread) and stop the thread."""
        if self._executor is None:
            return
        if self._app is not None:
            self._executor.submit(self._app.close).result()
            self._app = None
        self._executor.shutdown(wait=True)
