"""Feeds: encodings, dates, links, titles and the difference between 'a feed' and 'not a feed'."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from sources.encoding import charset_override, guess_chinese_charset
from sources.feeds import MAX_ENTRIES, drop_unused, parse_feed_date
from tests.sources.helpers import DATA, parse, source
from topicscout.errors import SourceError

SHANGHAI = ZoneInfo("Asia/Shanghai")
RSS = ('<?xml version="1.0" encoding="{enc}"?><rss version="2.0"><channel><title>t</title>'
       '<item><title>{title}</title><link>{link}</link><pubDate>{date}</pubDate></item>'
       '</channel></rss>')


def feed(title: str = "标题", *, enc: str = "utf-8", link: str = "/p/1", date: str = "",
         declare: bool = True) -> bytes:
    text = RSS.format(enc=enc, title=title, link=link, date=date)
    if not declare:
        text = text.split("?>", 1)[1]
    return text.encode(enc)


@pytest.mark.parametrize(("text", "expected"), [
    ("2025/01/05", datetime(2025, 1, 4, 16, 0, tzinfo=UTC)),
    ("2025年01月05日", datetime(2025, 1, 4, 16, 0, tzinfo=UTC)),
    ("2025年1月5日 08:30", datetime(2025, 1, 5, 0, 30, tzinfo=UTC)),
    ("2018-09-18 14:38:10", datetime(2018, 9, 18, 6, 38, 10, tzinfo=UTC)),
    ("2025-09-04 21:53:26+01:00", datetime(2025, 9, 4, 20, 53, 26, tzinfo=UTC)),
    ("2025-01-05T08:00:00Z", datetime(2025, 1, 5, 8, 0, tzinfo=UTC)),
    ("1736035200", datetime(2025, 1, 5, 0, 0, tzinfo=UTC)),
    ("1736035200000", datetime(2025, 1, 5, 0, 0, tzinfo=UTC)),
    ("Tue, 18 Sep 2018 06:38:10 GMT", datetime(2018, 9, 18, 6, 38, 10, tzinfo=UTC)),
    ("Tue, 18 Sep 2018 14:38:10 +0800", datetime(2018, 9, 18, 6, 38, 10, tzinfo=UTC)),
])
def test_feed_dates_are_read_with_the_feeds_zone(text: str, expected: datetime) -> None:
    assert parse_feed_date(text, SHANGHAI) == expected


@pytest.mark.parametrize("text", ["", "yesterday", "2025-13-45", "Seg, 24 Set 2018 10:00:00"])
def test_unreadable_dates_are_none(text: str) -> None:
    assert parse_feed_date(text, SHANGHAI) is None


def test_zone_less_dates_follow_the_configured_timezone() -> None:
    body = feed(date="2025-01-05 09:00:00")
    paris = parse(source(kind="rss", timezone="Europe/Paris"), body)[0]
    default = parse(source(kind="rss"), body)[0]
    assert paris.published_at == datetime(2025, 1, 5, 8, 0, tzinfo=UTC)
    assert default.published_at == datetime(2025, 1, 5, 1, 0, tzinfo=UTC)


def test_missing_or_junk_dates_leave_published_at_empty() -> None:
    assert parse(source(kind="rss"), feed(date=""))[0].published_at is None
    assert parse(source(kind="rss"), feed(date="2999-01-01"))[0].published_at is None


def test_gb2312_feed_with_odd_dates_reads_right() -> None:
    items = parse(source(kind="rss"), (DATA / "feeds" / "rss-parser__encoding-gb2312.xml")
                  .read_bytes())
    assert items[0].title == "习近平为何如此强调崇尚英雄？"
    assert items[0].published_at == datetime(2018, 9, 18, 6, 38, 10, tzinfo=UTC)


def test_gbk_bytes_under_a_wrong_utf8_header_are_read_as_gbk() -> None:
    body = feed("中国芯片突围：镕铭半导体", enc="gbk")
    items = parse(source(kind="rss"), body, content_type="application/rss+xml; charset=utf-8")
    assert items[0].title == "中国芯片突围：镕铭半导体"


def test_undeclared_big5_and_gb2312_are_told_apart() -> None:
    big5 = feed("我希望這個很容易翻譯成中文，感謝您閱讀本文", enc="big5", declare=False)
    gb = feed("不归移民漫画系列：专业工作", enc="gb2312", declare=False)
    assert parse(source(kind="rss"), big5)[0].title == "我希望這個很容易翻譯成中文，感謝您閱讀本文"
    assert parse(source(kind="rss"), gb)[0].title == "不归移民漫画系列：专业工作"
    assert guess_chinese_charset("我希望這個很容易翻譯成中文".encode("big5")) == "big5"


def test_latin1_text_is_not_mistaken_for_chinese() -> None:
    assert guess_chinese_charset("Ação é Notícias de São Paulo".encode("latin-1")) is None
    assert charset_override(feed("café", enc="iso-8859-1"), None) is None


def test_bom_prefixed_feed_reads() -> None:
    body = b"\xef\xbb\xbf" + feed("带 BOM 的标题")
    assert parse(source(kind="rss"), body)[0].title == "带 BOM 的标题"


def test_relative_links_resolve_against_the_final_url() -> None:
    items = parse(source(kind="rss"), feed(link="../posts/7"), url="https://ex.com/feeds/a.xml")
    assert items[0].url == "https://ex.com/posts/7"
    assert items[0].guid == "https://ex.com/posts/7"


def test_html_and_cdata_in_titles_become_plain_text() -> None:
    body = (b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>'
            b'<entry><title type="html">&lt;b&gt;Apple&lt;/b&gt; &amp;amp; AI</title>'
            b'<id>urn:1</id></entry></feed>')
    cdata = feed("<![CDATA[<em>苹果</em> 发布会]]>")
    assert parse(source(kind="rss"), body)[0].title == "Apple & AI"
    assert parse(source(kind="rss"), cdata)[0].title == "苹果 发布会"


def test_untitled_entries_are_named_by_their_summary() -> None:
    body = (b'<rss version="2.0"><channel><item><description>&lt;p&gt;First words of the '
            b'post&lt;/p&gt;</description><guid>g1</guid></item></channel></rss>')
    items = parse(source(kind="rss"), body)
    assert (items[0].title, items[0].guid) == ("First words of the post", "g1")


def test_empty_feed_is_fine_and_empty() -> None:
    assert parse(source(kind="rss"), b'<rss version="2.0"><channel><title>x</title>'
                                     b'</channel></rss>') == []


@pytest.mark.parametrize(("body", "message"), [
    (b"", "expected an RSS or Atom feed, got an empty body"),
    (b"<!DOCTYPE html><html><body>502 Bad Gateway</body></html>",
     "expected an RSS or Atom feed, got an HTML page"),
    (b'{"error": "nope"}', "expected an RSS or Atom feed, got JSON"),
    ((DATA / "feeds" / "feedparser__illformed_rss_empty_document.xml").read_bytes(),
     "not a readable RSS or Atom feed: <unknown>:6:0: no element found"),
    ((DATA / "feeds" / "rss-parser__missing-fields.atom").read_bytes(),
     "feed has 1 entries but none with a title or summary"),
])
def test_what_is_not_a_feed_says_so(body: bytes, message: str) -> None:
    with pytest.raises(SourceError) as caught:
        parse(source(kind="rss"), body)
    assert str(caught.value) == message


def test_unused_elements_are_dropped_before_parsing_and_unclosed_ones_kept() -> None:
    body = (b"<item><title>t</title><content:encoded><![CDATA[<p>x</p>]]></content:encoded>"
            b"<media:content url='u'/><media:group><media:content url='v'><media:credit>c"
            b"</media:credit></media:content></media:group><category domain='d'>News"
            b"</category><contentx>keep</contentx><content type='html'>&lt;b&gt;</content >"
            b"</item>")
    assert drop_unused(body) == b"<item><title>t</title><contentx>keep</contentx></item>"
    unclosed = b"<item><title>t</title><content:encoded>cut off <p>x</p></item>"
    assert drop_unused(unclosed) == unclosed


def test_dropping_is_linear_even_on_a_body_full_of_unclosed_tags() -> None:
    hostile = (b"<content:encoded>" + b"x" * 5000) * 1000 + (b"<media:content>" + b"y") * 1000
    started = time.perf_counter()
    assert drop_unused(hostile) == hostile
    assert time.perf_counter() - started < 0.5  # a lazy regex took 25 s here


def test_abusively_long_feeds_are_read_up_to_max_entries() -> None:
    entry = b"<item><title>t%d</title></item>"
    body = b'<rss version="2.0"><channel>' + b"".join(entry % i for i in range(20_000))
    started = time.perf_counter()
    items = parse(source(kind="rss"), body)
    assert len(items) == MAX_ENTRIES and items[-1].title == f"t{MAX_ENTRIES - 1}"
    assert time.perf_counter() - started < 2
