"""The one shared, polite HTTP client of the crawler.

Why each limit exists:
- bounded concurrency overall and per host: upstreams rate-limit bursts, and httpx's CPU cost
  per request grows with concurrency (10–20 in flight is the sweet spot on this hardware);
- connect/read timeouts plus an overall deadline per attempt (httpx has none: a server that
  drips one byte per second would never trip the read timeout);
- a size cap on the *decoded* body, read as a stream, so neither an endless body nor a gzip
  bomb can exhaust memory;
- a redirect cap, retries with exponential backoff and jitter on timeouts / 5xx / 429
  (honouring ``Retry-After`` up to a cap), conditional GET with the stored validators.

Every failure leaves as a :class:`SourceError` with one readable line naming the host;
nothing else escapes except bugs.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import random
import re
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import httpx

from sources.model import Request, Response, Validators
from topicscout.errors import SourceError

# httpcore runs `import sniffio` on every request; when sniffio is not installed (anyio 4.x no
# longer needs it) each failed import rescans sys.path: ~0.6 ms a call, 40% of the crawl's CPU
# in benchmarks/bench_crawl.py. A None entry makes the import fail at once, as it would anyway.
if importlib.util.find_spec("sniffio") is None:
    sys.modules.setdefault("sniffio", None)  # type: ignore[arg-type]

# Says who we are; operators can add a contact address with `[crawl] user_agent`.
USER_AGENT = "topicscout/0.1 (trend monitor; polite crawler)"


@dataclass(frozen=True)
class HttpSettings:
    """Crawler limits; the ``[crawl]`` config table maps onto these fields one to one."""

    concurrency: int = 16  # requests in flight overall
    per_host: int = 4  # requests in flight to one host (host:port)
    connect_timeout: float = 10.0  # seconds to open a connection
    read_timeout: float = 20.0  # seconds of silence while reading
    deadline: float = 30.0  # seconds for one whole attempt: redirects, headers and body
    max_bytes: int = 5 * 1024 * 1024  # decoded body size at which we stop reading
    max_redirects: int = 5
    retries: int = 2  # extra attempts after a timeout, 5xx or 429
    backoff: float = 0.5  # first retry waits about this long, doubling each time (+ jitter)
    max_wait: float = 30.0  # longest wait before a retry; a longer Retry-After means give up
    user_agent: str = USER_AGENT


class FetchError(SourceError):
    """A fetch that failed for good; ``status`` is the last HTTP status, if one arrived."""

    def __init__(self, message: str, status: int | None = None, attempts: int = 1,
                 seconds: float = 0.0, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.attempts = attempts
        self.seconds = seconds  # time spent on it, queueing excluded
        self.retry_after = retry_after  # the server's last Retry-After, in seconds


class _Retryable(Exception):
    """An attempt failed in a way that may pass on retry; ``wait`` is the server's request."""

    def __init__(self, message: str, status: int | None = None,
                 wait: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.wait = wait


def host_of(url: str) -> str:
    """host[:port] of a URL, for messages and per-host limits (never the path or query)."""
    try:
        return urlsplit(url).netloc or url
    except ValueError:
        return url


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def backoff_delay(attempt: int, base: float, cap: float) -> float:
    """Exponential backoff with full jitter: spread retries so sources do not retry in step."""
    return min(cap, base * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0)


def _error_detail(body: bytes, content_type: str | None) -> str:
    """A short reason from an error body: an API's JSON message, or 'HTML error page'."""
    head = body[:4096].lstrip()
    if head[:1] in (b"{", b"["):
        try:
            data = json.loads(body[:65536])
        except ValueError:
            return ""
        if isinstance(data, dict):
            for key in ("message", "msg", "error", "statusMessage"):
                if isinstance(data.get(key), str) and data[key].strip():
                    return data[key].strip().splitlines()[0][:120]
        return ""
    if "html" in (content_type or "").lower() or head[:1] == b"<":
        return "HTML error page"
    return ""


class Fetcher:
    """One shared ``httpx.AsyncClient`` with the limits above. Use as an async context manager."""

    def __init__(self, settings: HttpSettings | None = None,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = settings or HttpSettings()
        s = self.settings
        self._overall = asyncio.Semaphore(s.concurrency)
        self._hosts: dict[str, asyncio.Semaphore] = {}
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(s.read_timeout, connect=s.connect_timeout),
            limits=httpx.Limits(max_connections=s.concurrency,
                                max_keepalive_connections=s.concurrency),
            follow_redirects=True, max_redirects=s.max_redirects,
            headers={"User-Agent": s.user_agent}, transport=transport,
        )

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._client.aclose()

    @asynccontextmanager
    async def _slot(self, host: str) -> AsyncIterator[None]:
        per_host = self._hosts.setdefault(host, asyncio.Semaphore(self.settings.per_host))
        async with per_host, self._overall:
            yield

    async def fetch(self, request: Request, validators: Validators | None = None) -> Response:
        """The response to ``request`` (200-class, or 304), after retries; else FetchError.

        ``Response.seconds`` / ``FetchError.seconds`` count time holding a slot (and backoff
        waits), not time queued behind other sources.
        """
        validators = validators or Validators()
        host = host_of(request.url)
        attempt, busy = 0, 0.0
        while True:
            attempt += 1
            try:
                async with self._slot(host):
                    started = time.perf_counter()
                    try:
                        response = await self._attempt(request, validators, host, attempt)
                    finally:
                        busy += time.perf_counter() - started
                return replace(response, seconds=busy)
            except _Retryable as e:
                wait = self._wait_or_give_up(e, attempt, busy)
                await asyncio.sleep(wait)
                busy += wait
            except FetchError as e:
                e.attempts, e.seconds = attempt, busy
                raise

    def _wait_or_give_up(self, e: _Retryable, attempt: int, busy: float) -> float:
        """Seconds to wait before the next attempt, or FetchError when there is none."""
        s = self.settings
        wait = e.wait if e.wait is not None else backoff_delay(attempt, s.backoff, s.max_wait)
        if attempt > s.retries:
            notes = [f"after {attempt} attempts"] if attempt > 1 else []
            notes += [f"Retry-After {e.wait:.0f} s"] if e.wait is not None else []
            tail = f" ({'; '.join(notes)})" if notes else ""
            raise FetchError(e.message + tail, e.status, attempt, busy, e.wait)
        if wait > s.max_wait:
            raise FetchError(f"{e.message} (asked to retry after {wait:.0f} s, more than the "
                             f"{s.max_wait:.0f} s we wait)", e.status, attempt, busy, e.wait)
        return wait

    async def _attempt(self, request: Request, validators: Validators, host: str,
                       attempt: int) -> Response:
        try:
            async with asyncio.timeout(self.settings.deadline):
                return await self._send(request, validators, host, attempt)
        except TimeoutError:
            raise FetchError(f"no complete response from {host} within "
                              f"{self.settings.deadline:g} s") from None
        except httpx.TimeoutException as e:
            raise _Retryable(_timeout_message(e, host, self.settings)) from None
        except httpx.TooManyRedirects:
            raise FetchError(f"more than {self.settings.max_redirects} redirects from {host} "
                              "(redirect loop?)") from None
        except httpx.DecodingError as e:
            raise FetchError(f"cannot decode the body from {host}: {_first_line(e)}") from None
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as e:
            raise FetchError(f"invalid URL {request.url!r}: {_first_line(e)}") from None
        except httpx.ConnectError as e:
            raise _Retryable(_connect_message(e, host)) from None
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as e:
            raise _Retryable(f"broken response from {host}: {_first_line(e)}") from None
        except httpx.HTTPError as e:
            raise FetchError(f"request to {host} failed: {_first_line(e)}") from None

    async def _send(self, request: Request, validators: Validators, host: str,
                    attempt: int) -> Response:
        headers = dict(request.headers)
        if request.is_conditional:
            if validators.etag:
                headers["If-None-Match"] = validators.etag
            if validators.last_modified:
                headers["If-Modified-Since"] = validators.last_modified
        async with self._client.stream(request.method, request.url, headers=headers,
                                       json=request.json_body) as reply:
            body = b"" if reply.status_code == 304 else await self._read(reply, host)
            _raise_for_status(reply, body, host)
            return Response(
                url=str(reply.url), status=reply.status_code, body=body,
                content_type=reply.headers.get("content-type"),
                etag=reply.headers.get("etag") or validators.etag,
                last_modified=reply.headers.get("last-modified") or validators.last_modified,
                attempts=attempt,
            )

    async def _read(self, reply: httpx.Response, host: str) -> bytes:
        cap = self.settings.max_bytes
        declared = reply.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap and reply.status_code < 300:
            raise FetchError(f"response from {host} is {_mb(int(declared))}, over the "
                              f"{_mb(cap)} cap")
        chunks: list[bytes] = []
        size = 0
        async for chunk in reply.aiter_bytes():
            size += len(chunk)
            if size > cap:
                raise FetchError(f"response from {host} exceeded the {_mb(cap)} cap; "
                                  "stopped reading")
            chunks.append(chunk)
        return b"".join(chunks)


def _raise_for_status(reply: httpx.Response, body: bytes, host: str) -> None:
    status = reply.status_code
    if status < 300 or status == 304:
        return
    detail = _error_detail(body, reply.headers.get("content-type"))
    message = f"HTTP {status} from {host}" + (f": {detail}" if detail else "")
    if status == 429 or status >= 500:
        raise _Retryable(message, status, parse_retry_after(reply.headers.get("retry-after")))
    raise FetchError(message, status)


def _timeout_message(e: httpx.TimeoutException, host: str, s: HttpSettings) -> str:
    if isinstance(e, httpx.ConnectTimeout | httpx.PoolTimeout):
        return f"could not connect to {host} within {s.connect_timeout:g} s"
    return f"{host} sent nothing for {s.read_timeout:g} s (read timeout)"


_DNS_FAILURES = ("Name or service not known", "Temporary failure in name resolution",
                 "nodename nor servname", "No address associated with hostname")


def _connect_message(e: httpx.ConnectError, host: str) -> str:
    reason = _first_line(e)
    if any(text in reason for text in _DNS_FAILURES):
        return f"cannot resolve {host.rsplit(':', 1)[0]} (DNS lookup failed: {reason})"
    return f"cannot connect to {host}: {reason}"


def _first_line(e: BaseException) -> str:
    text = str(e).strip() or type(e).__name__
    return text.splitlines()[0][:200]


def _mb(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB"
