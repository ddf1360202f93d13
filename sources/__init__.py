"""The outside world -> Items. Pure: bytes in, Items / FetchResult out; no database here.

Data flow of one crawl (``sources.crawl.crawl``), per source, all sources concurrently:

1. ``kinds.KINDS[source.kind].request(source, now)`` -> ``model.Request`` (URL, method, headers;
   hot-list platforms are data in ``hotlists/``, the ``json`` kind builds the same from config);
2. ``http.Fetcher.fetch`` -> ``model.Response`` (limits, retries, conditional GET, size cap) or
   ``http.FetchError`` with one readable line;
3. the kind's parser, in a worker thread -> ``list[Item]`` or ``SourceError`` (``feeds.py`` for
   RSS/Atom, ``hotlists.base.parse_platform`` for every JSON list);
4. -> one ``model.FetchResult``; expected failures are values, bugs propagate.

``health.py`` decides when a source is due again and how healthy it is; the service stores it.
"""
