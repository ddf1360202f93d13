"""Sending digests to chats, commands, errors and the token, against the fake Bot API."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC

import pytest
from click.testing import CliRunner

from bot.app import (
    broadcast_digest,
    build_application,
    make_bot,
    send_digest,
    start_bot,
    stop_bot,
)
from tests.bot.conftest import ANA, DAY, LEAD, STRANGER, TEAM_CHAT
from tests.fakes.telegram_api import FakeTelegram
from topicscout import service
from topicscout.cli import main
from topicscout.errors import DeliveryError

OTHER_CHAT, BLOCKED_CHAT = -1003, -1002


def run_bot(app: service.App, tg: FakeTelegram,
            body: Callable[[], Awaitable[None]]) -> None:
    async def main() -> None:
        application = build_application(app, tg.token, clock=lambda: DAY.astimezone(UTC))
        await start_bot(application, poll_timeout=1)
        try:
            await body()
        finally:
            await stop_bot(application)
    asyncio.run(main())


async def reply(tg: FakeTelegram, user: int, text: str, chat: int = TEAM_CHAT,
                messages: int = 1) -> str:
    """Send a command; wait for ``messages`` answers; return the first one's text."""
    before = len(tg.calls("sendMessage"))
    tg.command(chat, user, text)
    await tg.wait_for(lambda _: len(tg.calls("sendMessage")) >= before + messages, timeout=30)
    return str(tg.calls("sendMessage")[before].params["text"])


def test_a_chat_that_fails_does_not_stop_the_others(corpus_app: service.App,
                                                     fake_telegram: FakeTelegram) -> None:
    fake_telegram.failing_chats.add(BLOCKED_CHAT)
    digest = service.make_digest(corpus_app, DAY, kind="daily")

    async def send() -> dict[int, list[int] | DeliveryError]:
        async with make_bot(corpus_app, fake_telegram.token) as tg_bot:
            return await broadcast_digest(tg_bot, corpus_app,
                                          [TEAM_CHAT, BLOCKED_CHAT, OTHER_CHAT], digest)

    outcome = asyncio.run(send())
    assert isinstance(outcome[TEAM_CHAT], list) and isinstance(outcome[OTHER_CHAT], list)
    assert outcome[TEAM_CHAT] and len(outcome[TEAM_CHAT]) == len(outcome[OTHER_CHAT])
    error = outcome[BLOCKED_CHAT]
    assert isinstance(error, DeliveryError)
    assert "chat -1002" in str(error) and "blocked" in str(error)
    assert fake_telegram.token not in str(error)


