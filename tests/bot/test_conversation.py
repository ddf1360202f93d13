"""The real python-telegram-bot Application against the loopback fake Bot API: a team's day."""

from __future__ import annotations

import asyncio
import csv
import io
import logging
from datetime import UTC, timedelta

import pytest

from bot.app import bot_commands, build_application, start_bot, stop_bot
from bot.handlers import send_digest
from tests.bot.conftest import ANA, BO, DAY, LEAD, STRANGER, TEAM_CHAT
from tests.fakes.telegram_api import FakeTelegram
from topicscout import service


def buttons(message: dict) -> list[dict]:
    return [b for row in message["reply_markup"]["inline_keyboard"] for b in row]


def label_of(tg: FakeTelegram, message_id: int, data: str) -> str:
    message = tg.messages[(TEAM_CHAT, message_id)]
    return next(b["text"] for b in buttons(message) if b["callback_data"] == data)


async def tap(tg: FakeTelegram, message_id: int, user: int, data: str, name: str) -> str:
    """Tap a button, wait for the answer (and the keyboard edit when one is due)."""
    edits = len(tg.calls("editMessageReplyMarkup"))
    update_id = tg.tap(TEAM_CHAT, message_id, user, data, name=name)
    answer = await tg.wait_answered(tg.update(update_id)["callback_query"]["id"])
    toast = str(answer.params.get("text"))
    if toast.endswith((" counted", " withdrawn")):
        await tg.wait_for(lambda _: len(tg.calls("editMessageReplyMarkup")) > edits)
    return toast


async def say(tg: FakeTelegram, user: int, text: str, name: str = "member") -> str:
    """Send a command and return the text of the bot's next message to the team chat."""
    before = len(tg.calls("sendMessage"))
    tg.command(TEAM_CHAT, user, text, name=name)
    await tg.wait_for(lambda _: len(tg.calls("sendMessage")) > before)
    return str(tg.calls("sendMessage")[before].params["text"])


def message_of(tg: FakeTelegram, ids: list[int], idea_id: int) -> int:
    """The digest message whose keyboard carries ``idea_id``."""
    return next(m for m in ids if any(b["callback_data"] == f"v:{idea_id}:u"
                                      for b in buttons(tg.messages[(TEAM_CHAT, m)])))


async def conversation(app: service.App, tg: FakeTelegram) -> None:
    application = build_application(app, tg.token, clock=lambda: DAY.astimezone(UTC))
    await start_bot(application, poll_timeout=1)
    try:
        await scenario(app, tg, application.bot)
    finally:
        await stop_bot(application)


