"""Command and vote handlers: short async functions over topicscout.service.

Every handler checks access first, reads its arguments (bad ones get usage text), calls the
service and sends what bot.render made. Failures reach the one error handler at the bottom.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any

from telegram import Bot, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import ContextTypes

from bot import render
from bot.redact import redact
from topicscout import export, service
from topicscout.errors import DeliveryError, InputError
from topicscout.timeutil import parse_duration
from topicscout.views import ShortlistEntry
from topicscout.worker import Worker

logger = logging.getLogger(__name__)
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
DEFAULT_SPAN = timedelta(days=7)
REFUSAL = ("Sorry, this bot only works for its team. If that is you, ask whoever runs "
           "topicscout to add this chat (id {chat}) to [telegram] chats.")


@dataclass(frozen=True)
class BotState:
    """What every handler needs; kept in ``application.bot_data``."""

    app: service.App
    clock: Callable[[], datetime]  # aware UTC "now"; injectable for tests and replays
    chats: frozenset[int]
    admins: frozenset[int]
    members: frozenset[int]  # empty: anyone in an allowed chat
    worker: Worker  # slow work (analysis, search, export) runs there, not on the event loop
    # One lock per message: concurrent taps must not let an older keyboard overwrite a newer.
    edit_locks: dict[tuple[int, int], asyncio.Lock] = field(default_factory=dict)

    @property
    def tz(self) -> tzinfo:
        return self.app.config.digest.tz

    def is_allowed(self, chat_id: int | None, user_id: int | None) -> bool:
        if user_id is not None and user_id in self.admins:
            return True
        in_chat = chat_id is not None and chat_id in self.chats
        return in_chat and (not self.members or user_id in self.members)

    def is_admin(self, user_id: int | None) -> bool:
        return user_id is not None and user_id in self.admins


Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]


def state_of(context: ContextTypes.DEFAULT_TYPE) -> BotState:
    return context.bot_data["topicscout"]  # type: ignore[no-any-return]


def _ids(update: Update) -> tuple[int | None, int | None]:
    chat, user = update.effective_chat, update.effective_user
    return (chat.id if chat else None), (user.id if user else None)


async def say(context: ContextTypes.DEFAULT_TYPE, chat_id: int, text: str) -> None:
    """Send HTML text, cut between lines if it would pass Telegram's limit."""
    await context.bot.send_message(chat_id, render.fit(text), parse_mode=ParseMode.HTML,
                                   link_preview_options=NO_PREVIEW)


