"""The command line: a thin skin over the Python API (every command is a call into gongkai).

One module per room of commands; each registers its commands on the one typer `app`.
"""

from __future__ import annotations

import sys

# each module registers its commands, in the order help lists them
from gongkai.cli import reports  # noqa: F401

# isort: split
from gongkai.cli import corpus  # noqa: F401

# isort: split
from gongkai.cli import web  # noqa: F401

# isort: split
from gongkai.cli import draft  # noqa: F401

# isort: split
from gongkai.cli import fetch  # noqa: F401
from gongkai.cli.common import app, fail
from gongkai.errors import GongkaiError

__all__ = ["app", "main"]


def main() -> None:
    try:
        app()
    except GongkaiError as exc:
        fail(str(exc))
        sys.exit(2)
    except KeyboardInterrupt:
        fail("已中断")
        sys.exit(130)


if __name__ == "__main__":
    main()
