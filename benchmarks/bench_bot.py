"""Vote latency: 1,000 button taps from 50 users through the real PTB bot and the fake Bot API.

Prints p50/p99 from the moment an update is queued at the fake server to the moment the bot's
answerCallbackQuery for it arrives there, the final tallies (asserted equal to the votes cast),
and, as the baseline measured in the same run, a bare HTTP round trip to the same server.

Run: .venv/bin/python benchmarks/bench_bot.py [--votes 1000] [--users 50]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.app import build_application, start_bot, stop_bot  # noqa: E402
from bot.handlers import send_digest  # noqa: E402
from tests.fakes.telegram_api import FakeTelegram  # noqa: E402
from topicscout import service  # noqa: E402
from topicscout.config import load_config  # noqa: E402
from topicscout.store import Store  # noqa: E402

CORPUS = ROOT / "tests" / "data" / "bot" / "corpus-2026-01-18_20.jsonl.gz"
DAY = datetime.fromisoformat("2026-01-20T09:30:00+08:00")
CHAT = -1001
CODES = {"up": "u", "down": "d", "star": "s"}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def make_app(tmp: Path, base_url: str) -> service.App:
    config_file = tmp / "config.toml"
    config_file.write_text(
        '[brand]\nname = "小智科技"\nkeywords = ["AI", "大模型", "手机"]\n'
        f'[storage]\npath = "{tmp / "bench.sqlite"}"\n'
        f'[telegram]\nchats = [{CHAT}]\nbase_url = "{base_url}"\n', encoding="utf-8")
    config = load_config(config_file)
    app = service.App(config=config, store=Store.open(config.db_path))
    service.import_files(app.store, [CORPUS])
    return app


async def baseline(tg: FakeTelegram, n: int = 300) -> list[float]:
    """Bare round trips (answerCallbackQuery) to the fake server: the floor for any bot."""
    url = f"{tg.base_url}{tg.token}/answerCallbackQuery"
    times = []
    async with httpx.AsyncClient() as client:
        for i in range(n):
            started = time.perf_counter()
            response = await client.post(url, data={"callback_query_id": f"base{i}"})
            response.raise_for_status()
            times.append(time.perf_counter() - started)
    return times


async def vote_run(app: service.App, tg: FakeTelegram, votes: int,
                   users: int) -> tuple[list[float], dict[tuple[int, int], str]]:
    application = build_application(app, tg.token, clock=lambda: DAY.astimezone(UTC))
    await start_bot(application, poll_timeout=10)
    try:
        digest = service.make_digest(app, DAY, kind="daily")
        messages = await send_digest(application.bot, app, CHAT, digest)
        where = {}  # idea id -> message id carrying its buttons
        for message_id in messages:
            for row in tg.messages[(CHAT, message_id)]["reply_markup"]["inline_keyboard"]:
                where[int(row[0]["callback_data"].split(":")[1])] = message_id
        rng = random.Random(7)
        expected: dict[tuple[int, int], str] = {}
        latencies = []
        for _ in range(votes):
            idea, user = rng.choice(digest.idea_ids), rng.randrange(1, users + 1)
            value = rng.choice(list(CODES))
            if expected.get((idea, user)) == value:
                del expected[(idea, user)]  # the same button again withdraws
            else:
                expected[(idea, user)] = value
            edits = len(tg.calls("editMessageReplyMarkup"))
            update_id = tg.tap(CHAT, where[idea], 1000 + user, f"v:{idea}:{CODES[value]}")
            answer = await tg.wait_answered(tg.update(update_id)["callback_query"]["id"])
            latencies.append(answer.at - tg.queued_at(update_id))
            await tg.wait_for(lambda _, e=edits: len(tg.calls("editMessageReplyMarkup")) > e)
        return latencies, expected
    finally:
        await stop_bot(application)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--votes", type=int, default=1000)
    parser.add_argument("--users", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-bot-") as tmp, FakeTelegram() as tg:
        app = make_app(Path(tmp), tg.base_url)
        started = time.perf_counter()
        latencies, expected = asyncio.run(vote_run(app, tg, args.votes, args.users))
        elapsed = time.perf_counter() - started
        floor = asyncio.run(baseline(tg))
        ideas = sorted({idea for idea, _ in expected} | set(app.store.idea_positions(
            list(range(1, 100)))))
        tallies = app.store.idea_tallies(ideas)
        want = {i: {v: sum(1 for (idea, _), held in expected.items() if idea == i and held == v)
                    for v in CODES} for i in ideas}
        app.close()
    ms = [x * 1000 for x in latencies]
    base_ms = [x * 1000 for x in floor]
    print(f"{args.votes} vote callbacks from {args.users} users in {elapsed:.1f} s "
          f"(digest + bot start included)")
    print(f"update -> answered callback: p50 {percentile(ms, 0.5):.1f} ms, "
          f"p99 {percentile(ms, 0.99):.1f} ms, max {max(ms):.1f} ms "
          f"(target p99 < 50 ms)")
    print(f"baseline, bare HTTP round trip to the fake server: p50 "
          f"{statistics.median(base_ms):.2f} ms, p99 {percentile(base_ms, 0.99):.2f} ms; "
          f"bot p50 / baseline p50 = {percentile(ms, 0.5) / statistics.median(base_ms):.1f}x")
    print("final tallies (idea id: 👍 👎 ⭐) vs votes cast:")
    for idea in ideas:
        t, w = tallies[idea], want[idea]
        mark = "ok" if t == w else "MISMATCH"
        print(f"  idea {idea:>3}: {t['up']:>3} {t['down']:>3} {t['star']:>3}   "
              f"expected {w['up']:>3} {w['down']:>3} {w['star']:>3}  {mark}")
    assert tallies == want, "tallies differ from the votes cast"
    print(f"tallies equal the votes cast: {sum(sum(t.values()) for t in tallies.values())} "
          f"votes held after {args.votes} taps (re-taps withdraw)")


if __name__ == "__main__":
    main()
