"""The process shell: log formats, the token never in a log line, config errors at start."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot import redact
from topicscout.cli import main
from topicscout.run import _Redacting

TOKEN = "123456:AAE-secret-token-value"


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """`run` configures the root logger and registers the token; give the next test the
    logging it had, and no token to mask."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    redact.forget_all()


def record(message: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("httpx", logging.INFO, __file__, 1, message, args, None)


def test_the_token_is_blanked_from_text_log_lines() -> None:
    redact.protect(TOKEN)
    line = _Redacting(as_json=False).format(
        record("HTTP Request: POST %s", f"https://api.telegram.org/bot{TOKEN}/getUpdates"))
    assert TOKEN not in line
    assert f"https://api.telegram.org/bot{redact.MASK}/getUpdates" in line


def test_json_log_lines_are_one_object_each_and_blank_the_token_too() -> None:
    redact.protect(TOKEN)
    formatter = _Redacting(as_json=True)
    try:
        raise RuntimeError(f"failed for {TOKEN}")
    except RuntimeError:
        failing = record("job %s crashed", "crawl:weibo")
        failing.exc_info = sys.exc_info()
    line = formatter.format(failing)
    assert "\n" not in line and TOKEN not in line
    entry = json.loads(line)
    assert entry["msg"] == "job crawl:weibo crashed"
    assert entry["level"] == "info" and entry["logger"] == "httpx"
    assert f"RuntimeError: failed for {redact.MASK}" in entry["exc"]


def test_run_with_an_invalid_config_exits_2_naming_every_bad_key(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[digest]\ntime = "25:00"\ngrace = "soon"\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["run", "--config", str(config)])
    assert result.exit_code == 2
    assert "digest.time" in result.output and "digest.grace" in result.output
    assert not (tmp_path / "topicscout.sqlite").exists()


def test_a_bad_test_clock_hook_is_one_clear_error(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[storage]\npath = "x.sqlite"\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["run", "--config", str(config)],
                                env={"TOPICSCOUT_CLOCK_OFFSET": "tomorrow"})
    assert result.exit_code == 2
    assert "TOPICSCOUT_CLOCK_OFFSET" in result.output
