"""Crawl 200 loopback sources (feeds and hot lists, some slow) and compare the wall time with the
physical floor of a concurrent crawl: the slowest single response.

The recorded responses are served by the tests' fake server running in a *separate process*, so
its threads do not share our GIL. The crawl goes through ``service.crawl`` with a real SQLite
file, exactly as `topicscout crawl` does. Every source is on one host (127.0.0.1), so the
per-host limit is raised to the overall limit; everything else is the shipped default.

Run: .venv/bin/python benchmarks/bench_crawl.py [--sources 200]
Target: wall <= 2 x floor + 1 s, peak RSS < 200 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import resource
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakes.http_server import FakeServer, Route  # noqa: E402
from topicscout import service  # noqa: E402
from topicscout.config import Config, SourceConfig  # noqa: E402
from topicscout.store import Store  # noqa: E402
from topicscout.types import utc_now  # noqa: E402

DATA = ROOT / "tests" / "data" / "sources"
FEEDS = ["rss-parser__encoding-gb2312.xml", "yinan-c__ifanr.xml", "yinan-c__sspai.xml",
         "Bruce2012__sspai.xml", "rss-parser__guardian.rss", "rss-parser__gulp-atom.atom",
         "yinan-c__atom.xml", "rss-parser__uolNoticias.rss"]
HOTLISTS = ["weibo", "zhihu", "baidu", "bilibili", "douyin", "toutiao"]
SLOW_EVERY = 10  # every 10th source answers slowly
SLOWEST = 2.0  # seconds: the slowest response, i.e. the floor


def delay_of(index: int) -> float:
    """0 for most sources; 0.5 … 2.0 s for every SLOW_EVERY-th."""
    if index % SLOW_EVERY:
        return 0.0
    return 0.5 + (SLOWEST - 0.5) * ((index // SLOW_EVERY) % 4) / 3


def plan(count: int) -> list[tuple[str, str, str | None, Route]]:
    """(name, path, platform or None for a feed, route) for every source."""
    out = []
    for i in range(count):
        if i % 2:
            name = FEEDS[i // 2 % len(FEEDS)]
            route = Route(body=(DATA / "feeds" / name).read_bytes(), delay=delay_of(i),
                          content_type="application/rss+xml", etag=f'"f{i}"', gzip=i % 3 == 0)
            out.append((f"feed{i:03d}", f"/s/{i}", None, route))
        else:
            platform = HOTLISTS[i // 2 % len(HOTLISTS)]
            # Hot-list APIs rarely send validators: every crawl downloads them again.
            route = Route(body=(DATA / "hotlists" / f"{platform}.json").read_bytes(),
                          delay=delay_of(i), gzip=i % 3 == 0)
            out.append((f"{platform}{i:03d}", f"/s/{i}", platform, route))
    return out


def serve(count: int, conn: multiprocessing.connection.Connection) -> None:
    """Child process: serve the planned routes until the parent says stop."""
    with FakeServer() as server:
        for _, path, _, route in plan(count):
            server.add(path, route)
        conn.send(server.port)
        conn.recv()
        conn.send(len(server.requests))


@dataclass(frozen=True)
class Run:
    label: str
    report: service.CrawlReport
    requests: int  # HTTP requests made, retries included
    wall: float
    cpu: float


def bench_config(port: int, count: int, concurrency: int | None) -> Config:
    sources = tuple(
        SourceConfig(name=name, kind="hotlist" if platform else "rss", platform=platform,
                     url=f"http://127.0.0.1:{port}{path}")
        for name, path, platform, _ in plan(count))
    base = Config(sources=sources)
    # Every source is on 127.0.0.1: the per-host limit is raised to the overall one.
    limit = concurrency or base.crawl.concurrency
    return replace(base, crawl=replace(base.crawl, concurrency=limit, per_host=limit))


def crawl_once(app: service.App, label: str, now: datetime) -> Run:
    attempts: list[int] = []
    cpu0, started = time.process_time(), time.perf_counter()
    report = asyncio.run(service.crawl(app, now=now,
                                       on_result=lambda r: attempts.append(r.attempts)))
    return Run(label, report, sum(attempts), time.perf_counter() - started,
               time.process_time() - cpu0)


def print_run(run: Run, floor: float) -> None:
    failed = run.report.failed
    fetched = len(run.report.outcomes)
    not_modified = sum(o.status == "not modified" for o in run.report.outcomes)
    print(f"{run.label}: {fetched - len(failed)} ok ({not_modified} not modified), "
          f"{len(failed)} failed, {run.report.items_new:,} new items")
    print(f"    wall {run.wall:.2f} s = {run.wall / floor:.2f} x floor "
          f"-> {'MET' if run.wall <= 2 * floor + 1 else 'MISSED'};  "
          f"{run.requests / run.wall:,.0f} requests/s ({run.requests} requests);  "
          f"CPU {run.cpu:.2f} s")
    for outcome in failed[:3]:
        print(f"    failed: {outcome.name}: {outcome.error}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sources", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=None,
                        help="override [crawl] concurrency (default: the shipped default)")
    args = parser.parse_args()
    parent, child = multiprocessing.Pipe()
    server = multiprocessing.get_context("fork").Process(target=serve,
                                                         args=(args.sources, child))
    server.start()
    config = bench_config(parent.recv(), args.sources, args.concurrency)
    with tempfile.TemporaryDirectory() as tmp:
        app = service.App(config=config, store=Store.open(Path(tmp) / "bench.sqlite"))
        # The second crawl happens an hour later (all due again), starting slowest-first.
        first = utc_now()
        runs = [crawl_once(app, "first crawl (cold)", first),
                crawl_once(app, "second crawl (warm)", first + timedelta(hours=1))]
        stored = app.store.counts()
        app.close()
    parent.send("stop")
    requests = parent.recv()
    server.join()
    floor = max(delay_of(i) for i in range(args.sources))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    slow = len([i for i in range(args.sources) if delay_of(i)])
    print(f"sources     {args.sources} ({args.sources // 2} feeds with ETags, "
          f"{args.sources - args.sources // 2} hot lists without, {slow} slow: "
          f"0.5-{SLOWEST} s)")
    print(f"limits      {config.crawl.concurrency} requests in flight (all on one host)")
    print(f"floor       {floor:.2f} s (slowest single response); target wall <= 2 x floor + 1 s "
          f"= {2 * floor + 1:.2f} s")
    for run in runs:
        print_run(run, floor)
    print(f"server saw  {requests} requests over both crawls; stored {stored['items']:,} items, "
          f"{stored['snapshots']:,} snapshots")
    print(f"peak RSS    {peak_mb:.0f} MB (whole process, incl. what the service imports) -> "
          f"{'MET' if peak_mb < 200 else 'MISSED'} (< 200 MB)")


if __name__ == "__main__":
    main()
