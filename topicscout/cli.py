"""The `topicscout` command line: thin click commands over topicscout.service.

User errors (bad config, bad arguments, unreadable files) print one clear message and exit 2;
no traceback. Bugs still raise, so they get fixed instead of hidden.
"""

from __future__ import annotations

import functools
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape

from topicscout import service
from topicscout.config import Config, load_config
from topicscout.errors import ConfigError, InputError, TopicscoutError
from topicscout.store import Store
from topicscout.timeutil import parse_clock, parse_duration, parse_moment
from topicscout.types import utc_now

DEFAULT_CONFIG = "config.toml"
console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)


def _fail(message: str, code: int = 2) -> None:
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    sys.exit(code)


def handle_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ConfigError as e:
            err_console.print(f"[bold red]error:[/] {escape(str(e.path or 'config'))}: "
                              f"{len(e.problems)} problem(s)", highlight=False)
            for line in e.problems:
                err_console.print(f"  {escape(line)}", highlight=False, soft_wrap=True)
            sys.exit(2)
        except InputError as e:
            _fail(str(e), 2)
        except TopicscoutError as e:
            _fail(str(e), 1)
    return wrapper


def common_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path),
                        help="Database file (overrides [storage] path).")(func)
    func = click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
                        envvar="TOPICSCOUT_CONFIG", default=None,
                        help="Config file (default ./config.toml or $TOPICSCOUT_CONFIG).",
                        )(func)
    return handle_errors(func)


def load(config_path: Path | None) -> Config:
    """The given config; without one, ./config.toml, or built-in defaults if that is absent."""
    if config_path is not None:
        return load_config(config_path)
    default = Path(DEFAULT_CONFIG)
    if default.exists():
        return load_config(default)
    err_console.print(f"[dim]no {DEFAULT_CONFIG} here: using built-in defaults "
                      "(`topicscout init` writes one)[/]")
    return Config()


def open_app(config_path: Path | None, db_path: Path | None) -> service.App:
    config = load(config_path)
    return service.App(config=config, store=Store.open(db_path or config.db_path))


def _as_of(app: service.App, text: str | None) -> datetime:
    return parse_moment(text, what="--as-of") if text else service.latest_moment(app, utc_now())


def _echo_json(obj: dict[str, Any]) -> None:
    """One JSON object on one line of stdout (DESIGN.md's --json shape), Chinese as is."""
    click.echo(json.dumps(obj, ensure_ascii=False))


def _print_skipped(bad: Sequence[Any], shown: int = 20) -> None:
    """The first ``shown`` bad snapshot lines (file:line and why), then how many more."""
    for line in bad[:shown]:
        err_console.print(f"[yellow]skipped[/] {escape(str(line))}", highlight=False)
    if len(bad) > shown:
        err_console.print(f"[yellow]… and {len(bad) - shown} more bad lines[/]")


def _duration(text: str, what: str) -> timedelta:
    try:
        return parse_duration(text)
    except ValueError as e:
        raise InputError(f"{what}: {e}") from e


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="topicscout")
def main() -> None:
    """topicscout: what should we post about today?

    Watches hot lists and feeds, finds the stories rising now that matter to your brand, and
    runs the daily digest -> votes -> shortlist loop in your team's Telegram chat.
    """


@main.command()
@common_options
def init(config_path: Path | None, db_path: Path | None) -> None:
    """Write config.toml from the example (if absent) and create the database."""
    target = config_path or Path(DEFAULT_CONFIG)
    if target.exists():
        console.print(f"{target} exists; left as it is")
    else:
        example = resources.files("topicscout").joinpath("data/config.example.toml")
        target.write_text(example.read_text(encoding="utf-8"), encoding="utf-8")
        console.print(f"wrote {target}: edit [brand] and [[sources]], then run `topicscout crawl`",
                      markup=False)
    config = load_config(target)
    store = Store.open(db_path or config.db_path)
    console.print(f"database ready: {store.path}")
    store.close()


@main.command("import")
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@common_options
def import_(files: tuple[Path, ...], config_path: Path | None, db_path: Path | None) -> None:
    """Ingest snapshot lines (JSON Lines, plain or .gz) with their original timestamps.

    Idempotent: importing the same file twice adds nothing. Bad lines are reported with
    file:line and skipped.
    """
    app = open_app(config_path, db_path)
    started = time.perf_counter()
    with console.status("importing…") as status:
        report = service.import_files(
            app.store, list(files),
            on_progress=lambda path, n: status.update(f"importing {path.name}: {n:,} lines"))
    elapsed = time.perf_counter() - started
    _print_skipped(report.bad)
    console.print(f"{report.files} file(s), {report.lines:,} lines read in {elapsed:.1f} s "
                  f"({report.lines / max(elapsed, 1e-9):,.0f} lines/s): "
                  f"{report.items_new:,} new items, {report.snapshots_new:,} new snapshots, "
                  f"{len(report.bad)} bad lines")
    app.close()


