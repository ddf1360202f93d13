from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from tests.conftest import DEMO
from topicscout.cli import main

IDEA_KEYS = {"title", "terms", "score", "platforms", "first_seen", "relevance", "safety", "items"}
ITEM_KEYS = {"platform", "title", "url", "rank", "heat", "seen_at"}
DESIGN_COMMANDS = {"init", "crawl", "sources", "import", "trends", "digest", "replay", "run",
                   "export", "demo"}


def test_every_design_command_exists() -> None:
    assert isinstance(main, click.Group)
    assert set(main.commands) >= DESIGN_COMMANDS


@pytest.mark.parametrize("name", sorted(DESIGN_COMMANDS))
def test_every_command_has_help(name: str) -> None:
    result = CliRunner().invoke(main, [name, "--help"])
    assert result.exit_code == 0
    assert f" {name} [OPTIONS]" in result.output
    if name != "demo":  # demo is self-contained: it uses no config and no database of yours
        assert "--config" in result.output and "--db" in result.output


def _demo_titles() -> set[str]:
    titles = set()
    for path in DEMO.glob("*.jsonl.gz"):
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            titles.update(json.loads(line)["title"] for line in handle)
    return titles


def _replay_demo(tmp_path: Path, *options: str) -> list[dict[str, Any]]:
    """`topicscout replay --json` over the bundled demo days; one dict per digest."""
    files = [str(p) for p in sorted(DEMO.glob("*.jsonl.gz"))]
    result = CliRunner().invoke(main, ["replay", *files, *options, "--json", "--db",
                                       str(tmp_path / "r.sqlite")])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def test_replay_json_emits_one_digest_per_step_in_the_design_shape(tmp_path: Path) -> None:
    digests = _replay_demo(tmp_path, "--from", "2026-02-11T00:00:00+08:00",
                           "--to", "2026-02-12T12:00:00+08:00", "--at", "09:30")
    assert [d["as_of"] for d in digests] == ["2026-02-11T09:30:00+08:00",
                                            "2026-02-12T09:30:00+08:00"]
    titles = _demo_titles()
    for digest in digests:
        assert 5 <= len(digest["ideas"]) <= 12
        for idea in digest["ideas"]:
            assert set(idea) >= IDEA_KEYS
            assert idea["title"] in titles  # real stories from the data, not invented text
            assert all(set(item) >= ITEM_KEYS for item in idea["items"])
            assert all(item["seen_at"] <= digest["as_of"] for item in idea["items"])


def test_a_daily_digest_does_not_repeat_the_previous_ones_ideas_without_new_momentum(
        tmp_path: Path) -> None:
    first, second = _replay_demo(tmp_path, "--from", "2026-02-12T09:30:00+08:00",
                                 "--to", "2026-02-12T10:30:00+08:00", "--every", "1h")
    repeated = {i["title"] for i in first["ideas"]} & {i["title"] for i in second["ideas"]}
    assert len(repeated) <= 2, repeated


def test_demo_prints_digests_of_real_bundled_stories() -> None:
    result = CliRunner().invoke(main, ["demo", "--days", "1", "--json"])
    assert result.exit_code == 0, result.output
    (digest,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert digest["as_of"] == "2026-02-13T09:30:00+08:00"
    titles = _demo_titles()
    assert digest["ideas"] and all(i["title"] in titles for i in digest["ideas"])


def test_bad_as_of_is_one_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["digest", "--as-of", "yesterday", "--db",
                                       str(tmp_path / "x.sqlite")])
    assert result.exit_code == 2
    assert "--as-of: 'yesterday' is not an ISO 8601 time" in result.output
    zoneless = CliRunner().invoke(main, ["trends", "--as-of", "2026-02-01T09:30", "--db",
                                         str(tmp_path / "x.sqlite")])
    assert zoneless.exit_code == 2 and "has no UTC offset" in zoneless.output


def test_init_writes_the_example_config_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                             ) -> None:
    monkeypatch.chdir(tmp_path)
    first = CliRunner().invoke(main, ["init"])
    assert first.exit_code == 0, first.output
    assert "[brand]" in (tmp_path / "config.toml").read_text(encoding="utf-8")
    (tmp_path / "config.toml").write_text("[brand]\nname = 'mine'\n", encoding="utf-8")
    again = CliRunner().invoke(main, ["init"])
    assert "exists; left as it is" in again.output
    assert "mine" in (tmp_path / "config.toml").read_text(encoding="utf-8")
    assert (tmp_path / "topicscout.sqlite").exists()


def test_error_messages_keep_their_square_brackets(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # rich reads "[telegram]" as a markup tag and drops it, unless the message is escaped
    (tmp_path / "config.toml").write_text(
        "[telegram]\ntoken_env = 'TS_TEST_TOKEN'\nchats = []\n", encoding="utf-8")
    monkeypatch.setenv("TS_TEST_TOKEN", "123:not-a-real-token")
    result = CliRunner().invoke(main, ["digest", "--send", "--config",
                                       str(tmp_path / "config.toml"), "--db",
                                       str(tmp_path / "x.sqlite")])
    assert result.exit_code == 2
    assert "([telegram] chats is empty" in result.output
    assert "not-a-real-token" not in result.output
