"""fetch/: collecting reports from government websites (`gongkai fetch`), the one place gongkai uses the network.

    crawl.py     the run: walk a column's pages, open each report, save it, count what happened
    pages.py     what a list page and a detail page hold (report links, pagination, attachments, pictures)
    titles.py    whether a link's title names an annual disclosure report
    scope.py     which addresses a run may reach (the site and its www twin, plus --follow-host)
    polite.py    robots.txt, a pace and a concurrency limit per host, backoff
    client.py    one conditional GET (httpx), retried, redirect- and size-limited
    manifest.py  the manifest in the folder (append as it goes; read by gongkai batch)
    assemble.py  image pages put together as one PDF

Only `gongkai fetch` imports crawl.py and client.py; manifest.py imports nothing of the network.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gongkai.fetch.crawl import FetchOptions, FetchSummary, fetch

__all__ = ["FetchOptions", "FetchSummary", "fetch"]


def __getattr__(name: str):
    if name in __all__:
        from gongkai.fetch import crawl

        return getattr(crawl, name)
    raise AttributeError(name)