@main.command()
@click.option("--as-of", "as_of", help="ISO 8601 moment; default: now (or the data's end).")
@click.option("--window", default="24h", show_default=True, help="How far back to look.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 500))
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
@common_options
def trends(as_of: str | None, window: str, limit: int, as_json: bool,
           config_path: Path | None, db_path: Path | None) -> None:
    """Rising topics as of a moment (only data seen at or before it)."""
    app = open_app(config_path, db_path)
    moment = _as_of(app, as_of)
    analysis = service.analyze_at(app, moment, window=_duration(window, "--window"), limit=limit)
    tz = app.config.digest.tz
    if as_json:
        _echo_json(service.analysis_to_json(analysis, limit, tz))
    else:
        from topicscout.terminal import render_topics
        render_topics(console, list(analysis.topics[:limit]), tz,
                      f"Rising as of {moment.astimezone(tz):%Y-%m-%d %H:%M %Z}")
    app.close()


@main.command()
@click.option("--as-of", "as_of", help="ISO 8601 moment; default: now (or the data's end).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
@click.option("--send", is_flag=True, help="Send it to the configured chats.")
@click.option("--last-daily", is_flag=True,
              help="Show the last daily digest `topicscout run` made, as it was made.")
@common_options
def digest(as_of: str | None, as_json: bool, send: bool, last_daily: bool,
           config_path: Path | None, db_path: Path | None) -> None:
    """The digest as of a moment: print it, or send it to the configured chats."""
    app = open_app(config_path, db_path)
    token, chats = _send_target(app) if send else (None, [])
    result = (_last_daily(app) if last_daily
              else service.make_digest(app, _as_of(app, as_of)))
    tz = app.config.digest.tz
    if token is not None:
        _send(app, token, chats, result)
        app.close()
        return
    if as_json:
        _echo_json(service.digest_to_json(result, tz))
    else:
        from topicscout.terminal import render_digest
        render_digest(console, result, tz)
    app.close()


def _send_target(app: service.App) -> tuple[str, list[int]]:
    """The token and the chats for --send, or a clear error saying what is missing."""
    tg = app.config.telegram
    if tg is None:
        raise InputError("digest --send: the config has no [telegram] section")
    token = tg.token()
    if token is None:
        raise InputError(f"digest --send: the environment variable {tg.token_env} "
                         "(the bot token) is not set")
    chats = service.subscribed_chats(app)
    if not chats:
        raise InputError("digest --send: no chat to send to ([telegram] chats is empty, "
                         "or every chat said /unsubscribe)")
    return token, chats


def _send(app: service.App, token: str, chats: list[int], result: service.Digest) -> None:
    import asyncio

    from bot.app import send_to_chats

    outcome = asyncio.run(send_to_chats(app, token, chats, result))
    for chat_id, sent in outcome.items():
        if isinstance(sent, list):
            console.print(f"chat {chat_id}: sent in {len(sent)} message(s)")
        else:
            err_console.print(f"[red]chat {chat_id}: not sent[/]: {escape(str(sent))}",
                              highlight=False)
    if not any(isinstance(sent, list) for sent in outcome.values()):
        _fail("the digest reached no chat", 1)


def _last_daily(app: service.App) -> service.Digest:
    row = app.store.latest_digest(kind="daily")
    if row is None:
        raise InputError("--last-daily: no daily digest yet (`topicscout run` makes them)")
    return service.load_digest(app, int(row["id"]))


def _replay_steps(config: Config, start: str, end: str, every: str,
                  at: str | None) -> list[datetime]:
    first, last = parse_moment(start, what="--from"), parse_moment(end, what="--to")
    if last < first:
        raise InputError("--to is before --from")
    if at:
        try:
            clock = parse_clock(at)
        except ValueError as e:
            raise InputError(f"--at: {e}") from e
        local = first.astimezone(config.digest.tz)
        anchored = local.replace(hour=clock.hour, minute=clock.minute, second=0, microsecond=0)
        first = anchored if anchored >= local else anchored + timedelta(days=1)
    return service.replay_steps(first, last, _duration(every, "--every"))


@main.command()
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--from", "start", required=True, help="First step (ISO 8601).")
@click.option("--to", "end", required=True, help="Last step (ISO 8601).")
@click.option("--every", default="24h", show_default=True, help="Time between digests.")
@click.option("--at", "at", help="Local time of day of each digest (HH:MM, digest timezone).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per digest.")
@common_options
def replay(files: tuple[Path, ...], start: str, end: str, every: str, at: str | None,
           as_json: bool, config_path: Path | None, db_path: Path | None) -> None:
    """Import snapshot lines in time order, emitting the digest at each step.

    The offline evaluation loop: each digest sees only what a live crawler would have had.
    """
    app = open_app(config_path, db_path)
    _run_replay(app, list(files), _replay_steps(app.config, start, end, every, at), as_json)
    app.close()


def _run_replay(app: service.App, files: list[Path], steps: list[datetime],
                as_json: bool) -> None:
    from topicscout.terminal import render_digest
    tz = app.config.digest.tz
    bad: list[Any] = []
    for result, _ in service.replay(app, files, steps, bad):
        if as_json:
            _echo_json(service.digest_to_json(result, tz))
        else:
            render_digest(console, result, tz)
    _print_skipped(bad)


@main.command()
@click.option("--days", default=3, show_default=True, type=click.IntRange(1, 4),
              help="How many mornings to show.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per digest.")
def demo(days: int, as_json: bool) -> None:
    """Offline: replay bundled real hot-list snapshots (2026-02-08 … 02-13) and print the
    digest a team would have received each morning at 09:30. No token, no network."""
    example = resources.files("topicscout").joinpath("data/config.example.toml")
    with tempfile.TemporaryDirectory(prefix="topicscout-demo-") as tmp:
        config_file = Path(tmp) / "config.toml"
        config_file.write_text(example.read_text(encoding="utf-8"), encoding="utf-8")
        config = load_config(config_file)
        app = service.App(config=config, store=Store.open(Path(tmp) / "demo.sqlite"))
        data = resources.files("topicscout").joinpath("data/demo")
        files = []
        for entry in sorted(data.iterdir(), key=lambda e: e.name):
            target = Path(tmp) / entry.name
            with entry.open("rb") as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst)
            files.append(target)
        last = datetime.fromisoformat("2026-02-13T09:30:00+08:00")
        steps = [last - timedelta(days=n) for n in reversed(range(days))]
        if not as_json:
            console.print(f"[bold]topicscout demo[/]: real hot-list snapshots from weibo, baidu, "
                          f"zhihu, 36kr and bilibili, replayed for the brand "
                          f"“{config.brand.name}” (keywords: {', '.join(config.brand.keywords)})")
        _run_replay(app, files, steps, as_json)
        app.close()


@main.command()
@click.option("--source", "only", metavar="NAME",
              help="Only this source (fetched even if it is not due yet).")
@common_options
def crawl(only: str | None, config_path: Path | None, db_path: Path | None) -> None:
    """Fetch every due source once (progress bar and summary table).

    Exit status 0 unless every fetched source failed (1); a bad --source is an error (2).
    """
    import asyncio

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from topicscout.sources_view import render_crawl
    from topicscout.types import utc_now

    app = open_app(config_path, db_path)
    if not app.config.sources:
        raise InputError("no [[sources]] in the config: nothing to crawl")
    now = utc_now()
    due, _ = service.sources_to_crawl(app, now, only)
    columns = (TextColumn("crawling"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.description}"))
    with Progress(*columns, console=err_console, transient=True) as progress:
        task = progress.add_task("", total=len(due))
        report = asyncio.run(service.crawl(
            app, now=now, only=only,
            on_result=lambda r: progress.update(task, advance=1, description=r.source)))
    app.close()
    if not report.outcomes:
        console.print(f"nothing due: {len(report.not_due)} source(s) wait for their interval "
                      "(`topicscout sources` shows when)")
        return
    render_crawl(console, report)
    if report.all_failed:
        sys.exit(1)


@main.command("sources")
@common_options
def sources_(config_path: Path | None, db_path: Path | None) -> None:
    """Health table: last success, last error, items, consecutive failures, next due."""
    from topicscout.sources_view import render_health

    app = open_app(config_path, db_path)
    render_health(console, service.source_health(app), app.config.digest.tz)
    app.close()



@main.command("run")
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="json: one object per line, for log collectors.")
@click.option("--log-level", type=click.Choice(["debug", "info", "warning"]), default="info",
              show_default=True)
@common_options
def run_(log_format: str, log_level: str, config_path: Path | None,
        db_path: Path | None) -> None:
    """The service: scheduled crawling, analysis, the daily digest, retention, and the bot.

    Runs until SIGINT / SIGTERM. Without a bot token it still crawls and analyses, and writes
    each daily digest to the log and the database (`topicscout digest` shows it).
    """
    from topicscout import run
    config = load(config_path)
    token = config.telegram.token() if config.telegram else None
    run.configure_logging(log_format, log_level, secrets=[token] if token else [])
    run.run(service.App(config=config, store=Store.open(db_path or config.db_path)))


@main.command("export")
@click.option("--since", help="ISO 8601; default: 7 days before now (or the newest digest).")
@click.option("--format", "fmt", type=click.Choice(["csv", "md"]), default="csv",
              show_default=True, help="csv (UTF-8 with BOM, for Excel) or md (Markdown).")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path),
              help="File to write; default: standard output.")
@common_options
def export_(since: str | None, fmt: str, output: Path | None, config_path: Path | None,
            db_path: Path | None) -> None:
    """The shortlist: voted ideas ranked by 👍 − 👎 (⭐ breaks ties), with evidence and links."""
    from topicscout import export

    app = open_app(config_path, db_path)
    start = (parse_moment(since, what="--since") if since
             else service.default_since(app, utc_now()))
    entries = service.shortlist(app, start)
    tz = app.config.digest.tz
    title = f"{app.brand().name} shortlist since {start.astimezone(tz):%Y-%m-%d %H:%M}"
    data = export.render(entries, fmt, tz, title)
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        try:
            output.write_bytes(data)
        except OSError as e:
            raise InputError(f"--output {output}: cannot write: {e.strerror or e}") from e
        err_console.print(f"wrote {len(entries)} idea(s) to {output}")
    app.close()

