"""30 simulated days of `topicscout run`: digests per chat, DB size with retention on vs off,
peak memory.

The service's own job table (crawl jobs per source with jitter, the digest trigger, analysis,
retention) runs on a simulated clock (schedule.simulate: the same triggers APScheduler uses);
"crawling" replays ../shared/corpus/2026-01/ through the replay crawler, which hands each job
the archived lines seen since its last run. Two runs on fresh databases: retention 7d (on) and
retention off (the baseline: the same crawl jobs; its digest jobs are skipped unless
--full-baseline, to stay under 2 minutes: digest rows are under 1% of the file).

    .venv/bin/python benchmarks/bench_service.py [--days 30] [--analysis-every 12h]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import resource
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakes.replay_crawler import ReplayCrawler  # noqa: E402
from topicscout import service  # noqa: E402
from topicscout.config import parse_config  # noqa: E402
from topicscout.jobs import Service  # noqa: E402
from topicscout.schedule import job_table, simulate  # noqa: E402
from topicscout.store import Store  # noqa: E402
from topicscout.timeutil import parse_duration  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "2026-01"
PLATFORMS = ("weibo", "baidu", "zhihu", "36kr", "bilibili")
CHATS = (-1001, -1002)
START = datetime.fromisoformat("2026-01-15T00:00:00+08:00").astimezone(UTC)


@dataclass
class CountingSender:
    """Counts digests per chat; the Telegram side is measured in the bot's own benchmark."""

    per_chat: dict[int, int] = field(default_factory=dict)
    alerts: int = 0
    to_chats: bool = True

    async def send_digest(self, chat_id: int, digest: service.Digest) -> list[int]:
        self.per_chat[chat_id] = self.per_chat.get(chat_id, 0) + 1
        return []

    async def send_alert(self, text: str) -> None:
        self.alerts += 1


@dataclass
class Outcome:
    per_chat: dict[int, int]
    runs: int
    seconds: float
    file_bytes: int
    live_bytes: int
    snapshots: int


def make_config(db: Path, retention: str | None) -> Any:
    return parse_config({
        "brand": {"name": "小智科技", "keywords": ["AI", "大模型", "手机"],
                  "related": ["机器人", "芯片", "DeepSeek", "豆包"]},
        "digest": {"time": "09:30", "timezone": "Asia/Shanghai"},
        "telegram": {"chats": list(CHATS)},
        "storage": {"path": str(db), "retention": retention or "3650d"},
        "sources": [{"name": p, "kind": "hotlist", "platform": p, "every": "30m"}
                    for p in PLATFORMS]})


async def simulate_run(db: Path, retention: str | None, days: int,
                       analysis_every: timedelta, digests: bool = True) -> Outcome:
    config = make_config(db, retention)
    app = service.App(config=config, store=Store.open(db))
    sender = CountingSender()
    clock = {"now": START}
    jobs = Service(app, crawler=ReplayCrawler(CORPUS, batch=5000), sender=sender,
                   clock=lambda: clock["now"])
    specs = [s for s in job_table(jobs, START, analysis_every=analysis_every)
             if digests or s.id != "digest"]
    started = time.perf_counter()
    runs = await simulate(specs, START, START + timedelta(days=days) - timedelta(seconds=1),
                          lambda moment: clock.update(now=moment))
    seconds = time.perf_counter() - started
    jobs.close()
    app.store.checkpoint()
    page_size, pages, free = (app.store.db.execute(f"PRAGMA {p}").fetchone()[0]
                              for p in ("page_size", "page_count", "freelist_count"))
    snapshots = app.store.counts()["snapshots"]
    app.close()
    size = sum(f.stat().st_size for f in db.parent.glob(db.name + "*"))
    return Outcome(sender.per_chat, runs, seconds, size, page_size * (pages - free), snapshots)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--retention", default="7d")
    parser.add_argument("--analysis-every", default="off",
                        help="e.g. 6h; the service runs it every 5m after new data, ~1 s of "
                             "CPU each: off keeps the benchmark under 2 minutes (each digest "
                             "runs the same analysis anyway)")
    parser.add_argument("--full-baseline", dest="fast_baseline", action="store_false",
                        help="also make the 30 digests in the retention-off run (their rows "
                             "are under 1%% of the file; doubles the run time)")
    args = parser.parse_args()
    if not CORPUS.is_dir():
        print(f"SKIPPED: corpus not found at {CORPUS} (needs ../shared beside the repo)")
        return 0
    random.seed(6)  # crawl jitter: the same run times every time the benchmark runs
    logging.basicConfig(level=logging.ERROR)  # the first slot (before START) is "skipped"
    every = (timedelta(days=3650) if args.analysis_every == "off"
             else parse_duration(args.analysis_every))
    print(f"simulating {args.days} days from {START.isoformat()}: {len(PLATFORMS)} sources "
          f"every 30m, digest 09:30 Asia/Shanghai to {len(CHATS)} chats, analysis every "
          f"{args.analysis_every}")
    results = {}
    runs = (("on", args.retention, True), ("off", None, not args.fast_baseline))
    with tempfile.TemporaryDirectory(prefix="bench-service-") as tmp:
        for label, retention, digests in runs:
            outcome = asyncio.run(simulate_run(Path(tmp) / f"{label}.sqlite", retention,
                                               args.days, every, digests))
            results[label] = outcome
            print(f"retention {label:3} ({retention or 'none'}): {outcome.runs} job runs in "
                  f"{outcome.seconds:.1f} s; digests per chat {outcome.per_chat or '(skipped)'}; "
                  f"snapshots kept {outcome.snapshots:,}; db file {outcome.file_bytes / 1e6:.1f} "
                  f"MB (live data {outcome.live_bytes / 1e6:.1f} MB)")
    on, off = results["on"], results["off"]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"db size retention on / off: file {on.file_bytes / off.file_bytes:.2f}x, "
          f"live data {on.live_bytes / off.live_bytes:.2f}x")
    print(f"peak RSS: {peak_mb:.0f} MB (target < 300 MB)")
    checked = [r for r in results.values() if r.per_chat]
    ok = all(sorted(r.per_chat.values()) == [args.days] * len(CHATS) for r in checked)
    print(f"digests: {'OK' if ok else 'WRONG'}: expected {args.days} per chat "
          f"({len(checked)} run(s) with digests)")
    return 0 if ok and peak_mb < 300 else 1


if __name__ == "__main__":
    sys.exit(main())
