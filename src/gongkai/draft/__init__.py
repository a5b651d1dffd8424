"""draft/: a clerk's report before it is published — filled in, checked as it is typed, written out.

    >>> d = draft_from_report(gongkai.parse("去年的报告.docx").to_dict())   # or Draft(meta=…, cells=…)
    >>> check_draft(d, db="corpus.duckdb").findings     # the single-report rules, plus last year's carry-over
    >>> render_docx(d)                                   # the report in the official layout

The form of the web app, the Excel sheet of `gongkai draft template` and the JSON of `gongkai parse`
all become one `Draft`; the checks are the rule engine's own (rules.check), never a copy.
"""

from gongkai.draft.check import DraftCheck, check_draft, previous_report
from gongkai.draft.model import Draft, DraftError, draft_from_report, load_draft, read_draft
from gongkai.draft.render import render_docx, render_pdf
from gongkai.draft.sheet import read_sheet, write_sheet

__all__ = ["Draft", "DraftCheck", "DraftError", "check_draft", "draft_from_report", "load_draft", "previous_report", "read_draft",
           "read_sheet", "render_docx", "render_pdf", "write_sheet"]
