"""A real HTTP/1.1 server on 127.0.0.1 that serves recorded responses and misbehaves on purpose.

Each path has a :class:`Route` saying what to send: a recorded body (optionally gzipped, with
any Content-Type), an ETag / Last-Modified honoured with 304, a delay, a run of 500s or 429s
with Retry-After before the real answer, an endless body, a redirect, a truncated body.
Every request is recorded (method, path, headers) so tests can assert what the crawler sent.
"""

from __future__ import annotations

import gzip
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import brotli


@dataclass
class Route:
    """What the server does for one path."""

    body: bytes = b""
    status: int = 200
    content_type: str | None = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)  # extra response headers
    etag: str | None = None  # answer 304 to a matching If-None-Match
    last_modified: str | None = None  # answer 304 to an equal If-Modified-Since
    delay: float = 0.0  # seconds before the response starts
    gzip: bool = False  # send the body gzip-encoded
    brotli: bool = False  # send the body br-encoded
    fail_times: int = 0  # the first N requests get `fail_status` instead
    fail_status: int = 500
    fail_body: bytes = b"<html><body><h1>500 Internal Server Error</h1></body></html>"
    retry_after: str | None = None  # Retry-After header on the failures
    endless: bool = False  # chunked body that never ends
    redirect_to: str | None = None  # 302 to this path (a loop when it points back)
    truncate: bool = False  # announce more bytes than are sent, then close
    hits: int = 0  # requests served so far (the server counts)
    _gzipped: bytes | None = None  # compressed once, not per request

    def gzipped(self) -> bytes:
        if self._gzipped is None:
            self._gzipped = gzip.compress(self.body)
        return self._gzipped


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class FakeServer:
    """Start with :meth:`start` (or as a context manager); routes may be added any time."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def add(self, path: str, route: Route | None = None, **kwargs: Any) -> str:
        """Register a route; returns its full URL."""
        self.routes[path] = route or Route(**kwargs)
        return self.url(path)

    def requests_to(self, path: str) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def start(self) -> FakeServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def route_for(self, path: str) -> Route | None:
        """The route a request for ``path`` (query included) is served by."""
        return self.routes.get(path) or self.routes.get(path.split("?", 1)[0])

    def _record(self, handler: BaseHTTPRequestHandler, body: bytes) -> Route | None:
        with self._lock:
            self.requests.append(Recorded(handler.command, handler.path,
                                          {k.lower(): v for k, v in handler.headers.items()},
                                          body))
            route = self.route_for(handler.path)
            if route is not None:
                route.hits += 1
            return route


def _handler_for(server: FakeServer) -> type[BaseHTTPRequestHandler]:
    class Handler(_Handler):
        fake = server
    return Handler


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    fake: FakeServer

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean

    def do_GET(self) -> None:
        self._serve(b"")

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        self._serve(self.rfile.read(length))

    def _serve(self, request_body: bytes) -> None:
        route = self.fake._record(self, request_body)
        try:
            if route is None:
                self._send(404, b"<html>not found</html>", "text/html")
            else:
                self._answer(route)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _answer(self, route: Route) -> None:
        if route.delay:
            time.sleep(route.delay)
        if route.redirect_to is not None:
            self._send(302, b"", None, {"Location": route.redirect_to})
        elif route.hits <= route.fail_times:
            extra = {"Retry-After": route.retry_after} if route.retry_after else {}
            self._send(route.fail_status, route.fail_body, "text/html; charset=utf-8", extra)
        elif self._is_fresh(route):
            self._send(304, b"", None, self._validators(route))
        elif route.endless:
            self._endless(route)
        else:
            self._full(route)

    def _is_fresh(self, route: Route) -> bool:
        if route.etag and self.headers.get("If-None-Match") == route.etag:
            return True
        return bool(route.last_modified
                    and self.headers.get("If-Modified-Since") == route.last_modified)

    @staticmethod
    def _validators(route: Route) -> dict[str, str]:
        out = {}
        if route.etag:
            out["ETag"] = route.etag
        if route.last_modified:
            out["Last-Modified"] = route.last_modified
        return out

    def _full(self, route: Route) -> None:
        body, extra = route.body, {**self._validators(route), **route.headers}
        if route.gzip:
            body, extra["Content-Encoding"] = route.gzipped(), "gzip"
        elif route.brotli:
            body, extra["Content-Encoding"] = brotli.compress(body), "br"
        if route.truncate:
            self.send_response(route.status)
            self._headers(route.content_type, {**extra, "Content-Length": str(len(body) * 2)})
            self.wfile.write(body)
            self.wfile.flush()
            self.close_connection = True
            return
        self._send(route.status, body, route.content_type, extra)

    def _endless(self, route: Route) -> None:
        self.send_response(200)
        self._headers(route.content_type, {"Transfer-Encoding": "chunked"})
        chunk = b"x" * 65536
        frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
        self.close_connection = True
        deadline = time.monotonic() + 30  # never outlive a test run
        while time.monotonic() < deadline:
            self.wfile.write(frame)

    def _send(self, status: int, body: bytes, content_type: str | None,
              extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self._headers(content_type, {**(extra or {}), "Content-Length": str(len(body))})
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def _headers(self, content_type: str | None, extra: dict[str, str]) -> None:
        if content_type:
            self.send_header("Content-Type", content_type)
        for key, value in extra.items():
            self.send_header(key, value)
        self.end_headers()
