"""audit/: the January audit — roster, region tree, matching, coverage, summary, rectification notices — over the store.

Plain functions the command line (cli/audit.py) and the web app both call:

    >>> from gongkai.store import Store
    >>> from gongkai import audit
    >>> with Store("corpus.duckdb") as store:
    ...     audit.import_roster(store, "名单.xlsx", by="张三")
    ...     rows = audit.coverage(store, 2024, region="430112")      # one row per roster body
    ...     audit.totals(rows)                                      # roll-ups per division
    ...     audit.write_notice(store, "长沙市望城区教育局", 2024, "通知.docx")
"""

from gongkai.audit.bodies import TYPE_ZH, Body, RegionNode, region_tree
from gongkai.audit.coverage import COUNT_ZH, REVIEW_ZH, STATUS_ZH, CoverageRow, RegionTotal, Summary, coverage, summary, totals
from gongkai.audit.notice import (
    Notice,
    NoticeItem,
    build_notice,
    build_notices,
    notice_docx,
    notice_file_name,
    notice_pdf,
    record_notices,
    render_notice,
    write_notice,
    write_notices,
)
from gongkai.audit.roster import RosterError, RosterImport, has_roster, import_roster, roster_bodies
from gongkai.audit.scope import Match, body_lineages, confirm_match, find_body, lineage_codes, pending_matches, scope

__all__ = [
    "COUNT_ZH", "REVIEW_ZH", "STATUS_ZH", "TYPE_ZH", "Body", "CoverageRow", "Match", "Notice", "NoticeItem", "RegionNode",
    "RegionTotal", "RosterError", "RosterImport", "Summary", "body_lineages", "build_notice", "build_notices", "confirm_match", "coverage",
    "find_body", "has_roster", "import_roster", "lineage_codes", "notice_docx", "notice_file_name", "notice_pdf", "pending_matches",
    "record_notices", "region_tree", "render_notice", "roster_bodies", "scope", "summary", "totals", "write_notice", "write_notices",
]  # fmt: skip


def tree(store):
    """The region tree of the roster (or of the corpus's bodies without a roster)."""
    return region_tree(scope(store).bodies)
