"""Speed of the trends pipeline on 30 days of the 2026-01 corpus (5 lists, ~20 snapshots a day).

Prints, with the floor of tokenizing every distinct title once (a fresh jieba tokenizer):
- `topicscout trends --as-of` end to end (a new process, the database already imported),
  target < 2 s: the first run tokenizes the titles and stores their tokens, later runs load
  them (jieba's dictionary is then never loaded); and the same analysis in-process;
- `replay` of 30 daily digests at 09:30 into a fresh database, target < 60 s.

Usage: python benchmarks/bench_trends_speed.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from topicscout import service  # noqa: E402
from topicscout.config import Config  # noqa: E402
from topicscout.snapshots import read_snapshot_file  # noqa: E402
from topicscout.store import Store  # noqa: E402
from trends.text import Tokenizer  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "2026-01"
AS_OF = "2026-02-13T09:30:00+08:00"
FIRST_DIGEST = datetime.fromisoformat("2026-01-15T09:30:00+08:00")
DIGESTS = 30


def timed(label: str, func, *args):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    result = func(*args)
    elapsed = time.perf_counter() - started
    print(f"{label:<58}{elapsed:>8.2f} s")
    return result, elapsed


def tokenize_floor(files: list[Path]) -> float:
    bad: list[object] = []
    titles = {it.title for path in files for it in read_snapshot_file(path, bad)}  # type: ignore[arg-type]
    tokenizer = Tokenizer()
    _, elapsed = timed(f"floor: tokenize {len(titles):,} distinct titles once",
                       lambda: [tokenizer.tokens(t) for t in titles])
    return elapsed


def trends_cli(db: Path, workdir: Path) -> None:
    subprocess.run([str(ROOT / ".venv" / "bin" / "topicscout"), "trends", "--as-of", AS_OF,
                    "--db", str(db), "--json"], cwd=workdir, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def replay(files: list[Path], db: Path) -> int:
    app = service.App(config=Config(), store=Store.open(db))
    steps = [FIRST_DIGEST + timedelta(days=n) for n in range(DIGESTS)]
    count = sum(1 for _ in service.replay(app, files, steps, []))
    app.close()
    return count


def main() -> int:
    if not CORPUS.is_dir():
        print(f"skipped: no corpus at {CORPUS} (benchmarks read ../shared/corpus)")
        return 0
    files = sorted(CORPUS.glob("*.jsonl"))
    floor = tokenize_floor(files)
    with tempfile.TemporaryDirectory(prefix="topicscout-bench-") as tmp:
        db = Path(tmp) / "bench.sqlite"
        store = Store.open(db)
        timed("import 30 days (5 lists)", service.import_files, store, files)
        store.close()
        _, first = timed("`topicscout trends --as-of`, first run (tokenizes, stores)",
                         trends_cli, db, Path(tmp))
        _, cli = timed("`topicscout trends --as-of`, again (new process)", trends_cli, db,
                       Path(tmp))
        app = service.App(config=Config(), store=Store.open(db))
        moment = datetime.fromisoformat(AS_OF)
        service.analyze_at(app, moment - timedelta(hours=1))  # warm the tokenizer
        _, warm = timed("trends as of, in-process, tokenizer warm", service.analyze_at, app,
                        moment)
        app.close()
        count, rep = timed(f"replay of {DIGESTS} daily digests (fresh database)", replay, files,
                           Path(tmp) / "replay.sqlite")
    print(f"\ntrends --as-of: {cli:.2f} s (target < 2 s: {'met' if cli < 2 else 'MISSED'}), "
          f"{cli / floor:.1f}× the tokenizing floor; first run on a new database {first:.2f} s; "
          f"in-process {warm:.2f} s")
    print(f"replay: {count} digests in {rep:.1f} s (target < 60 s: "
          f"{'met' if rep < 60 else 'MISSED'}), {rep / max(count, 1):.2f} s a digest, "
          f"{rep / floor:.1f}× the tokenizing floor")
    return 0


if __name__ == "__main__":
    sys.exit(main())
