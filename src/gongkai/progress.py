"""What a long parse tells whoever waits on it: the pages done, and the pages OCR will read.

A reader calls `pages_done(done, total)` as it goes and `recognising(pages)` once it knows how many
page-sized pieces OCR must read (seconds each). `limits.run_guarded` forwards both from its child:
the pages done to the caller's callback (the web app's job shows them), the pages to recognise to
its own clock, which gives the document that much more time. Nothing is reported when no one listens.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator

Listener = Callable[[int, int], None]
_listener: Listener | None = None
_budget: Callable[[int], None] | None = None
_telling = threading.Lock()  # pages read in parallel report from their threads: one message at a time


def pages_done(done: int, total: int) -> None:
    """`done` of the document's `total` pages are read."""
    if _listener is not None:
        with _telling:
            _listener(done, total)


def recognising(pages: int) -> None:
    """OCR will read `pages` page-sized pieces of the document (the count known so far)."""
    if _budget is not None and pages > 0:
        _budget(pages)


@contextlib.contextmanager
def listening(listener: Listener | None, budget: Callable[[int], None] | None = None) -> Iterator[None]:
    """Send the pages done to `listener`, and the pages to recognise to `budget`, while the block runs."""
    global _listener, _budget
    previous = _listener, _budget
    _listener, _budget = listener, budget
    try:
        yield
    finally:
        _listener, _budget = previous
