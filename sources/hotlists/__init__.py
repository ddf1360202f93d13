"""The hot-list platforms we read directly, one small module each, registered in one table."""

from __future__ import annotations

from sources.hotlists import baidu, bilibili, douyin, kr36, toutiao, weibo, zhihu
from sources.hotlists.base import Platform

PLATFORMS: dict[str, Platform] = {
    p.name: p for p in (weibo.PLATFORM, zhihu.PLATFORM, baidu.PLATFORM, bilibili.HOTWORD,
                        bilibili.RANKING, douyin.PLATFORM, toutiao.PLATFORM, kr36.PLATFORM)
}
