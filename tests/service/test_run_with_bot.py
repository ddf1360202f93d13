"""The real `topicscout run` subprocess against the loopback source server and the fake Bot API.

The service crawls real sources over HTTP (recorded weibo, baidu and zhihu hot lists and an RSS
feed; one more feed answers 500 every time) with the real bot: exactly one digest per chat, made
of the served titles; exactly one admin alert for the broken source; votes tapped in the chats
are stored; after a SIGKILL during a crawl and a restart nobody gets the digest twice, nothing
is lost, the database is intact, and `topicscout sources` shows the broken source's error.
"""

from __future__ import annotations

import html
import re
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.fakes.http_server import FakeServer, Route
from tests.fakes.telegram_api import FakeTelegram, Request
from tests.service.conftest import ServiceProcess, query, write_config
from tests.sources.helpers import DATA, parse, source
from topicscout import cli
from topicscout.types import utc_now

# The service clock starts this long before the 09:30 digest: enough for the process to start
# (3-4 s here, more on a loaded machine) and make the first fetch of each source, 2 s apart
# (schedule.STAGGER), the last one 8 s after the start.
LEAD = timedelta(seconds=20)
DIGEST_AT = datetime.fromisoformat("2026-03-16T09:30:00+08:00")  # write_config's digest time
DAY = "2026-03-16"
CHATS = (-1001, -1002)
ADMIN = 42  # write_config's [telegram] admins
HOTLISTS = ("weibo", "baidu", "zhihu")
FEED = ("sspai", "yinan-c__sspai.xml")
BROKEN = "ifanr"  # a feed whose server answers 500 every time
# Short intervals so sources are fetched again within seconds; one retry per fetch, quickly.
EVERY = "3s"
CRAWL = '[crawl]\nretries = 1\nbackoff = "0.1s"\ndeadline = "10s"\nread_timeout = "10s"'


@dataclass(frozen=True)
class Served:
    toml: str  # the [[sources]] and [crawl] tables pointing at the server
    titles: frozenset[str]  # every title the good sources serve


def _table(name: str, kind: str, url: str, platform: str | None = None) -> str:
    lines = ["[[sources]]", f'name = "{name}"', f'kind = "{kind}"', f'url = "{url}"',
             f'every = "{EVERY}"']
    return "\n".join(lines + ([f'platform = "{platform}"'] if platform else []))


def serve_sources(server: FakeServer) -> Served:
    """Routes and config for the broken source and the good ones. The broken one comes first,
    so its first fetches (and the alert) happen well before the digest."""
    url = server.add(f"/{BROKEN}", Route(status=500, content_type="text/html",
                                         body=b"<html><body>500 Server Error</body></html>"))
    tables, titles = [CRAWL, _table(BROKEN, "rss", url)], set()
    for platform in HOTLISTS:
        body = (DATA / "hotlists" / f"{platform}.json").read_bytes()
        url = server.add(f"/{platform}", body=body)
        tables.append(_table(platform, "hotlist", url, platform))
        titles |= {i.title for i in parse(source(platform, platform=platform, url=url), body)}
    name, filename = FEED
    body = (DATA / "feeds" / filename).read_bytes()
    url = server.add(f"/{name}", body=body, content_type="application/rss+xml")
    tables.append(_table(name, "rss", url))
    titles |= {i.title for i in parse(source(name, "rss", url=url), body,
                                      "application/rss+xml")}
    return Served("\n".join(tables), frozenset(titles))


@pytest.fixture
def telegram() -> Iterator[FakeTelegram]:
    with FakeTelegram() as fake:
        yield fake


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with FakeServer() as fake:
        yield fake


