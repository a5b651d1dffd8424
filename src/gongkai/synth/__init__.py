"""The project's own generator of realistic synthetic reports, each with its truth file.

    >>> from gongkai.synth import make_report
    >>> report = make_report(12, template="2021", faults=("balance",))
    >>> data = report.render("txt", "glued")
    >>> report.truth["source_errors"]
    ['requests.balance']

Everything the project ships as a sample, fixture or benchmark corpus is made here: third-party
reports are never committed.
"""

from gongkai.synth.corpus import FORMATS, write_corpus
from gongkai.synth.faults import FAULTS
from gongkai.synth.model import Synthetic, make_report

__all__ = ["FAULTS", "FORMATS", "Synthetic", "make_report", "write_corpus"]
