"""The real `topicscout run` subprocess with the real bot, against the loopback fake Bot API:
exactly one digest per chat, a vote tapped in the chat is stored, and after a SIGKILL and a
restart at the same morning nobody gets the digest twice and the vote is still there."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest

from tests.fakes.telegram_api import FakeTelegram, Request
from tests.service.conftest import ServiceProcess, query, write_config

MORNING = datetime.fromisoformat("2026-01-20T09:29:52+08:00")
CHATS = (-1001, -1002)


@pytest.fixture
def telegram() -> Iterator[FakeTelegram]:
    with FakeTelegram() as fake:
        yield fake


def wait_until(check: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def digest_messages(telegram: FakeTelegram, chat: int) -> list[Request]:
    return [r for r in telegram.calls("sendMessage")
            if r.params.get("chat_id") == chat and "选题 digest" in str(r.params.get("text"))]


def test_run_sends_one_digest_per_chat_counts_votes_and_never_resends_after_a_crash(
        tmp_path: Path, telegram: FakeTelegram, processes: list[ServiceProcess]) -> None:
    config = write_config(tmp_path, chats=CHATS, base_url=telegram.base_url)
    env = {"TOPICSCOUT_TEST_TOKEN": telegram.token}
    db = tmp_path / "run.sqlite"

    first = ServiceProcess(config, clock_at=MORNING, env=env)
    processes.append(first)
    wait_until(lambda: all(digest_messages(telegram, c) for c in CHATS), "both digests")
    assert telegram.calls("setMyCommands"), "commands are registered at start"
    first_message = digest_messages(telegram, CHATS[0])[0]
    assert first_message.params["parse_mode"] == "HTML"

    # A member votes on the first idea in chat -1001, through the real bot in the subprocess.
    message_id = next(mid for (chat, mid), m in telegram.messages.items()
                      if chat == CHATS[0] and m.get("reply_markup"))
    button = telegram.messages[(CHATS[0], message_id)]["reply_markup"]["inline_keyboard"][0][0]
    update = telegram.tap(CHATS[0], message_id, 7, button["callback_data"], name="ops")
    callback_id = telegram.update(update)["callback_query"]["id"]
    wait_until(lambda: any(r.params.get("callback_query_id") == callback_id
                           for r in telegram.calls("answerCallbackQuery")), "the vote's toast")
    wait_until(lambda: query(db, "SELECT count(*) FROM votes")[0][0] == 1, "the stored vote")

    first.signal(signal.SIGKILL)
    first.wait(10)
    sent_before = {c: len(digest_messages(telegram, c)) for c in CHATS}

    second = ServiceProcess(config, clock_at=MORNING, env=env)
    processes.append(second)
    second.wait_for_log(lambda m: m.startswith("service started"))
    time.sleep(3)  # the start-up catch-up of the digest job runs right after this line
    second.signal(signal.SIGTERM)
    assert second.wait(15) == 0

    assert {c: len(digest_messages(telegram, c)) for c in CHATS} == sent_before
    assert sorted(query(db, "SELECT chat_id, status FROM deliveries WHERE day = ?",
                        ("2026-01-20",))) == sorted(
        [(CHATS[0], "sent"), (CHATS[1], "sent")])
    assert query(db, "SELECT user_id, value FROM votes") == [(7, "up")]
    assert query(db, "PRAGMA integrity_check") == [("ok",)]
    output = first.log_path.read_text(encoding="utf-8") + second.log_path.read_text("utf-8")
    assert telegram.token not in output
