"""Property tests: whatever bytes arrive, a parser returns Items or raises SourceError; never
another exception (that would be a bug crashing the crawl, or a lost source)."""

from __future__ import annotations

import copy as copy_module
import json
import os
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sources.hotlists import PLATFORMS
from sources.shape import clean_title, parse_heat, parse_rank
from tests.sources.helpers import DATA, parse, source
from topicscout.config import SourceConfig
from topicscout.errors import SourceError
from topicscout.types import Item

SPECS: list[SourceConfig] = [
    *(source(name, platform=name) for name in PLATFORMS),
    source("feed", "rss"),
    source("nn", "newsnow", platform="zhihu"),
    source("dh", "dailyhot", platform="baidu"),
    source("js", "json", items="data.list", title="t", link="https://x.com/{id}", rank="r",
           heat="h"),
]
# Every recorded response with the source that would fetch it.
RECORDED: list[tuple[SourceConfig, Path]] = [
    *((source(name, platform=name), DATA / "hotlists" / f"{name}.json") for name in PLATFORMS
      if (DATA / "hotlists" / f"{name}.json").exists()),
    (source("nn", "newsnow", platform="zhihu"), DATA / "hotlists" / "newsnow-zhihu.json"),
    (source("dh", "dailyhot", platform="baidu"), DATA / "hotlists" / "dailyhot-baidu.json"),
    *((source("feed", "rss"), p) for p in sorted((DATA / "feeds").iterdir())),
]
RECORDED_JSON = [(spec, json.loads(path.read_bytes())) for spec, path in RECORDED
                 if path.suffix == ".json"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
    | st.sampled_from([10**400, -(2**63), 2**64, "9" * 400, "1854 万热度", "", "#"]),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(
        st.sampled_from(["data", "list", "realtime", "word", "title", "num", "cards", "0",
                         "content", "word_list", "items", "url", "hotScore", "target", "code",
                         "ok", "status", "t", "id", "r", "h", "Title", "HotValue"]),
        children, max_size=6),
    max_leaves=30)
# HYPOTHESIS_EXAMPLES=5000 for a long hunt; 150 keeps the suite quick.
PROPERTY = settings(max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", "150")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


json_leaves = (st.none() | st.booleans() | st.integers() | st.floats() | st.text()
               | st.integers(min_value=10**15, max_value=10**500)
               | st.text(alphabet="0123456789.,万亿wk 热度", max_size=400))


@PROPERTY
@given(value=json_leaves | st.lists(json_leaves, max_size=3))
def test_field_readers_accept_any_json_value(value: Any) -> None:
    heat, rank, title = parse_heat(value), parse_rank(value), clean_title(value)
    assert heat is None or (isinstance(heat, int) and 0 <= heat <= 10**15)
    assert rank is None or (isinstance(rank, int) and rank > 0)
    assert isinstance(title, str) and title == title.strip()


def _check(spec: SourceConfig, body: bytes) -> None:
    try:
        items = parse(spec, body)
    except SourceError as e:
        assert str(e) and "\n" not in str(e)
        return
    for item in items:
        assert isinstance(item, Item) and item.title.strip()
        assert item.seen_at.tzinfo is not None
        assert item.heat is None or (isinstance(item.heat, int) and item.heat >= 0)
        assert item.url is None or item.url.startswith(("http://", "https://"))


@PROPERTY
@given(spec=st.sampled_from(SPECS), body=st.binary(max_size=2000))
def test_any_bytes_give_items_or_a_source_error(spec: SourceConfig, body: bytes) -> None:
    _check(spec, body)


@PROPERTY
@given(spec=st.sampled_from(SPECS), value=json_values)
def test_any_json_gives_items_or_a_source_error(spec: SourceConfig, value: object) -> None:
    _check(spec, json.dumps(value).encode())


def _nodes(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Paths to every node of a JSON document (the root included)."""
    found = [path]
    children = value.items() if isinstance(value, dict) else enumerate(value) \
        if isinstance(value, list) else ()
    for key, child in children:
        found += _nodes(child, (*path, key))
    return found


def _replaced(document: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    copy = copy_module.copy(document)
    copy[path[0]] = _replaced(document[path[0]], path[1:], new)
    return copy


@PROPERTY
@given(which=st.integers(0, len(RECORDED_JSON) - 1),  # an index keeps failure reports short
       changes=st.lists(st.tuples(st.integers(0, 10**9), json_values), min_size=1, max_size=3))
def test_recorded_json_with_any_node_replaced_gives_items_or_a_source_error(
        which: int, changes: list[tuple[int, Any]]) -> None:
    spec, document = RECORDED_JSON[which]
    for pick, value in changes:
        nodes = _nodes(document)
        document = _replaced(document, nodes[pick % len(nodes)], value)
    _check(spec, json.dumps(document, ensure_ascii=False).encode())


def _entries(document: Any) -> list[tuple[Any, ...]]:
    """Paths to the objects that sit in lists: the entries of a hot list."""
    return [path for path in _nodes(document) if path and isinstance(path[-1], int)
            and isinstance(_at(document, path), dict)]


def _at(document: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        document = document[key]
    return document


@PROPERTY
@given(which=st.integers(0, len(RECORDED_JSON) - 1), pick=st.integers(0, 10**9),
       values=st.lists(json_values, min_size=32, max_size=32))
def test_an_entry_with_every_field_randomised_gives_items_or_a_source_error(
        which: int, pick: int, values: list[Any]) -> None:
    spec, document = RECORDED_JSON[which]
    entries = _entries(document)
    entry_path = entries[pick % len(entries)]
    entry = _at(document, entry_path)
    leaves = [p for p in _nodes(entry) if p and not isinstance(_at(entry, p), dict | list)]
    for index, leaf in enumerate(leaves):
        entry = _replaced(entry, leaf, values[index % len(values)])
    _check(spec, json.dumps(_replaced(document, entry_path, entry)).encode())


@PROPERTY
@given(which=st.integers(0, len(RECORDED) - 1), data=st.data())
def test_damaged_recorded_responses_give_items_or_a_source_error(
        which: int, data: st.DataObject) -> None:
    spec, path = RECORDED[which]
    body = bytearray(path.read_bytes())
    cut = data.draw(st.integers(0, len(body)))
    flips = data.draw(st.lists(st.tuples(st.integers(0, max(0, cut - 1)), st.integers(0, 255)),
                               max_size=5))
    for position, byte in flips:
        if position < cut:
            body[position] = byte
    _check(spec, bytes(body[:cut]))
