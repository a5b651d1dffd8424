"""Which roster body each report belongs to, and so which region: matching, confirmations, scopes.

A report's body (its body key, store/bodies.py) is matched to a roster body when both name the same
division and the same body there — 长沙市望城区教育局, 湖南省长沙市望城区教育局 and 教育局 under
430112 are one. Anything less certain (市场监管局 for 市场监督管理局, a name whose region is
ambiguous) is never taken silently: it is listed with its candidates until a person confirms it
(`confirm_match`, kept in `roster_matches`), and until then the report counts for no body.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from difflib import SequenceMatcher

from gongkai.audit.bodies import Body, match_key
from gongkai.audit.roster import roster_bodies
from gongkai.errors import GongkaiError
from gongkai.store.bodies import normalise_name

STATE_ZH = {"exact": "自动对应", "confirmed": "人工确认", "uncertain": "待确认", "unmatched": "名单中没有", "rejected": "确认不属名单"}
SIMILAR = 0.6  # share of characters in common (difflib ratio) that makes a roster body a candidate


@dataclass(slots=True)
class Match:
    report_key: str
    report_name: str  # the spelling most of its reports use
    roster_name: str | None
    state: str  # exact | confirmed | uncertain | unmatched | rejected
    candidates: list[tuple[str, float]] = field(default_factory=list)
    years: list[int] = field(default_factory=list)

    @property
    def state_zh(self) -> str:
        return STATE_ZH[self.state]

    @property
    def counted(self) -> bool:
        return self.roster_name is not None and self.state in ("exact", "confirmed")

    def to_dict(self) -> dict:
        return {"report_key": self.report_key, "report_name": self.report_name, "roster_name": self.roster_name, "state": self.state,
                "state_zh": self.state_zh, "candidates": [{"name": n, "score": round(s, 2)} for n, s in self.candidates],
                "years": self.years}  # fmt: skip


@dataclass(slots=True)
class Scope:
    """Everything derived from the roster and the store's reports, computed once per change of either."""

    bodies: list[Body]
    matches: list[Match]
    keys_of: dict[str, set[str]]  # roster name → report keys counted for it
    body_of_key: dict[str, Body]
    lineage_key: dict[str, str | None]  # lineage → report key
    lineage_codes: dict[str, list[str]]


_cache: dict[str, tuple[tuple, Scope]] = {}

_FINGERPRINT = """
SELECT (SELECT count(*) FROM roster), (SELECT max(imported_at) FROM roster), (SELECT count(*) FROM roster_matches),
       (SELECT max(done_at) FROM roster_matches), (SELECT count(*) FROM reports), (SELECT sum(hash(body_key)) FROM reports), (SELECT count(*) FROM report_versions),
       (SELECT count(*) FROM bodies), (SELECT count(*) FROM name_aliases)
"""


def scope(store) -> Scope:
    """The matching of reports to the roster, the region codes of every report lineage (cached until the store changes)."""
    from gongkai.review.versions import sync_versions

    sync_versions(store)
    con = store.con
    fingerprint = tuple(con.execute(_FINGERPRINT).fetchone()) + (hash(con.execute("SELECT max(registered_at) FROM report_versions").fetchone()),)
    key = str(getattr(store, "path", id(store)))
    hit = _cache.get(key)
    if hit is not None and hit[0] == fingerprint:
        return hit[1]
    built = _build(store)
    _cache[key] = (fingerprint, built)
    return built


def _report_bodies(con) -> list[tuple[str, str, list[int]]]:
    """(body key, most used spelling, years) of every body the store has reports of."""
    rows = con.execute(
        "SELECT body_key, mode(agency), list(DISTINCT year ORDER BY year) FILTER (WHERE year IS NOT NULL) FROM reports "
        "WHERE body_key IS NOT NULL GROUP BY body_key ORDER BY body_key").fetchall()  # fmt: skip
    return [(k, n, list(y or [])) for k, n, y in rows]


