"""Bytes → str for the text-like readers (text, markdown, html): one decoder, tried in a fixed order.

Order: BOM (UTF-8, UTF-32, UTF-16) → UTF-16 without BOM (NUL-byte pattern) → strict UTF-8 →
UTF-8 and GBK mixed line by line → GB18030 (a superset of GBK/GB2312; Big5 when it fits better)
→ charset-normalizer → give up with `UnreadableError`. Newlines are normalised to "\n"; nothing
else is touched (no Traditional→Simplified, no NFKC: later stages do that).
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field

from gongkai.errors import UnreadableError

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: its BOM starts the same way
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# Names a page may declare that we read with a wider codec: GB2312/GBK pages often hold GBK-only characters.
_CHARSET_ALIASES = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "gb_2312-80": "gb18030",
    "csgb2312": "gb18030",
    "euc-cn": "gb18030",
    "big5": "big5hkscs",
    "x-x-big5": "big5hkscs",
    "utf8": "utf-8",
    "unicode": "utf-16",
}
_LATIN = {"ascii", "us-ascii", "iso-8859-1", "latin-1", "latin1", "windows-1252", "cp1252"}

_SAMPLE = 1 << 16  # bytes looked at when judging a pattern
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


@dataclass(slots=True)
class Decoded:
    """Decoded text (newlines normalised), the encoding used, and notes for the reviewer."""

    text: str
    encoding: str
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The text split into lines; a final newline does not make an extra empty line."""
        if not self.text:
            return []
        lines = self.text.split("\n")
        if lines[-1] == "":
            lines.pop()
        return lines


def decode(data: bytes, declared: str | None = None) -> Decoded:
    """Decode a text-like file; `declared` is a charset named by the file itself (HTML meta)."""
    if not data:
        raise UnreadableError("文件为空，没有可读取的内容")
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            if encoding == "utf-8" and len(data) > len(bom) and _try_utf8(data[len(bom) :]) is None:
                # a UTF-8 BOM stuck before a GBK body (an editor that added one): the body decides
                decoded = decode(data[len(bom) :], declared)
                return Decoded(decoded.text, decoded.encoding, ["文件以 UTF-8 标记（BOM）开头，正文却不是 UTF-8：按 "
                                                                 f"{decoded.encoding} 解码", *decoded.notes])
            return _finish(_decode_lenient(data[len(bom) :], encoding), encoding)
    utf16 = utf16_without_bom(data)
    if utf16:
        return _finish(_decode_lenient(data, utf16), utf16)
    if looks_binary(data):
        raise UnreadableError("文件内容是二进制数据，不是文本")
    utf8 = _try_utf8(data)
    if utf8 is not None:
        return _finish(*utf8)
    if declared:
        decoded = _try_declared(data, declared)
        if decoded is not None:
            return _finish(*decoded)
    mixed = _try_mixed_lines(data)
    if mixed is not None:
        return _finish(*mixed)
    chinese = _try_chinese(data)
    if chinese is not None:
        return _finish(*chinese)
    guessed = _try_charset_normalizer(data)
    if guessed is not None:
        return _finish(*guessed)
    raise UnreadableError("无法识别文本编码（不是 UTF-8、UTF-16、GB18030 或其他常见编码）")


def normalise_charset(name: str) -> str | None:
    """A declared charset name as the codec we read it with; None when Python has no such codec."""
    name = name.strip().strip("\"'").lower()
    name = _CHARSET_ALIASES.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def utf16_without_bom(data: bytes) -> str | None:
    """'utf-16-le' / 'utf-16-be' when the bytes hold NULs and read as plausible UTF-16 one way round, else None."""
    sample = data[:_SAMPLE]
    sample = sample[: len(sample) - len(sample) % 2]
    if len(sample) < 4 or b"\x00" not in sample:
        return None
    scores = {}
    for encoding in ("utf-16-le", "utf-16-be"):
        try:
            text = sample.decode(encoding)
        except UnicodeDecodeError as err:
            if err.start < len(sample) - 4:  # a surrogate split by the sample's end is fine
                continue
            text = sample[: err.start].decode(encoding)
        scores[encoding] = _common_share(text)
    if not scores:
        return None
    encoding = max(scores, key=scores.get)
    return encoding if scores[encoding] >= 0.9 else None


def _common_share(text: str) -> float:
    """Share of characters a Chinese report is made of: ASCII, Latin-1, punctuation, common CJK, full-width forms."""
    if not text:
        return 0.0
    common = sum(
        1
        for ch in text
        if ch in "\t\n\r\x0c"
        or " " <= ch <= "~"
        or "\xa0" <= ch <= "\u017f"
        or "\u2000" <= ch <= "\u27bf"  # punctuation, numerals, circled numbers, box drawing
        or "\u3000" <= ch <= "\u303f"
        or "\u4e00" <= ch <= "\u9fff"
        or "\uff00" <= ch <= "\uffef"
        or ch == "\ufeff"
    )
    return common / len(text)


def looks_binary(data: bytes) -> bool:
    """NUL bytes (outside UTF-16) or many control bytes mean the file is not text."""
    sample = data[:_SAMPLE]
    if not sample or sample.startswith(tuple(bom for bom, _ in _BOMS)):
        return False
    if b"\x00" in sample:
        return utf16_without_bom(data) is None
    controls = sum(1 for b in sample if b < 9 or 13 < b < 32 and b != 27 or b == 127)
    return controls > 0.05 * len(sample)


