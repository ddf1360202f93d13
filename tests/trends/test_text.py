"""Normalisation and tokens: what the rest of trends/ builds on."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from trends.text import Tokenizer, char_ngrams, is_useful_token, normalize, series_name, stopwords


def test_normalize_folds_width_and_strips_tags_badges_emoji_and_outlets() -> None:
    assert normalize("ＧＰＴ－５来了") == "GPT-5来了"
    assert normalize("#马年春晚节目单公布#") == "马年春晚节目单公布"
    assert normalize("孙龙银牌 热") == "孙龙银牌"
    assert normalize("孙龙银牌[新]") == "孙龙银牌"
    assert normalize("【独家】小米发布新机 | 36氪") == "小米发布新机"
    assert normalize("豆包官宣春晚互动玩法｜最前线") == "豆包官宣春晚互动玩法"
    assert normalize("春晚彩排🔥😀来了") == "春晚彩排 来了"


def test_normalize_keeps_a_last_character_that_is_part_of_the_words() -> None:
    assert normalize("今天天气热") == "今天天气热"
    assert normalize("爆") == "爆"


def test_series_name_is_the_column_before_the_bar() -> None:
    assert series_name("8点1氪丨米哈游宣布解雇常年法律顾问；绝味鸭脖旗下企业注销") == "8点1氪"
    assert series_name("孙龙银牌") is None


def test_brand_words_stay_whole_whatever_their_script(tokenizer: Tokenizer) -> None:
    assert "英伟达" in tokenizer.tokens("英伟达H20芯片")
    assert "小米su7" in tokenizer.tokens("小米SU7降价了")
    assert "deepseek" in tokenizer.tokens("DeepSeek变冷漠了")


def test_english_words_are_kept_whole(tokenizer: Tokenizer) -> None:
    assert tokenizer.tokens("GPT-5发布") == ("gpt-5",)
    assert "mac" not in tokenizer.tokens("machine learning for everyone")
    assert "machine" in tokenizer.tokens("machine learning for everyone")


def test_numbers_and_dates_are_not_tokens(tokenizer: Tokenizer) -> None:
    assert tokenizer.tokens("2026年1月15日金价") == ("金价",)
    assert "1000" not in tokenizer.tokens("孙龙短道速滑1000米夺银牌")


def test_a_title_seen_again_is_not_tokenized_again(tokenizer: Tokenizer) -> None:
    first = tokenizer.tokens("春节档电影预售破亿")
    assert tokenizer.tokens("春节档电影预售破亿") is first


def test_char_ngrams_ignore_spaces_and_punctuation() -> None:
    assert char_ngrams("春晚, 节目") == ["春晚", "晚节", "节目"]


# Pieces that trigger every rule (badges, tags, bars, widths, emoji), glued in any order.
pieces = st.sampled_from([*"春晚孙龙银牌热新爆沸的了是#【】|｜丨 　ＡＢab12３.-—🔥😀\u200b",
                          "36氪", "8点1氪", "【独家】", " 热", "[新]", "#春晚#"])
titles = st.lists(pieces, max_size=25).map("".join)


@settings(max_examples=300, deadline=None)
@given(titles)
def test_normalizing_twice_changes_nothing(title: str) -> None:
    once = normalize(title)
    assert normalize(once) == once


@settings(max_examples=200, deadline=None)
@given(st.one_of(titles, st.text(max_size=30)))
def test_tokens_are_never_empty_or_stop_words(tokenizer: Tokenizer, title: str) -> None:
    for token in tokenizer.tokens(title):
        assert token.strip() == token and token
        assert token not in stopwords()
        assert is_useful_token(token)

