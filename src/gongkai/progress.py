"""Pages done of the document being read, for whoever waits on a long parse (a scan: seconds a page).

A reader calls `pages_done(done, total)`; `limits.parse_guarded` forwards it from its child to the
caller's callback (the web app's job shows it). Nothing is reported when no one listens.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

Listener = Callable[[int, int], None]
_listener: Listener | None = None


def pages_done(done: int, total: int) -> None:
    """`done` of the document's `total` pages are read."""
    if _listener is not None:
        _listener(done, total)


@contextlib.contextmanager
def listening(listener: Listener | None) -> Iterator[None]:
    """Send the pages done to `listener` while the block runs."""
    global _listener
    previous, _listener = _listener, listener
    try:
        yield
    finally:
        _listener = previous
