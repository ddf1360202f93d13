"""Keep the bot token out of every log line and error message.

PTB and httpx put the token in request URLs (``/bot<token>/getUpdates``) and PTB's
``InvalidToken`` quotes it. Redacting at record creation (a log-record factory) covers every
logger and every handler, including ones configured later by someone else.
"""

from __future__ import annotations

import logging
import traceback
from typing import Any

MASK = "<token>"
_secrets: set[str] = set()
_installed = False


def redact(text: str) -> str:
    """``text`` with every registered secret replaced by a mask."""
    for secret in _secrets:
        text = text.replace(secret, MASK)
    return text


def _scrub(record: logging.LogRecord) -> None:
    if not _secrets:
        return
    try:
        message = record.getMessage()
    except (TypeError, ValueError):  # a bad format string: keep the raw parts, redacted
        message = f"{record.msg} {record.args}"
    record.msg, record.args = redact(message), ()
    if record.exc_info and record.exc_info[0] is not None:
        record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip())
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


def protect(secret: str) -> None:
    """Redact ``secret`` from all log records from now on (idempotent)."""
    global _installed
    if len(secret) >= 8:  # never mask short strings: it would mangle ordinary text
        _secrets.add(secret)
    if not _installed:
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            _scrub(record)
            return record

        logging.setLogRecordFactory(factory)
        _installed = True


def forget_all() -> None:
    """Stop redacting (tests: one test's token must not alter another's log records)."""
    _secrets.clear()