def guarded(handler: Handler) -> Handler:
    """Refuse politely (and do nothing else) outside the configured chats and users."""
    async def wrapper(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat_id, user_id = _ids(update)
        if chat_id is None:
            return
        if not state_of(context).is_allowed(chat_id, user_id):
            await say(context, chat_id, render.esc(REFUSAL.format(chat=chat_id)))
            return
        try:
            await handler(update, context)
        except UsageError as e:
            await say(context, chat_id, f"Usage: {render.esc(str(e))}")
    wrapper.__name__ = handler.__name__
    wrapper.__doc__ = handler.__doc__
    return wrapper


class UsageError(Exception):
    """A command got arguments it cannot use; the message is the usage line."""


# -- digest delivery ---------------------------------------------------------------------


async def send_digest(tg_bot: Bot, app: service.App, chat_id: int,
                      digest: service.Digest) -> list[int]:
    """Send a digest as HTML messages with vote keyboards; returns the message ids.

    Raises DeliveryError (the token redacted) when Telegram refuses or cannot be reached.
    """
    header = render.DigestHeader(digest.brand, digest.as_of, digest.new_topics)
    chunks = render.render_digest(header, service.digest_views(digest), app.config.digest.tz)
    sent = []
    for chunk in chunks:
        markup = render.vote_keyboard(service.keyboard_state(app, chunk.idea_ids))
        try:
            message = await tg_bot.send_message(chat_id, chunk.text, parse_mode=ParseMode.HTML,
                                                link_preview_options=NO_PREVIEW,
                                                reply_markup=markup)
        except TelegramError as e:
            raise DeliveryError(f"chat {chat_id}: {redact(str(e))}") from None
        sent.append(message.message_id)
    return sent


# -- commands ----------------------------------------------------------------------------


@guarded
async def cmd_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    s = state_of(context)
    chat_id, _ = _ids(update)
    assert chat_id is not None
    status = ("gets" if service.is_subscribed(s.app, chat_id) else "does not get")
    await say(context, chat_id,
              f"Hi! I am topicscout for <b>{render.esc(s.app.brand().name)}</b>: rising topics "
              f"and a daily digest to vote on. This chat {status} the daily digest.\n"
              "Send /help for the commands.")


@guarded
async def cmd_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    lines = [f"/{c.name} {render.esc(c.usage)} — {render.esc(c.help)}".replace("  ", " ")
             for c in COMMANDS]
    await say(context, update.effective_chat.id, "\n".join(lines))  # type: ignore[union-attr]


def _digest_now(app: service.App, now: datetime) -> service.Digest:
    return service.make_digest(app, service.latest_moment(app, now), kind="adhoc")


def _trends_now(app: service.App, now: datetime) -> tuple[datetime, list[tuple[str, str,
                                                                               tuple[str, ...]]]]:
    moment = service.latest_moment(app, now)
    analysis = service.analyze_at(app, moment, limit=10)
    return moment, [(t.title, t.why, t.platforms) for t in analysis.topics[:10]]


@guarded
async def cmd_digest(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    s = state_of(context)
    digest = await s.worker.run(_digest_now, s.clock())
    await send_digest(context.bot, s.app, update.effective_chat.id, digest)  # type: ignore[union-attr]


@guarded
async def cmd_trends(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    s = state_of(context)
    moment, rows = await s.worker.run(_trends_now, s.clock())
    await say(context, update.effective_chat.id,  # type: ignore[union-attr]
              render.render_trends(rows, moment, s.tz))


@guarded
async def cmd_search(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    s = state_of(context)
    words = " ".join(context.args or []).strip()
    if not words or len(words) > 100:
        raise UsageError("/search <words>, e.g. /search 春晚")
    hits = await s.worker.run(service.search_stories, words, s.clock())
    await say(context, update.effective_chat.id,  # type: ignore[union-attr]
              render.render_search(words, hits, s.tz))


def parse_span(args: Sequence[str], usage: str) -> tuple[timedelta, list[str]]:
    """An optional leading duration ("7d"); returns it and the arguments left."""
    rest = list(args)
    for i, arg in enumerate(rest):
        if arg[:1].isdigit():
            try:
                span = parse_duration(arg)
            except ValueError as e:
                raise UsageError(usage) from e
            return span, rest[:i] + rest[i + 1:]
    return DEFAULT_SPAN, rest


def _shortlist(app: service.App, now: datetime,
               span: timedelta) -> tuple[datetime, list[ShortlistEntry]]:
    since = service.default_since(app, now, span)
    return since, service.shortlist(app, since)


async def _ranked(update: Update, context: ContextTypes.DEFAULT_TYPE, *,
                  detailed: bool, usage: str) -> None:
    s = state_of(context)
    span, rest = parse_span(context.args or [], usage)
    if rest:
        raise UsageError(usage)
    since, entries = await s.worker.run(_shortlist, s.clock(), span)
    what = "Shortlist" if detailed else "Top ideas"
    title = f"{what} since {since.astimezone(s.tz):%Y-%m-%d}"
    for text in render.render_top(entries[: 30 if detailed else 10], title, detailed=detailed,
                                  tz=s.tz):
        await say(context, update.effective_chat.id, text)  # type: ignore[union-attr]


@guarded
async def cmd_top(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _ranked(update, context, detailed=False, usage="/top [7d]")


@guarded
async def cmd_shortlist(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _ranked(update, context, detailed=True, usage="/shortlist [7d]")


@guarded
async def cmd_export(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    s = state_of(context)
    usage = "/export [7d] [csv|md]"
    span, rest = parse_span(context.args or [], usage)
    if len(rest) > 1 or (rest and rest[0].lower() not in export.FORMATS):
        raise UsageError(usage)
    fmt = rest[0].lower() if rest else "csv"
    since, entries = await s.worker.run(_shortlist, s.clock(), span)
    title = f"{s.app.brand().name} shortlist since {since.astimezone(s.tz):%Y-%m-%d}"
    data = export.render(entries, fmt, s.tz, title)
    name = f"shortlist-{since.astimezone(s.tz):%Y%m%d}.{fmt}"
    await context.bot.send_document(update.effective_chat.id, data,  # type: ignore[union-attr]
                                    filename=name,
                                    caption=f"{len(entries)} voted ideas since "
                                            f"{since.astimezone(s.tz):%Y-%m-%d}")


@guarded
async def cmd_keywords(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    s = state_of(context)
    chat_id, user_id = _ids(update)
    assert chat_id is not None
    args = context.args or []
    usage = "/keywords, or (admins) /keywords add <word> | /keywords remove <word>"
    if args:
        if args[0] not in ("add", "remove") or len(args) < 2:
            raise UsageError(usage)
        if not s.is_admin(user_id):
            await say(context, chat_id, "Only admins can change the brand keywords.")
            return
        for word in args[1:]:
            try:
                service.change_keyword(s.app, word, args[0] == "add", user_id, s.clock())
            except InputError as e:
                raise UsageError(f"{usage} ({e})") from e
    keywords = s.app.brand().keywords
    done = f"{'Added' if args[0] == 'add' else 'Removed'}. " if args else ""
    await say(context, chat_id, f"{done}Brand keywords: "
              + (render.esc(", ".join(keywords)) if keywords else "(none)"))


@guarded
async def cmd_sources(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    s = state_of(context)
    text = render.render_sources(service.source_health(s.app), s.tz)
    await say(context, update.effective_chat.id, text)  # type: ignore[union-attr]


async def _subscription(update: Update, context: ContextTypes.DEFAULT_TYPE, on: bool) -> None:
    s = state_of(context)
    chat = update.effective_chat
    assert chat is not None
    if chat.id not in s.chats:  # an admin's private chat: the digest goes to listed chats only
        await say(context, chat.id, "Only the chats listed in [telegram] chats get the daily "
                  f"digest; this one (id {chat.id}) is not.")
        return
    service.set_subscription(s.app, chat.id, on, s.clock(), chat.title)
    await say(context, chat.id, "This chat now gets the daily digest." if on
              else "This chat no longer gets the daily digest (/subscribe to undo).")


@guarded
async def cmd_subscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _subscription(update, context, True)


@guarded
async def cmd_unsubscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _subscription(update, context, False)


# -- votes -------------------------------------------------------------------------------


async def on_vote(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A tap on 👍 / 👎 / ⭐: answered at once, then the keyboard shows the new counts."""
    query = update.callback_query
    assert query is not None
    s = state_of(context)
    parsed = render.parse_vote_data(query.data)
    if parsed is None:
        await query.answer("This button is no longer valid.")
        return
    idea_id, value = parsed
    message = query.message
    chat_id = message.chat.id if message else None
    if not s.is_allowed(chat_id, query.from_user.id):
        await query.answer("Sorry, only the team can vote here. Your tap was not counted.",
                           show_alert=True)
        return
    user = query.from_user
    try:
        result = service.cast_vote(s.app, idea_id, user.id, user.full_name, value, s.clock())
    except InputError:
        await query.answer("This idea is no longer in the database.")
        return
    await query.answer(render.vote_toast(result.held, value))
    ids = render.keyboard_ids(getattr(message, "reply_markup", None)) or [idea_id]
    key = (chat_id or 0, getattr(message, "message_id", 0))
    async with s.edit_locks.setdefault(key, asyncio.Lock()):
        try:  # counts read inside the lock: the last edit sent is the newest state
            await query.edit_message_reply_markup(
                render.vote_keyboard(service.keyboard_state(s.app, ids)))
        except BadRequest as e:
            if "not modified" not in str(e).lower():  # quick taps can give the same counts
                raise


# -- errors ------------------------------------------------------------------------------


def describe(update: object) -> str:
    """Who and what, for the log: chat, user, and the command or button."""
    if not isinstance(update, Update):
        return "no update"
    chat_id, user_id = _ids(update)
    what = ""
    if update.callback_query:
        what = f"button {update.callback_query.data!r}"
    elif update.effective_message and update.effective_message.text:
        what = f"text {render.cut(update.effective_message.text, 80)!r}"
    return f"update {update.update_id} chat {chat_id} user {user_id} {what}".strip()


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The one error handler: log with context, answer the user briefly, never raise."""
    error = context.error
    logger.error("handling %s failed: %s", describe(update), redact(repr(error)),
                 exc_info=error)
    if not isinstance(update, Update):
        return
    try:
        if update.callback_query:
            await update.callback_query.answer("Sorry, that failed. It has been logged.")
        elif update.effective_chat:
            await say(context, update.effective_chat.id,
                      "Sorry, that failed. It has been logged; try again later.")
    except TelegramError as e:
        logger.warning("could not tell %s about the failure: %s", describe(update),
                       redact(str(e)))


@dataclass(frozen=True)
class Command:
    name: str
    usage: str
    help: str  # one line: shown by /help and registered with setMyCommands
    handler: Handler


COMMANDS: tuple[Command, ...] = (
    Command("start", "", "what this bot does and whether this chat gets the digest", cmd_start),
    Command("help", "", "this list", cmd_help),
    Command("digest", "", "the digest now, with vote buttons", cmd_digest),
    Command("trends", "", "rising topics now, compact", cmd_trends),
    Command("search", "<words>", "stored headlines of the last days matching the words",
            cmd_search),
    Command("top", "[7d]", "best-voted ideas of the period", cmd_top),
    Command("shortlist", "[7d]", "voted ideas with why and links", cmd_shortlist),
    Command("export", "[7d] [csv|md]", "the shortlist as a file", cmd_export),
    Command("keywords", "[add|remove word]", "brand keywords; admins add or remove",
            cmd_keywords),
    Command("sources", "", "health of the sources", cmd_sources),
    Command("subscribe", "", "this chat gets the daily digest", cmd_subscribe),
    Command("unsubscribe", "", "this chat stops getting the daily digest", cmd_unsubscribe),
)
