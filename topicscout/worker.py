"""Slow work off the event loop: one thread that owns its own App (its own SQLite connection).

An analysis or a digest takes seconds; done on the event loop it would hold every vote tap and
every crawl until it finished. A SQLite connection belongs to one thread (DESIGN.md), so the
worker opens its own on the same database file (WAL lets it read while the loop thread writes)
and keeps it, with its tokenizer and jieba dictionary, for the life of the process.
`topicscout run` gives the scheduler's jobs and the bot the same worker: one App, one
tokenizer (~60 MB of jieba dictionary each), and analyses that never run two at a time.
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
        self._closed = False

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
        """Wait for the work in flight (its transaction commits), close the worker's
        connection in its own thread and stop the thread. Closing twice does nothing."""
        if self._executor is None or self._closed:
            return
        self._closed = True
        self._executor.submit(self._close_app).result()
        self._executor.shutdown(wait=True)

    def _close_app(self) -> None:
        if self._app is not None:
            self._app.close()
            self._app = None
