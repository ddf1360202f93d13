"""Wiring: a python-telegram-bot Application over a topicscout App.

``build_application`` registers the handlers; ``start_bot`` / ``stop_bot`` run it beside other
asyncio work (the scheduler) the way PTB documents for custom event loops.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from telegram import Bot, BotCommand, Update
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationBuilder, CallbackQueryHandler, CommandHandler

from bot import handlers
from bot.redact import protect, redact
from topicscout import service
from topicscout.config import TelegramConfig
from topicscout.errors import DeliveryError
from topicscout.types import utc_now
from topicscout.worker import Worker

logger = logging.getLogger(__name__)
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]
CONCURRENT_UPDATES = 16  # handlers in flight at once; slow ones wait on the worker thread


def file_url(base_url: str) -> str:
    """The file endpoint beside a Bot API base URL (``…/bot`` -> ``…/file/bot``)."""
    base = base_url.rstrip("/")
    if base.endswith("/bot"):
        return base[: -len("/bot")] + "/file/bot"
    return base + "/file"


def build_application(app: service.App, token: str, *,
                      clock: Callable[[], datetime] = utc_now,
                      worker: Worker | None = None) -> Application:  # type: ignore[type-arg]
    """The bot, handlers registered, pointed at ``[telegram] base_url`` when set.

    The token is registered for redaction before anything can log it. ``worker``: the thread
    for slow commands (``topicscout run`` passes the scheduler's); by default one of its own.
    """
    protect(token)
    if logging.getLogger("httpx").level == logging.NOTSET:
        logging.getLogger("httpx").setLevel(logging.WARNING)  # one INFO line per poll otherwise
    tg = app.config.telegram or TelegramConfig()
    builder = ApplicationBuilder().token(token)
    if tg.base_url:
        builder = builder.base_url(tg.base_url).base_file_url(file_url(tg.base_url))
    # Updates are handled concurrently so a vote is answered while a /digest is computed.
    application = builder.concurrent_updates(CONCURRENT_UPDATES).build()
    application.bot_data["topicscout"] = handlers.BotState(
        app=app, clock=clock, chats=frozenset(tg.chats), admins=frozenset(tg.admins),
        members=frozenset(tg.members), worker=worker or Worker(app))
    for command in handlers.COMMANDS:
        application.add_handler(CommandHandler(command.name, command.handler))
    application.add_handler(CallbackQueryHandler(handlers.on_vote, pattern=r"^v:"))
    application.add_error_handler(handlers.on_error)
    return application


def bot_commands() -> list[BotCommand]:
    return [BotCommand(c.name, c.help) for c in handlers.COMMANDS]


async def start_bot(application: Application, *,  # type: ignore[type-arg]
                    poll_timeout: int = 30) -> None:
    """Initialise, register the commands (setMyCommands) and start long polling.

    If initialisation fails (bad token, server down) the HTTP connections are closed before
    the error propagates; PTB would otherwise leave them open.
    """
    try:
        await application.initialize()
    except TelegramError as e:
        await application.shutdown()
        await application.bot.shutdown()
        # `from None`: PTB's own message can quote the token (InvalidToken).
        raise DeliveryError(f"cannot start the bot: {redact(str(e))}") from None
    await application.bot.set_my_commands(bot_commands())
    await application.start()
    assert application.updater is not None
    await application.updater.start_polling(timeout=poll_timeout,
                                            allowed_updates=ALLOWED_UPDATES)


async def stop_bot(application: Application) -> None:  # type: ignore[type-arg]
    """Stop polling, let running handlers finish, close connections and the worker."""
    if application.updater is not None and application.updater.running:
        await application.updater.stop()
    if application.running:
        await application.stop()
    await application.shutdown()
    state = application.bot_data.get("topicscout")
    if isinstance(state, handlers.BotState):
        state.worker.close()


send_digest = handlers.send_digest


async def broadcast_digest(tg_bot: Bot, app: service.App, chat_ids: Sequence[int],
                           digest: service.Digest) -> dict[int, list[int] | DeliveryError]:
    """Send one digest to several chats; a chat that fails does not stop the others."""
    outcome: dict[int, list[int] | DeliveryError] = {}
    for chat_id in chat_ids:
        try:
            outcome[chat_id] = await handlers.send_digest(tg_bot, app, chat_id, digest)
        except DeliveryError as e:
            logger.warning("digest not delivered: %s", e)
            outcome[chat_id] = e
    return outcome


def make_bot(app: service.App, token: str) -> Bot:
    """A plain Bot (no Application) for one-off sends such as ``digest --send``."""
    protect(token)
    tg = app.config.telegram or TelegramConfig()
    if tg.base_url:
        return Bot(token, base_url=tg.base_url, base_file_url=file_url(tg.base_url))
    return Bot(token)


async def send_to_chats(app: service.App, token: str, chat_ids: Sequence[int],
                        digest: service.Digest) -> dict[int, list[int] | DeliveryError]:
    """``digest --send``: one Bot, opened and closed around the broadcast."""
    tg_bot = make_bot(app, token)
    try:
        await tg_bot.initialize()
    except TelegramError as e:
        await tg_bot.shutdown()
        raise DeliveryError(f"cannot reach the Bot API: {redact(str(e))}") from None
    try:
        return await broadcast_digest(tg_bot, app, chat_ids, digest)
    finally:
        await tg_bot.shutdown()
