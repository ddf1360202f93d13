"""A fake Telegram Bot API server on 127.0.0.1 for tests and benchmarks.

Real HTTP (``http.server`` in a thread), so the real python-telegram-bot code runs unchanged
against it through ``base_url``. It answers the methods the bot uses, records every request,
lets a test queue updates (served by long-polled ``getUpdates`` honouring offset and timeout),
keeps the messages it "sent" with their current keyboards, and can refuse one chat on purpose.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

BOT_USER = {"id": 700000001, "is_bot": True, "first_name": "topicscout",
            "username": "topicscout_test_bot", "can_join_groups": True,
            "can_read_all_group_messages": False, "supports_inline_queries": False}


@dataclass
class Request:
    """One Bot API call as the server saw it."""

    method: str
    params: dict[str, Any]  # JSON-decoded where the value was JSON
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # field -> (name, bytes)
    at: float = 0.0  # time.perf_counter() when it arrived


def _decode(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        return value


def _parse_multipart(content_type: str, body: bytes) -> tuple[dict[str, Any],
                                                                dict[str, tuple[str, bytes]]]:
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    params: dict[str, Any] = {}
    files: dict[str, tuple[str, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is not None:
            files[str(name)] = (filename, payload)
        else:
            params[str(name)] = _decode(payload.decode("utf-8"))
    return params, files


class FakeTelegram:
    """Start with :meth:`start` (or as a context manager); ``base_url`` goes into the config."""

    def __init__(self, token: str = "123456:TEST-token-abcdefghijklmnop") -> None:
        self.token = token
        self.requests: list[Request] = []
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}  # (chat, id) -> message
        self.failing_chats: set[int] = set()
        self._updates: list[dict[str, Any]] = []
        self._queued_at: dict[int, float] = {}
        self._next_update = itertools.count(1)
        self._next_message = itertools.count(1)
        self._cond = threading.Condition()
        self._closing = False
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # -- lifecycle -----------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/bot"

    def start(self) -> FakeTelegram:
        self._thread.start()
        return self

    def close(self) -> None:
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeTelegram:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- what tests use ------------------------------------------------------------------

    def queue(self, update: dict[str, Any]) -> int:
        """Queue one update (its update_id is assigned here); returns the id."""
        with self._cond:
            update_id = next(self._next_update)
            self._updates.append({"update_id": update_id, **update})
            self._queued_at[update_id] = time.perf_counter()
            self._cond.notify_all()
        return update_id

    def queued_at(self, update_id: int) -> float:
        return self._queued_at[update_id]

    def command(self, chat_id: int, user_id: int, text: str, *, name: str = "member") -> int:
        """A user sends a command (with the bot_command entity, as Telegram sends it)."""
        word = text.split()[0]
        return self.queue({"message": {
            "message_id": next(self._next_message), "date": int(time.time()),
            "chat": _chat(chat_id), "from": _user(user_id, name), "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(word)}]}})

    def tap(self, chat_id: int, message_id: int, user_id: int, data: str, *,
            name: str = "member") -> int:
        """A user taps an inline button of a message the bot sent."""
        message = self.messages[(chat_id, message_id)]
        return self.queue({"callback_query": {
            "id": f"cb{next(self._next_message)}", "from": _user(user_id, name),
            "chat_instance": f"ci{chat_id}", "data": data, "message": message}})

    def calls(self, method: str) -> list[Request]:
        with self._cond:
            return [r for r in self.requests if r.method == method]

    async def wait_for(self, predicate: Callable[[list[Request]], bool],
                       timeout: float = 10.0) -> None:
        """Wait (without blocking the event loop) until the recorded requests satisfy it."""
        deadline = time.monotonic() + timeout
        while True:
            with self._cond:
                if predicate(self.requests):
                    return
            if time.monotonic() > deadline:
                methods = [r.method for r in self.requests[-10:]]
                raise AssertionError(f"timed out; last requests: {methods}")
            await asyncio.sleep(0.002)

    async def wait_answered(self, callback_id: str, timeout: float = 10.0) -> Request:
        await self.wait_for(lambda rs: any(
            r.method == "answerCallbackQuery" and r.params.get("callback_query_id") == callback_id
            for r in rs), timeout)
        return next(r for r in self.calls("answerCallbackQuery")
                    if r.params.get("callback_query_id") == callback_id)

    def update(self, update_id: int) -> dict[str, Any]:
        with self._cond:
            return next(u for u in self._updates if u["update_id"] == update_id)

    # -- the Bot API ---------------------------------------------------------------------

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes; with Nagle on, the client's delayed ACK
            # adds ~40 ms to every call (measured), which would swamp what we measure.
            disable_nagle_algorithm = True

            def do_POST(self) -> None:
                fake._serve(self)

            def do_GET(self) -> None:
                fake._serve(self)

            def log_message(self, *_: Any) -> None:
                pass

        return Handler

    def _serve(self, http: BaseHTTPRequestHandler) -> None:
        length = int(http.headers.get("Content-Length") or 0)
        body = http.rfile.read(length) if length else b""
        prefix = f"/bot{self.token}/"
        if not http.path.startswith(prefix):
            self._reply(http, 401, {"ok": False, "error_code": 401,
                                    "description": "Unauthorized"})
            return
        method = http.path[len(prefix):].split("?")[0]
        params, files = self._params(http.headers.get("Content-Type", ""), body)
        request = Request(method, params, files, time.perf_counter())
        if method != "getUpdates":
            with self._cond:
                self.requests.append(request)
                self._cond.notify_all()
        status, result = self._dispatch(request)
        if method == "getUpdates":
            with self._cond:
                self.requests.append(request)
        self._reply(http, status, result)

    @staticmethod
    def _params(content_type: str, body: bytes) -> tuple[dict[str, Any],
                                                         dict[str, tuple[str, bytes]]]:
        if content_type.startswith("multipart/form-data"):
            return _parse_multipart(content_type, body)
        if content_type.startswith("application/json"):
            return json.loads(body or b"{}"), {}
        return {k: _decode(v) for k, v in parse_qsl(body.decode("utf-8"))}, {}

    @staticmethod
    def _reply(http: BaseHTTPRequestHandler, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        http.send_response(status)
        http.send_header("Content-Type", "application/json")
        http.send_header("Content-Length", str(len(data)))
        http.end_headers()
        # A client may give up on a long poll while shutting down.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            http.wfile.write(data)

    def _dispatch(self, r: Request) -> tuple[int, dict[str, Any]]:
        simple = {"getMe": BOT_USER, "setMyCommands": True, "deleteWebhook": True,
                  "answerCallbackQuery": True, "close": True, "logOut": True,
                  "getWebhookInfo": {"url": "", "has_custom_certificate": False,
                                     "pending_update_count": 0}}
        if r.method in simple:
            return 200, {"ok": True, "result": simple[r.method]}
        if r.method == "getUpdates":
            return 200, {"ok": True, "result": self._get_updates(r.params)}
        if r.method in ("sendMessage", "sendDocument"):
            chat_id = int(r.params["chat_id"])
            if chat_id in self.failing_chats:
                return 403, {"ok": False, "error_code": 403,
                             "description": "Forbidden: bot was blocked by the user"}
            return 200, {"ok": True, "result": self._store_message(chat_id, r)}
        if r.method == "editMessageReplyMarkup":
            return self._edit_markup(r)
        return 404, {"ok": False, "error_code": 404, "description": "Not Found"}

    def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        deadline = time.monotonic() + timeout
        with self._cond:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            while not self._updates and not self._closing:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            return list(self._updates[:100])

    def _store_message(self, chat_id: int, r: Request) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": next(self._next_message), "date": int(time.time()),
            "chat": _chat(chat_id), "from": BOT_USER}
        if r.method == "sendMessage":
            message["text"] = r.params.get("text", "")
        else:
            name, data = r.files.get("document", ("file", b""))
            message["document"] = {"file_id": f"doc{message['message_id']}",
                                   "file_unique_id": f"u{message['message_id']}",
                                   "file_name": name, "file_size": len(data)}
        if r.params.get("reply_markup"):
            message["reply_markup"] = r.params["reply_markup"]
        with self._cond:
            self.messages[(chat_id, message["message_id"])] = message
        return message

    def _edit_markup(self, r: Request) -> tuple[int, dict[str, Any]]:
        key = (int(r.params["chat_id"]), int(r.params["message_id"]))
        with self._cond:
            message = self.messages.get(key)
            if message is None:
                return 400, {"ok": False, "error_code": 400,
                             "description": "Bad Request: message to edit not found"}
            markup = r.params.get("reply_markup")
            if markup == message.get("reply_markup"):
                return 400, {"ok": False, "error_code": 400,
                             "description": "Bad Request: message is not modified"}
            message["reply_markup"] = markup
            return 200, {"ok": True, "result": message}


def _chat(chat_id: int) -> dict[str, Any]:
    if chat_id < 0:
        return {"id": chat_id, "type": "supergroup", "title": f"team {chat_id}"}
    return {"id": chat_id, "type": "private", "first_name": f"user{chat_id}"}


def _user(user_id: int, name: str) -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": name}
