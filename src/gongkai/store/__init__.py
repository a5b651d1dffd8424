"""store/: the corpus in DuckDB (+ Parquet shards): batch parsing, bodies across years, corpus rules.

    >>> from gongkai.store import run_batch, BatchOptions
    >>> summary = run_batch(["reports/"], "corpus.duckdb", BatchOptions(workers=4))
"""

from gongkai.store.batch import BatchOptions, BatchSummary, run_batch
from gongkai.store.db import Store

__all__ = ["BatchOptions", "BatchSummary", "Store", "run_batch"]