def _build(store) -> Scope:
    from gongkai.regions import division_of

    con = store.con
    bodies = roster_bodies(store)
    by_name = {b.name: b for b in bodies}
    confirmed = {key: name for key, name in con.execute(
        "SELECT report_key, roster_name FROM roster_matches QUALIFY row_number() OVER (PARTITION BY report_key ORDER BY done_at DESC, rowid DESC) = 1"
    ).fetchall()}  # fmt: skip
    matches = []
    if bodies and bodies[0].source == "corpus":
        by_key = {b.report_key: b for b in bodies}
        for key, name, years in _report_bodies(con):
            body = by_key.get(key)
            matches.append(Match(key, name, body.name if body else None, "exact" if body else "unmatched", [], years))
    else:
        index: dict[tuple, list[Body]] = {}
        for body in bodies:
            index.setdefault(match_key(body.name, body.division), []).append(body)
        for key, name, years in _report_bodies(con):
            if key in confirmed:
                roster_name = confirmed[key] if confirmed[key] in by_name else None
                matches.append(Match(key, name, roster_name, "confirmed" if roster_name else "rejected", [], years))
                continue
            mk = match_key(key, None)
            exact = index.get(mk, [])
            if len(exact) == 1:
                matches.append(Match(key, name, exact[0].name, "exact", [], years))
                continue
            candidates = _candidates(mk, key, bodies, exact)
            matches.append(Match(key, name, None, "uncertain" if candidates else "unmatched", candidates, years))
    keys_of: dict[str, set[str]] = {}
    body_of_key: dict[str, Body] = {}
    for m in matches:
        if m.counted:
            keys_of.setdefault(m.roster_name, set()).add(m.report_key)
            body_of_key[m.report_key] = by_name[m.roster_name] if m.roster_name in by_name else next(b for b in bodies if b.name == m.roster_name)
    lineage_key: dict[str, str | None] = {}
    lineage_codes: dict[str, list[str]] = {}
    rows = con.execute(
        "SELECT v.lineage, coalesce(r.body_key, v.body_key), v.agency FROM current_versions v LEFT JOIN reports r USING (sha256)").fetchall()
    for lineage, key, agency in rows:
        lineage_key[lineage] = key
        body = body_of_key.get(key) if key else None
        if body is not None:
            lineage_codes[lineage] = list(body.region_codes)
        else:
            division = division_of(normalise_name(agency)) if agency else None
            lineage_codes[lineage] = list(dict.fromkeys(d.code for d in division.chain() if d.code)) if division else []
    return Scope(bodies, matches, keys_of, body_of_key, lineage_key, lineage_codes)


def _candidates(mk: tuple, key: str, bodies: list[Body], tied: list[Body]) -> list[tuple[str, float]]:
    """Roster bodies that may be this report's: tied on the key, or at the same division with a similar name."""
    division, rest = mk
    scored = [(b.name, 1.0) for b in tied]
    for body in bodies:
        if body in tied:
            continue
        bk = match_key(body.name, body.division)
        if division is not None and bk[0] == division:
            a, b = rest, bk[1]
        elif division is None:
            a, b = key, normalise_name(body.name)
        else:
            continue
        if not a or not b:
            continue
        score = SequenceMatcher(None, a, b).ratio()
        if a in b or b in a:
            score = max(score, 0.75)
        if score >= SIMILAR:
            scored.append((body.name, score))
    scored.sort(key=lambda x: (-x[1], x[0]))
    return scored[:3]


def lineage_codes(store) -> dict[str, list[str]]:
    """lineage → the region codes of its body (roster body when matched, else the division its name starts with)."""
    return scope(store).lineage_codes


def find_body(store, name: str) -> Body | None:
    """A roster body by its name (or a spelling that normalises to it)."""
    bodies = scope(store).bodies
    exact = next((b for b in bodies if b.name == name), None)
    if exact is not None:
        return exact
    norm = normalise_name(name)
    same = [b for b in bodies if normalise_name(b.name) == norm or b.report_key == norm]
    return same[0] if len(same) == 1 else None


def body_lineages(store, name: str) -> set[str]:
    """The lineages of a body's reports: a roster body (the reports matched to it), or an agency name as printed."""
    s = scope(store)
    body = find_body(store, name)
    keys = set(s.keys_of.get(body.name, set())) if body else set()
    if body is None:
        keys = {m.report_key for m in s.matches if m.report_name == name or m.report_key == normalise_name(name)}
        if not keys:
            raise GongkaiError(f"名单和库中都没有这个机关：{name}")
    return {lineage for lineage, key in s.lineage_key.items() if key in keys}


def pending_matches(store) -> list[Match]:
    """Reports whose body is not certainly a roster body (uncertain, or on no roster at all)."""
    return [m for m in scope(store).matches if m.state in ("uncertain", "unmatched")]


def confirm_match(store, report: str, roster_name: str | None, by: str = "") -> Match:
    """A person says the report body `report` (its body key or a spelling) is roster body `roster_name` (None: none)."""
    from gongkai.review.log import now, write
    from gongkai.review.model import actor_name

    actor = actor_name(by)
    s = scope(store)
    norm = normalise_name(report)
    found = [m for m in s.matches if m.report_key == report or m.report_name == report or m.report_key == norm]
    if not found:
        raise GongkaiError(f"库中没有以“{report}”为名的报告机关（用 gongkai roster matches 查看）")
    match = found[0]
    if roster_name is not None:
        body = find_body(store, roster_name)
        if body is None or body.source != "roster":
            raise GongkaiError(f"名单中没有这个机关：{roster_name}")
        roster_name = body.name
    con = store.con
    when = now()
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("INSERT INTO roster_matches (report_key, roster_name, actor, done_at) VALUES (?, ?, ?, ?)", [match.report_key, roster_name, actor, when])
        write(con, actor, "match", target=match.report_key, old=match.roster_name, new=roster_name or "（不属名单）",
              detail=f"报告机关“{match.report_name}”", at=when)  # fmt: skip
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return Match(match.report_key, match.report_name, roster_name, "confirmed" if roster_name else "rejected", [], match.years)