def wait_until(check: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def sent_to(telegram: FakeTelegram, chat: int) -> list[Request]:
    return [r for r in telegram.calls("sendMessage") if r.params.get("chat_id") == chat]


def digest_messages(telegram: FakeTelegram, chat: int) -> list[Request]:
    """The first message of each digest sent to ``chat`` (the one with the header)."""
    return [r for r in sent_to(telegram, chat) if "选题 digest" in str(r.params.get("text"))]


def idea_titles(telegram: FakeTelegram, chat: int) -> list[str]:
    """The idea titles of every digest message to ``chat``, unescaped, as rendered (maybe cut)."""
    return [html.unescape(m) for r in sent_to(telegram, chat) if r.params.get("reply_markup")
            for m in re.findall(r"^<b>\d+\. (.+?)</b>", str(r.params["text"]), re.MULTILINE)]


def is_served(title: str, served: frozenset[str]) -> bool:
    return title in served or (title.endswith("…") and any(
        s.startswith(title[:-1]) for s in served))


def crawl_lines(proc: ServiceProcess, name: str) -> list[str]:
    return [r["msg"] for r in proc.records()
            if str(r["msg"]).startswith(f"crawl source={name} fetched=")]


def tap(telegram: FakeTelegram, chat: int, user: int, column: int) -> None:
    """``user`` taps button ``column`` (0 👍, 1 👎, 2 ⭐) of the first idea in ``chat``."""
    message_id = next(mid for (c, mid), m in dict(telegram.messages).items()
                      if c == chat and m.get("reply_markup"))
    button = telegram.messages[(chat, message_id)]["reply_markup"]["inline_keyboard"][0][column]
    update = telegram.tap(chat, message_id, user, button["callback_data"], name=f"u{user}")
    callback_id = str(telegram.update(update)["callback_query"]["id"])
    wait_until(lambda: any(r.params.get("callback_query_id") == callback_id
                           for r in telegram.calls("answerCallbackQuery")), "the vote's toast")


def check_digests(telegram: FakeTelegram, served: Served) -> None:
    """One digest per chat, in HTML, every idea one of the served titles."""
    for chat in CHATS:
        assert len(digest_messages(telegram, chat)) == 1
        assert {r.params.get("parse_mode") for r in sent_to(telegram, chat)} == {"HTML"}
        titles = idea_titles(telegram, chat)
        assert titles, f"an empty digest: did the service start more than {LEAD} before 09:30?"
        assert [t for t in titles if not is_served(t, served.titles)] == []


def kill_during_a_weibo_fetch(proc: ServiceProcess, server: FakeServer) -> None:
    """SIGKILL while a request to weibo's server is in flight (the server stalls it)."""
    route = server.routes["/weibo"]
    route.delay = 5
    fetched = len(server.requests_to("/weibo"))
    wait_until(lambda: len(server.requests_to("/weibo")) > fetched, "a weibo fetch")
    proc.signal(signal.SIGKILL)
    proc.wait(10)
    route.delay = 0


def check_one_alert(telegram: FakeTelegram, server: FakeServer,
                    procs: list[ServiceProcess]) -> None:
    """The broken source failed again and again (with a retry each time), yet the admin got
    one alert, and nobody else got any."""
    failures = [m for p in procs for m in crawl_lines(p, BROKEN)]
    assert len(failures) >= 3 and all("errors=1" in m for m in failures), failures
    assert len(server.requests_to(f"/{BROKEN}")) >= 2 * len(failures)
    alerts = [r.params["text"] for r in sent_to(telegram, ADMIN)]
    assert len(alerts) == 1, alerts
    assert alerts[0].startswith(f"⚠️ topicscout: source {BROKEN} failed "), alerts
    assert f"HTTP 500 from 127.0.0.1:{server.port}" in alerts[0]
    assert {r.params["chat_id"] for r in telegram.calls("sendMessage")} == {*CHATS, ADMIN}


def test_run_crawls_real_sources_digests_once_per_chat_alerts_once_and_survives_sigkill(
        tmp_path: Path, server: FakeServer, telegram: FakeTelegram,
        processes: list[ServiceProcess]) -> None:
    served = serve_sources(server)
    config = write_config(tmp_path, chats=CHATS, base_url=telegram.base_url,
                          sources=served.toml)
    env = {"TOPICSCOUT_TEST_TOKEN": telegram.token}
    db = tmp_path / "run.sqlite"
    first = ServiceProcess(config, clock_at=DIGEST_AT - LEAD, env=env, replay=False)
    processes.append(first)
    first.wait_for_log(lambda m: m.startswith("service started"))  # the database exists
    wait_until(lambda: query(db, "SELECT count(*) FROM deliveries WHERE day = ? AND status = "
                             "'sent'", (DAY,))[0][0] == len(CHATS), "both digests delivered")
    check_digests(telegram, served)
    assert {p for (p,) in query(db, "SELECT DISTINCT platform FROM items")} == \
        {*HOTLISTS, FEED[0]}

    # Members vote in both chats, through the real bot in the subprocess.
    tap(telegram, CHATS[0], 7, 0)
    tap(telegram, CHATS[1], 8, 2)
    wait_until(lambda: query(db, "SELECT count(*) FROM votes")[0][0] == 2, "the stored votes")

    # The broken source keeps failing (and backing off); wait for a failure after the alert.
    wait_until(lambda: len(crawl_lines(first, BROKEN)) >= 3, f"3 failed fetches of {BROKEN}")

    kill_during_a_weibo_fetch(first, server)
    assert query(db, "PRAGMA integrity_check") == [("ok",)]
    digests_before = {c: len(sent_to(telegram, c)) for c in CHATS}

    # The restart continues the same timeline: after 09:30, within the grace period.
    second = ServiceProcess(config, clock_at=utc_now() + first.offset, env=env, replay=False)
    processes.append(second)
    second.wait_for_log(lambda m: m == f"digest day={DAY}: already delivered or recorded for "
                                       "every chat")
    second.wait_for_log(lambda m: m.startswith("crawl source=weibo fetched="))
    second.signal(signal.SIGTERM)
    assert second.wait(15) == 0

    assert {c: len(sent_to(telegram, c)) for c in CHATS} == digests_before
    assert {c: len(digest_messages(telegram, c)) for c in CHATS} == {c: 1 for c in CHATS}
    assert sorted(query(db, "SELECT chat_id, status FROM deliveries WHERE day = ?", (DAY,))) \
        == sorted((c, "sent") for c in CHATS)
    assert sorted(query(db, "SELECT user_id, value FROM votes")) == [(7, "up"), (8, "star")]
    assert query(db, "PRAGMA integrity_check") == [("ok",)]

    check_one_alert(telegram, server, [first, second])
    output = first.log_path.read_text(encoding="utf-8") + second.log_path.read_text("utf-8")
    assert telegram.token not in output
    assert "TOPICSCOUT_TEST_CRAWLER" not in output  # the real crawler, not the replay hook

    health = CliRunner().invoke(cli.main, ["sources", "--config", str(config)],
                                env={"COLUMNS": "200"})
    assert health.exit_code == 0, health.output
    row = next(line for line in health.output.splitlines() if f" {BROKEN} " in line)
    assert "backing off" in row or "failing" in row, row
    error = next(line for line in health.output.splitlines()
                 if line.startswith(f"{BROKEN} last error"))
    assert f"HTTP 500 from 127.0.0.1:{server.port}" in error, health.output