async def scenario(app: service.App, tg: FakeTelegram, tg_bot: object) -> None:
    registered = tg.calls("setMyCommands")[0].params["commands"]
    assert [c["command"] for c in registered] == [c.command for c in bot_commands()]
    assert len(registered) == 12 and all(c["description"] for c in registered)

    # The scheduler's two mornings: yesterday's digest, then today's, to the team chat.
    old = service.make_digest(app, DAY - timedelta(days=1), kind="daily")
    today = service.make_digest(app, DAY, kind="daily")
    old_ids = await send_digest(tg_bot, app, TEAM_CHAT, old)  # type: ignore[arg-type]
    today_ids = await send_digest(tg_bot, app, TEAM_CHAT, today)  # type: ignore[arg-type]
    first = tg.messages[(TEAM_CHAT, today_ids[0])]
    assert "<b>小智科技</b> · 选题 digest · 2026-01-20 09:30 CST" in first["text"]
    sends = tg.calls("sendMessage")
    assert all(r.params["parse_mode"] == "HTML" for r in sends)
    assert all(len(b["callback_data"].encode()) < 64
               for m in old_ids + today_ids for b in buttons(tg.messages[(TEAM_CHAT, m)]))

    one, two, three = today.idea_ids[:3]
    voted_today = {today.ideas[i].key for i in range(3)}
    old_pick = next(i for i, idea in zip(old.idea_ids, old.ideas, strict=True)
                    if idea.key not in voted_today)
    m1, m2, m3 = (message_of(tg, today_ids, i) for i in (one, two, three))
    m_old = message_of(tg, old_ids, old_pick)

    assert await tap(tg, m1, ANA, f"v:{one}:u", "ana") == "👍 counted"
    assert await tap(tg, m1, BO, f"v:{one}:u", "bo") == "👍 counted"
    assert label_of(tg, m1, f"v:{one}:u") == "1. 👍 2"
    assert await tap(tg, m2, LEAD, f"v:{two}:s", "lead") == "⭐ counted"
    assert await tap(tg, m1, ANA, f"v:{one}:d", "ana") == "👎 counted"  # changes her vote
    assert await tap(tg, m1, BO, f"v:{one}:u", "bo") == "👍 vote withdrawn"  # same button again
    assert (label_of(tg, m1, f"v:{one}:u"), label_of(tg, m1, f"v:{one}:d")) == ("1. 👍 0", "👎 1")
    refused = await tap(tg, m2, STRANGER, f"v:{two}:u", "stranger")
    assert "not counted" in refused
    assert await tap(tg, m3, LEAD, f"v:{three}:u", "lead") == "👍 counted"
    assert await tap(tg, m3, BO, f"v:{three}:u", "bo") == "👍 counted"
    assert await tap(tg, m_old, BO, f"v:{old_pick}:u", "bo") == "👍 counted"  # old digest

    tallies = app.store.idea_tallies([one, two, three, old_pick])
    assert tallies[one] == {"up": 0, "down": 1, "star": 0}
    assert tallies[two] == {"up": 0, "down": 0, "star": 1}
    assert tallies[three] == {"up": 2, "down": 0, "star": 0}
    assert tallies[old_pick] == {"up": 1, "down": 0, "star": 0}
    assert not list(app.store.iter_rows("SELECT * FROM votes WHERE user_id = ?", [STRANGER]))

    # Keywords: the admin adds one; a member may look but not change.
    assert "Added. Brand keywords: AI, 大模型, 手机, 春晚" in await say(
        tg, LEAD, "/keywords add 春晚", "lead")
    assert "Only admins" in await say(tg, ANA, "/keywords add 游戏", "ana")
    assert app.brand().keywords == ("AI", "大模型", "手机", "春晚")

    # Search finds two-character Chinese words; bad arguments get usage; strangers a refusal.
    found = await say(tg, ANA, "/search 春晚", "ana")
    assert "春晚" in found.split("\n", 1)[1]
    assert (await say(tg, ANA, "/top soon", "ana")).startswith("Usage: /top [7d]")
    assert "only works for its team" in await say(tg, STRANGER, "/top", "stranger")
    help_text = await say(tg, BO, "/help", "bo")
    assert all(f"/{c.command}" in help_text for c in bot_commands())

    # The lead's export: a CSV document, BOM first, Chinese intact, ranked by votes.
    tg.command(TEAM_CHAT, LEAD, "/export 7d csv", name="lead")
    await tg.wait_for(lambda _: bool(tg.calls("sendDocument")))
    name, data = tg.calls("sendDocument")[0].files["document"]
    assert name == "shortlist-20260113.csv"
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    titles = [r["title"] for r in rows]
    by_id = {i: idea.topic.title for i, idea in zip(today.idea_ids, today.ideas, strict=True)}
    by_id |= {i: idea.topic.title for i, idea in zip(old.idea_ids, old.ideas, strict=True)}
    assert titles == [by_id[three], by_id[old_pick], by_id[two], by_id[one]]
    assert [(r["net"], r["star"]) for r in rows] == [("2", "0"), ("1", "0"), ("0", "1"),
                                                     ("-1", "0")]
    assert rows[3]["voters"] == "ana 👎"
    assert any("\u4e00" <= ch <= "\u9fff" for ch in titles[0])


def test_team_gets_digest_votes_and_the_lead_exports(
        corpus_app: service.App, fake_telegram: FakeTelegram,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="httpx")  # httpx logs every URL: with the token
    asyncio.run(conversation(corpus_app, fake_telegram))
    assert fake_telegram.token not in caplog.text
    assert "/bot<token>/getUpdates" in caplog.text  # the URLs were logged, redacted