def test_digest_send_reaches_subscribed_chats_only(corpus_app: service.App,
                                                   fake_telegram: FakeTelegram,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOPICSCOUT_TEST_TOKEN", fake_telegram.token)
    service.set_subscription(corpus_app, OTHER_CHAT, False, DAY)
    config = str(corpus_app.config.path)
    text = corpus_app.config.path.read_text(encoding="utf-8")  # type: ignore[union-attr]
    corpus_app.config.path.write_text(  # type: ignore[union-attr]
        text.replace("chats = [-1001]", f"chats = [-1001, {OTHER_CHAT}]"), encoding="utf-8")
    result = CliRunner().invoke(main, ["digest", "--send", "--config", config,
                                       "--as-of", DAY.isoformat()])
    assert result.exit_code == 0, result.output
    chats = {int(r.params["chat_id"]) for r in fake_telegram.calls("sendMessage")}
    assert chats == {TEAM_CHAT}
    assert "chat -1001: sent in" in result.output


def test_digest_send_without_a_token_names_the_variable(corpus_app: service.App,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOPICSCOUT_TEST_TOKEN", raising=False)
    result = CliRunner().invoke(main, ["digest", "--send", "--config",
                                       str(corpus_app.config.path)])
    assert result.exit_code == 2
    assert "TOPICSCOUT_TEST_TOKEN" in result.output


def test_a_rejected_token_is_never_shown(corpus_app: service.App, fake_telegram: FakeTelegram,
                                         caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "999999:WRONG-token-zyxwvutsrqponm"
    application = build_application(corpus_app, wrong)
    with pytest.raises(DeliveryError) as caught:
        asyncio.run(start_bot(application))
    assert "was rejected" in str(caught.value)
    assert wrong not in str(caught.value) and caught.value.__cause__ is None
    assert wrong not in caplog.text


def test_commands_answer_in_the_team_chat(corpus_app: service.App,
                                          fake_telegram: FakeTelegram) -> None:
    tg = fake_telegram

    async def body() -> None:
        assert "This chat gets the daily digest" in await reply(tg, ANA, "/start")
        assert "no longer gets" in await reply(tg, LEAD, "/unsubscribe")
        assert not service.is_subscribed(corpus_app, TEAM_CHAT)
        assert "now gets" in await reply(tg, LEAD, "/subscribe")
        assert "<b>Rising now</b>" in await reply(tg, ANA, "/trends")
        assert await reply(tg, ANA, "/sources") == "No sources in the config."
        assert "Brand keywords: AI, 大模型, 手机" in await reply(tg, ANA, "/keywords")
        assert "No votes" in await reply(tg, ANA, "/top 30d")
        assert (await reply(tg, ANA, "/export 7d pdf")).startswith("Usage: /export")
        assert (await reply(tg, ANA, "/search")).startswith("Usage: /search")
        digest = await reply(tg, ANA, "/digest", messages=2)  # 12 ideas: 10 + 2
        assert "选题 digest · 2026-01-20 09:03" in digest  # the data's last snapshot
        assert "vote" not in digest
        assert "only works for its team" in await reply(tg, STRANGER, "/digest", chat=-555)
        assert "only works for its team" in await reply(tg, STRANGER, "/help")
        # an admin may use the bot from a private chat
        assert "/export" in await reply(tg, LEAD, "/help", chat=LEAD)
        assert "is not" in await reply(tg, LEAD, "/subscribe", chat=LEAD)
        assert service.subscribed_chats(corpus_app) == [TEAM_CHAT]

    run_bot(corpus_app, tg, body)
    digest_message = next(r for r in tg.calls("sendMessage") if "选题 digest" in r.params["text"])
    assert digest_message.params["reply_markup"]["inline_keyboard"]


def test_a_failing_handler_is_logged_with_context_and_answered(
        corpus_app: service.App, fake_telegram: FakeTelegram,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="bot.handlers")
    tg = fake_telegram
    digest = service.make_digest(corpus_app, DAY, kind="daily")
    data = f"v:{digest.idea_ids[0]}:u"

    async def body() -> None:
        async with make_bot(corpus_app, tg.token) as tg_bot:
            sent = await send_digest(tg_bot, corpus_app, TEAM_CHAT, digest)
        corpus_app.store.close()  # the database goes away under the running bot
        update_id = tg.tap(TEAM_CHAT, sent[0], ANA, data)
        answer = await tg.wait_answered(tg.update(update_id)["callback_query"]["id"])
        assert "Sorry, that failed" in str(answer.params.get("text"))

    run_bot(corpus_app, tg, body)
    failure = next(r for r in caplog.records if r.name == "bot.handlers")
    assert f"chat {TEAM_CHAT} user {ANA} button '{data}'" in failure.getMessage()
    assert failure.exc_text and "closed database" in failure.exc_text


def test_votes_are_answered_while_a_digest_is_being_computed(
        corpus_app: service.App, fake_telegram: FakeTelegram) -> None:
    tg = fake_telegram
    digest = service.make_digest(corpus_app, DAY, kind="daily")

    async def body() -> None:
        async with make_bot(corpus_app, tg.token) as tg_bot:
            sent = await send_digest(tg_bot, corpus_app, TEAM_CHAT, digest)
        before = len(tg.calls("sendMessage"))
        tg.command(TEAM_CHAT, LEAD, "/digest")  # seconds of analysis, on the worker thread
        update_id = tg.tap(TEAM_CHAT, sent[0], ANA, f"v:{digest.idea_ids[0]}:u")
        answer = await tg.wait_answered(tg.update(update_id)["callback_query"]["id"])
        await tg.wait_for(lambda _: len(tg.calls("sendMessage")) > before, timeout=30)
        first_digest_message = tg.calls("sendMessage")[before]
        assert answer.at < first_digest_message.at
        assert answer.params["text"] == "👍 counted"

    run_bot(corpus_app, tg, body)
