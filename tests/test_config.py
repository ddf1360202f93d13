from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from topicscout.cli import main
from topicscout.config import DigestConfig, StorageConfig, load_config, parse_config
from topicscout.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent


def test_example_config_loads_with_its_documented_values() -> None:
    config = load_config(ROOT / "config.example.toml")
    assert config.digest.time == time(9, 30)
    assert config.digest.timezone == "Asia/Shanghai"
    assert config.storage.retention == timedelta(days=90)
    assert config.telegram is not None and config.telegram.token_env == "TOPICSCOUT_BOT_TOKEN"
    assert config.db_path == ROOT / "topicscout.sqlite"


def test_every_mistake_is_reported_together_with_its_key_path() -> None:
    raw = {
        "digest": {"time": "9h30", "timezone": "Asia/Shanghia", "size": "ten"},
        "sources": [{"name": "a", "kind": "rss", "url": "not a url"},
                    {"name": "a", "kind": "carrier-pigeon"}],
        "brand": {"keywords": "AI", "colour": "red"},
    }
    with pytest.raises(ConfigError) as caught:
        parse_config(raw)
    problems = caught.value.problems
    keys = [line.split(":")[0] for line in problems]
    assert keys == ["brand.colour", "brand.keywords", "digest.size", "digest.time",
                    "digest.timezone", "sources[0].url", "sources[1].kind", "sources[1].name"]


def test_defaults_apply_when_sections_are_missing() -> None:
    config = parse_config({})
    assert config.telegram is None  # no [telegram]: run without a bot
    assert (config.digest, config.storage) == (DigestConfig(), StorageConfig())
    assert config.sources == ()


def test_a_token_written_into_the_file_is_refused_without_echoing_it() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({"telegram": {"token": "123456:SECRET-TOKEN"}})
    assert "SECRET-TOKEN" not in str(caught.value)
    assert caught.value.problems[0].startswith("telegram.token:")


def test_sources_need_what_their_kind_needs() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({"sources": [{"name": "w", "kind": "hotlist"},
                                  {"name": "f", "kind": "rss", "every": "soon"}]})
    assert caught.value.problems == [
        "sources[0].platform: is required for kind 'hotlist'",
        "sources[1].url: is required for kind 'rss'",
        "sources[1].every: 'soon' is not a duration like 15m, 24h or 7d",
    ]


def test_cli_prints_three_lines_for_three_mistakes_and_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "config.toml"
    bad.write_text('[digest]\ntime = "25:99"\ntimezone = "Nowhere/Land"\n'
                   '[storage]\nretention = "forever"\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["trends", "--config", str(bad)])
    assert result.exit_code == 2
    lines = [line.strip() for line in result.output.splitlines()]
    assert "digest.time: '25:99' is not a time like 09:30" in lines
    assert "digest.timezone: 'Nowhere/Land' is not an IANA timezone like Asia/Shanghai" in lines
    assert "storage.retention: 'forever' is not a duration like 15m, 24h or 7d" in lines
    assert "Traceback" not in result.output


def test_invalid_toml_is_one_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "config.toml"
    bad.write_text("[brand\nname = 1", encoding="utf-8")
    result = CliRunner().invoke(main, ["trends", "--config", str(bad)])
    assert result.exit_code == 2
    assert "not valid TOML" in result.output


def test_a_missing_explicit_config_is_an_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["trends", "--config", str(tmp_path / "nope.toml")])
    assert result.exit_code == 2
    assert "no such file" in result.output
