"""The real `topicscout run` as a subprocess: one daily digest, SIGKILL mid-crawl, restart,
no duplicate, no lost vote, integrity ok; and SIGTERM stops it cleanly within 10 s.

Without the bot (no [telegram]) the digest goes to the log and the database. Sources are the
replay fake through the test-only TOPICSCOUT_TEST_CRAWLER hook, and the service clock is moved
to an archived morning with TOPICSCOUT_CLOCK_OFFSET, so nothing waits for a real 09:30.
"""

from __future__ import annotations

import re
import signal
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.service.conftest import REPLAY, ServiceProcess, query, write_config
from topicscout.snapshots import BadLine, read_snapshot_file
from topicscout.store import Store

MORNING = datetime.fromisoformat("2026-01-20T09:29:52+08:00")
EVENING = datetime.fromisoformat("2026-01-20T20:00:00+08:00")


def archived_snapshots(until: datetime) -> int:
    bad: list[BadLine] = []
    return len({(item.id, item.seen_at) for path in sorted(REPLAY.glob("*.jsonl.gz"))
                for item in read_snapshot_file(path, bad) if item.seen_at <= until})


def daily_digests(db: Path) -> list[tuple[int, int]]:
    return query(db, "SELECT id, as_of FROM digests WHERE kind = 'daily'")


def is_big_crawl_start(message: str) -> bool:
    match = re.match(r"replay crawl source=\w+ started: (\d+) items", message)
    return bool(match) and int(match.group(1)) > 300


def test_run_digests_once_survives_sigkill_mid_crawl_and_never_duplicates(
        tmp_path: Path, processes: list[ServiceProcess]) -> None:
    config = write_config(tmp_path)
    db = tmp_path / "run.sqlite"

    first = ServiceProcess(config, clock_at=MORNING)
    processes.append(first)
    first.wait_for_log(lambda m: m.startswith("digest day=2026-01-20") and "sent=1" in m)
    digests = daily_digests(db)
    assert len(digests) == 1
    assert digests[0][1] == int(MORNING.replace(minute=30, second=0).timestamp())
    assert any(r["msg"].startswith("digest #1 ") for r in first.records())
    first.signal(signal.SIGKILL)
    first.wait(10)

    # A vote cast on the digest (the bot would do this) must survive what follows.
    store = Store.open(db)
    idea = store.digest_ideas(digests[0][0])[0]
    store.set_vote(idea["id"], 7, "ops", "up", EVENING)
    store.close()

    # Evening: the restart's first crawls ingest ~10 h of archive, slowly; kill it mid-way.
    second = ServiceProcess(config, clock_at=EVENING, replay_pause=0.3)
    processes.append(second)
    second.wait_for_log(is_big_crawl_start)
    time.sleep(0.5)
    second.signal(signal.SIGKILL)
    second.wait(10)
    finished = [r["msg"] for r in second.records() if "finished" in r["msg"]]
    assert len(finished) < 3, "the kill was meant to land during a crawl"
    assert query(db, "PRAGMA integrity_check") == [("ok",)]

    third = ServiceProcess(config, clock_at=EVENING)
    processes.append(third)
    for source in ("weibo", "baidu", "zhihu"):
        third.wait_for_log(lambda m, s=source: m == f"replay crawl source={s} finished")
    third.signal(signal.SIGTERM)
    assert third.wait(10) == 0

    assert daily_digests(db) == digests
    assert query(db, "SELECT chat_id, day, status FROM deliveries WHERE day = '2026-01-20'") \
        == [(0, "2026-01-20", "sent")]
    assert query(db, "SELECT value FROM votes") == [("up",)]
    stored = query(db, "SELECT count(*) FROM snapshots WHERE seen_at <= ?",
                   (int(EVENING.timestamp()),))[0][0]
    assert stored == archived_snapshots(EVENING)  # the crawl carried on; nothing lost
    assert query(db, "PRAGMA integrity_check") == [("ok",)]


def test_sigterm_during_a_crawl_stops_cleanly_within_ten_seconds(
        tmp_path: Path, processes: list[ServiceProcess]) -> None:
    config = write_config(tmp_path)
    proc = ServiceProcess(config, clock_at=EVENING, replay_pause=0.3)
    processes.append(proc)
    proc.wait_for_log(is_big_crawl_start)
    started = time.monotonic()
    proc.signal(signal.SIGTERM)
    code = proc.wait(10)
    elapsed = time.monotonic() - started
    assert code == 0
    assert elapsed < 10
    messages = [r["msg"] for r in proc.records()]
    assert any(m.startswith("stopped") for m in messages), messages[-5:]
    assert query(tmp_path / "run.sqlite", "PRAGMA integrity_check") == [("ok",)]


def test_startup_prints_sources_chats_and_the_next_digest_time(
        tmp_path: Path, processes: list[ServiceProcess]) -> None:
    proc = ServiceProcess(write_config(tmp_path), clock_at=MORNING)
    processes.append(proc)
    proc.wait_for_log(lambda m: m.startswith("service started"))
    proc.signal(signal.SIGINT)
    assert proc.wait(10) == 0
    messages = [r["msg"] for r in proc.records()]
    assert "sources: 3 enabled: weibo every 5s, baidu every 5s, zhihu every 5s" in messages
    assert any(m.startswith("bot: off (no [telegram] section)") for m in messages)
    next_digest = next(m for m in messages if m.startswith("next digest:"))
    assert "2026-01-20T09:30:00+08:00 (in 0h00m)" in next_digest
    # Every line is JSON with a timestamp and a level (the runner parses them).
    assert all(r.get("level") in ("info", "warning") for r in proc.records())
    assert all(datetime.fromisoformat(r["ts"]).tzinfo == UTC for r in proc.records())
    assert timedelta(0) < datetime.now(UTC) - datetime.fromisoformat(
        proc.records()[0]["ts"]) < timedelta(minutes=2)


def test_the_token_never_appears_in_the_output(tmp_path: Path,
                                               processes: list[ServiceProcess]) -> None:
    token = "987654:AAH-e2e-secret-token"
    # A Bot API address where nothing listens: whether or not this build has the bot, the
    # run either starts without it or fails to start it; neither may print the token.
    config = write_config(tmp_path, chats=(-1001,), base_url="http://127.0.0.1:9/bot")
    proc = ServiceProcess(config, clock_at=MORNING, env={"TOPICSCOUT_TEST_TOKEN": token})
    processes.append(proc)
    deadline = time.monotonic() + 60
    while proc.proc.poll() is None and time.monotonic() < deadline:
        if any(r["msg"].startswith("service started") for r in proc.records()):
            proc.signal(signal.SIGTERM)
            break
        time.sleep(0.05)
    proc.wait(15)
    output = proc.log_path.read_text(encoding="utf-8")
    assert output.strip()
    assert token not in output
