"""Text normalisation for matching: full-width → half-width (NFKC), Traditional → Simplified.

Both are length-preserving per character, so a position in the normalised text is the same
position in the raw text: matching happens on normalised text, values and names are quoted raw.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import opencc

_T2S = opencc.OpenCC("t2s")
# the Han characters of every CJK block (Extension A and B+ included: 㮾梨街道), for a regular expression's [ ]
HAN = "\u3400-\u9fff\U00020000-\U0003134f"

_SPACE = re.compile(r"[\s\u3000\u00a0]+")
_PUNCT = re.compile(r"[\s\u3000\u00a0:：,，、。;；\"'“”‘’「」『』《》〈〉()（）\[\]【】|.．·•\-—_~*#]+")
# numbering prefixes of labels: 一、 (一) 1. 1、 (1)
_NUMBERING = re.compile(r"^\s*(?:[(（]?[一二三四五六七八九十]+[)）、.．]|[(（]\d+[)）]|\d+\s*[.、．](?!\d))\s*")


class _CharTable(dict):
    """A `str.translate` table filled on first use: each character's NFKC when that is one
    character, else the character itself. Bounded: past `_CHAR_TABLE_SIZE` entries, rare
    characters are normalised again on each use instead of kept."""

    def __missing__(self, code: int) -> str:
        ch = chr(code)
        n = unicodedata.normalize("NFKC", ch)
        kept = n if len(n) == 1 else ch
        if len(self) < _CHAR_TABLE_SIZE:
            self[code] = kept
        return kept


_CHAR_TABLE_SIZE = 1 << 16
_CHAR_TABLE = _CharTable()


def char_normalise(text: str) -> str:
    """NFKC each character, keeping length: 'Ａ（１）' → 'A(1)'; characters that would expand stay."""
    if "\n" not in text:
        return text.translate(_CHAR_TABLE)
    # whole texts go line by line: a report's lines come again in its sections, narrative and title
    return "\n".join(_normalised_line(line) for line in text.split("\n"))


@lru_cache(maxsize=1024)  # lines of the last few reports; with the length limit, at most a few MB
def _cached_line(line: str) -> str:
    return line.translate(_CHAR_TABLE)


def _normalised_line(line: str) -> str:
    return _cached_line(line) if len(line) <= 2000 else line.translate(_CHAR_TABLE)


def short_cache(function):
    """Memoise `function` for short text arguments only: labels and cells repeat across reports
    and are worth keeping; whole texts and glued runs are not, and would only fill memory."""
    cached = lru_cache(maxsize=1 << 16)(function)

    def call(*args):
        for a in args:
            if isinstance(a, str) and len(a) > 200:
                return function(*args)
        return cached(*args)

    call.cache_clear = cached.cache_clear
    call.__doc__, call.__name__ = function.__doc__, function.__name__
    return call


@short_cache
def simplify(text: str) -> str:
    """Traditional → Simplified (opencc), character for character; NFKC too."""
    text = char_normalise(text)
    if not text.isascii():
        converted = _T2S.convert(text)
        if len(converted) == len(text):
            return converted
    return text


@short_cache
def label_key(text: str) -> str:
    """A matching key for a label: simplified, no numbering, no spaces or punctuation."""
    text = _SPACE.sub("", simplify(text))
    text = _NUMBERING.sub("", text)
    return _PUNCT.sub("", text)


def squash(text: str) -> str:
    """Simplified text without any whitespace or punctuation (numbering kept)."""
    return _PUNCT.sub("", simplify(text))


def collapse_spaces(text: str) -> str:
    return _SPACE.sub(" ", text).strip()
