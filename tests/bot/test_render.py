"""Digest messages: escaped HTML, split between ideas under 4096, short callback data."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from bot import render
from topicscout.views import IdeaView, Link, Tally, pick_links

TZ = ZoneInfo("Asia/Shanghai")
AS_OF = datetime(2026, 1, 20, 1, 30, tzinfo=UTC)
HEADER = render.DigestHeader("A&B <brand>", AS_OF, 7)


def view(position: int, title: str = "标题", *, idea_id: int | None = None,
         risky: bool = False, url: str = "https://example.com/a?x=1&y=2") -> IdeaView:
    return IdeaView(
        idea_id=position if idea_id is None else idea_id, position=position,
        story_key=f"k{position}", title=title, why="weibo #9→#2 in 3 h & <rising>",
        angle="watch" if risky else "brand", risky=risky, platforms=("weibo", "baidu"),
        matched=("AI",), terms=("ai", "模型"), first_seen=AS_OF,
        links=(Link("weibo", title, url),))


class TagBalance(HTMLParser):
    """Checks that every tag opened in a message is closed in that same message."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open.pop() == tag


def is_balanced(text: str) -> bool:
    parser = TagBalance()
    parser.feed(text)
    parser.close()
    return not parser.open


def test_titles_and_everything_else_are_escaped() -> None:
    chunks = render.render_digest(HEADER, [view(1, 'Tom & Jerry <b>"hi"</b>')], TZ)
    text = chunks[0].text
    assert "Tom &amp; Jerry &lt;b&gt;&quot;hi&quot;&lt;/b&gt;" in text
    assert "A&amp;B &lt;brand&gt;" in text
    assert "&amp; &lt;rising&gt;" in text
    assert 'href="https://example.com/a?x=1&amp;y=2"' in text
    assert is_balanced(text)


def test_header_shows_local_date_brand_and_count() -> None:
    text = render.render_digest(HEADER, [view(1)], TZ)[0].text
    assert text.startswith("<b>A&amp;B &lt;brand&gt;</b> · 选题 digest · 2026-01-20 09:30 CST\n"
                           "7 new rising stories")


def test_watch_ideas_carry_the_safety_mark_and_others_do_not() -> None:
    risky = render.render_idea(view(1, risky=True), TZ)
    safe = render.render_idea(view(2), TZ)
    assert "⚠️" in risky and "do not ride" in risky
    assert "⚠️" not in safe and "🔑 AI" in safe


def test_long_digests_split_between_ideas_under_the_limit() -> None:
    views = [view(n, "很长的标题" * 40 + "<&>") for n in range(1, 51)]
    chunks = render.render_digest(HEADER, views, TZ)
    assert len(chunks) > 1
    assert all(render.telegram_length(c.text) <= render.MAX_MESSAGE for c in chunks)
    assert all(is_balanced(c.text) for c in chunks)
    # every idea is in exactly one message, in order, and its buttons go with it
    assert [i for c in chunks for i in c.idea_ids] == list(range(1, 51))
    starts = [re.findall(r"^<b>(\d+)\. ", c.text, re.M) for c in chunks]
    assert [int(n) for s in starts for n in s] == list(range(1, 51))
    assert all(len(c.idea_ids) <= render.MAX_IDEAS_PER_MESSAGE for c in chunks)


def test_splitting_counts_utf16_units_as_telegram_does() -> None:
    emoji_block = "😀" * 1500  # 1500 characters, 3000 UTF-16 units
    chunks = render.split_blocks("head", [(emoji_block, 1), (emoji_block, 2)])
    assert [c.idea_ids for c in chunks] == [(1,), (2,)]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=300), min_size=1, max_size=30))
def test_any_titles_give_balanced_messages_under_the_limit(titles: list[str]) -> None:
    chunks = render.render_digest(HEADER, [view(n, t) for n, t in enumerate(titles, 1)], TZ)
    for chunk in chunks:
        assert render.telegram_length(chunk.text) <= render.MAX_MESSAGE
        assert is_balanced(chunk.text)


def test_callback_data_is_short_and_round_trips() -> None:
    biggest = 2**63 - 1
    keyboard = render.vote_keyboard([(biggest, 50, Tally(up=3, down=1, star=2))])
    assert keyboard is not None
    row = keyboard.inline_keyboard[0]
    assert [b.text for b in row] == ["50. 👍 3", "👎 1", "⭐ 2"]
    for button, value in zip(row, ("up", "down", "star"), strict=True):
        data = str(button.callback_data)
        assert len(data.encode()) < 32  # Telegram allows 64
        assert render.parse_vote_data(data) == (biggest, value)
    assert render.keyboard_ids(keyboard) == [biggest]


def test_foreign_or_forged_callback_data_is_not_a_vote() -> None:
    for data in (None, "", "v:1", "v:x:u", "v:1:q", "x:1:u", "v:-1:u", "v:1:u:extra"):
        assert render.parse_vote_data(data) is None


def test_only_web_links_reach_the_message() -> None:
    items = [{"platform": "weibo", "title": "a", "url": "javascript:alert(1)"},
             {"platform": "weibo", "title": "b", "url": "https://weibo.com/b c"},
             {"platform": "weibo", "title": "c", "url": "https://weibo.com/c"},
             {"platform": "weibo", "title": "d", "url": "https://weibo.com/d"},
             {"platform": "baidu", "title": "e", "url": "https://baidu.com/e"},
             {"platform": "zhihu", "title": "f", "url": None}]
    links = pick_links(items)
    assert [link.url for link in links] == ["https://weibo.com/c", "https://baidu.com/e",
                                            "https://weibo.com/d"]
    assert render.render_links(links).count("weibo 2") == 1


def test_a_tap_is_answered_counted_or_withdrawn() -> None:
    assert render.vote_toast("up", "up") == "👍 counted"
    assert render.vote_toast(None, "up") == "👍 vote withdrawn"
    assert render.vote_toast("down", "down") == "👎 counted"


def test_source_health_shows_each_status_not_only_failures() -> None:
    from topicscout.service import SourceHealth

    def row(name: str, status: str, failures: int = 0, error: str | None = None,
            ok: datetime | None = None, enabled: bool = True) -> SourceHealth:
        return SourceHealth(name=name, kind="hotlist", enabled=enabled, status=status,
                            last_success=ok, last_error=error, last_error_at=None,
                            consecutive_failures=failures, next_due=None, items_total=3)

    text = render.render_sources([
        row("weibo", "ok", ok=datetime(2026, 2, 1, 1, 30, tzinfo=UTC)),
        row("zhihu", "pending"), row("dailyhot", "disabled", enabled=False),
        row("baidu", "failing", failures=6, error="baidu: expected <list>, got null")], TZ)
    lines = text.split("\n")
    assert lines[1].startswith("✅ weibo · ok · last ok 02-01 09:30")
    assert lines[2].startswith("⏳ zhihu · pending") and lines[3].startswith("⏸ dailyhot")
    assert "❌ baidu · failing" in lines[4] and "expected &lt;list&gt;" in lines[4]