def _finish(text: str, encoding: str, notes: list[str] | None = None) -> Decoded:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text and len(_CONTROL.findall(text[:_SAMPLE])) > 0.05 * min(len(text), _SAMPLE):
        raise UnreadableError("文件内容是二进制数据，不是文本")
    return Decoded(text, encoding, notes or [])


def _decode_lenient(data: bytes, encoding: str) -> str:
    """Decode with the codec a BOM or NUL pattern named; a stray bad unit becomes U+FFFD."""
    if encoding.startswith(("utf-16", "utf-32")):
        width = 2 if encoding.startswith("utf-16") else 4
        data = data[: len(data) - len(data) % width]
    return data.decode(encoding, errors="replace")


def _try_utf8(data: bytes) -> tuple[str, str, list[str]] | None:
    try:
        return data.decode("utf-8"), "utf-8", []
    except UnicodeDecodeError as err:
        # An excerpt cut inside the last character: keep the rest.
        if err.reason == "unexpected end of data" and err.start >= len(data) - 3:
            try:
                text = data[: err.start].decode("utf-8")
            except UnicodeDecodeError:
                return None
            return text, "utf-8", ["文件末尾有一个被截断的字符，已略去"]
        return None


def _try_declared(data: bytes, declared: str) -> tuple[str, str, list[str]] | None:
    """The file's own charset, unless it is a Latin one (those decode anything and are usually wrong)."""
    encoding = normalise_charset(declared)
    if encoding is None or encoding in {codecs.lookup(n).name for n in _LATIN}:
        return None
    try:
        return data.decode(encoding), encoding, []
    except UnicodeDecodeError as err:
        if encoding == "gb18030" and err.start >= len(data) - 1:
            return data[: err.start].decode(encoding), encoding, ["文件末尾有一个被截断的字符，已略去"]
        return None


def _try_mixed_lines(data: bytes) -> tuple[str, str, list[str]] | None:
    """Most non-ASCII lines are UTF-8 but some are not: decode each line on its own (0x0A is never inside a GBK character)."""
    lines = data.split(b"\n")
    non_ascii = [line for line in lines if not line.isascii()]
    utf8_ok = sum(1 for line in non_ascii if _is_utf8(line))
    if not non_ascii or utf8_ok < 0.5 * len(non_ascii):
        return None
    out, gbk_lines, replaced = [], 0, 0
    for line in lines:
        if _is_utf8(line):
            out.append(line.decode("utf-8"))
            continue
        try:
            out.append(line.decode("gb18030"))
            gbk_lines += 1
        except UnicodeDecodeError:
            out.append(line.decode("utf-8", errors="replace"))
            replaced += 1
    notes = []
    if gbk_lines:
        notes.append(f"文件混用 UTF-8 与 GBK 编码：{gbk_lines} 行按 GB18030 解码")
    if replaced:
        notes.append(f"{replaced} 行含无法解码的字节，已替换为 �")
    return "\n".join(out), "utf-8+gb18030", notes


def _is_utf8(line: bytes) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _try_chinese(data: bytes) -> tuple[str, str, list[str]] | None:
    """GB18030, or Big5 when the bytes read as Big5 and look like Big5 (many trail bytes below 0xA1)."""
    notes: list[str] = []
    body = data
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError as err:
        if err.start < len(data) - 1:
            text = None
        else:
            body = data[: err.start]
            text = body.decode("gb18030")
            notes.append("文件末尾有一个被截断的字符，已略去")
    if _big5_likely(body):
        try:
            return body.decode("big5hkscs"), "big5hkscs", notes
        except UnicodeDecodeError:
            pass
    if text is None:
        return None
    return text, "gb18030", notes


def _big5_likely(data: bytes) -> bool:
    """GB2312 characters have both bytes ≥ 0xA1; Big5 uses trail bytes 0x40–0x7E for about 40% of its characters."""
    pairs = low_trail = 0
    i, n = 0, min(len(data), _SAMPLE)
    while i < n - 1:
        b = data[i]
        if b < 0x81:
            i += 1
            continue
        trail = data[i + 1]
        if 0x30 <= trail <= 0x39:  # a four-byte GB18030 sequence: not Big5
            return False
        pairs += 1
        low_trail += trail < 0xA1
        i += 2
    return pairs >= 20 and low_trail > 0.25 * pairs


def _try_charset_normalizer(data: bytes) -> tuple[str, str, list[str]] | None:
    from charset_normalizer import from_bytes

    best = from_bytes(data[: 1 << 20]).best()
    if best is None or best.encoding is None:
        return None
    try:
        text = data.decode(best.encoding)
    except (UnicodeDecodeError, LookupError):
        return None
    if not _plausible(text):
        return None
    return text, best.encoding, [f"文本编码无法确定，按 {best.encoding} 猜测解码"]


def _plausible(text: str) -> bool:
    """Mostly printable text: few control characters and replacement marks."""
    sample = text[:_SAMPLE]
    if not sample:
        return True
    bad = len(_CONTROL.findall(sample)) + sample.count("\ufffd")
    return bad <= 0.02 * len(sample)
