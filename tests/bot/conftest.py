"""Bot test fixtures: a real SQLite file with two real corpus days, and the fake Bot API."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from bot import redact
from tests.conftest import DATA
from tests.fakes.telegram_api import FakeTelegram
from topicscout import service
from topicscout.config import load_config
from topicscout.store import Store

CORPUS = DATA / "bot" / "corpus-2026-01-18_20.jsonl.gz"  # weibo, baidu, zhihu, 36kr
DAY = datetime.fromisoformat("2026-01-20T09:30:00+08:00")  # the digest moment of the slice
TEAM_CHAT = -1001
LEAD, ANA, BO, STRANGER = 11, 12, 13, 99


def write_config(tmp_path: Path, base_url: str, **telegram: object) -> Path:
    settings = {"chats": [TEAM_CHAT], "admins": [LEAD], "members": [LEAD, ANA, BO],
                "token_env": "TOPICSCOUT_TEST_TOKEN", "base_url": base_url, **telegram}
    lines = [f"{key} = {value!r}".replace("'", '"') for key, value in settings.items()]
    path = tmp_path / "config.toml"
    path.write_text(
        '[brand]\nname = "小智科技"\nkeywords = ["AI", "大模型", "手机"]\n'
        'related = ["机器人", "芯片", "千问"]\navoid = ["裁员"]\n'
        '[digest]\ntimezone = "Asia/Shanghai"\nsize = 10\n'
        f'[storage]\npath = "{tmp_path / "bot.sqlite"}"\n'
        "[telegram]\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def fake_telegram() -> Iterator[FakeTelegram]:
    with FakeTelegram() as server:
        yield server
    redact.forget_all()  # log records of other areas' tests stay untouched


@pytest.fixture
def corpus_app(tmp_path: Path, fake_telegram: FakeTelegram) -> Iterator[service.App]:
    config = load_config(write_config(tmp_path, fake_telegram.base_url))
    app = service.App(config=config, store=Store.open(config.db_path))
    report = service.import_files(app.store, [CORPUS])
    assert report.items_new > 1000 and not report.bad
    yield app
    app.close()
