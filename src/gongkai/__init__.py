"""gongkai (公开): 政府信息公开工作年度报告 → verified, structured data.

    >>> import gongkai
    >>> report = gongkai.parse("报告.docx")
    >>> report.cells["requests.new_received.total"], [f.rule for f in report.errors]
"""

from gongkai.errors import GongkaiError, UnreadableError
from gongkai.pipeline import parse
from gongkai.report import Finding, Meta, Report, Section

__all__ = ["parse", "Report", "Finding", "Meta", "Section", "GongkaiError", "UnreadableError"]
__version__ = "0.1.0"
