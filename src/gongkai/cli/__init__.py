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
from gongkai.cli import audit  # noqa: F401

# isort: split
from gongkai.cli import review  # noqa: F401

# isort: split
from gongkai.cli import fetch  # noqa: F401
from gongkai.cli.common import app, fail
from gongkai.cli.conventions import click_errors, usage_error
from gongkai.errors import GongkaiError

__all__ = ["app", "main"]


def main(args: list[str] | None = None) -> None:
    """The `gongkai` command: every failure is one Chinese line on stderr and a non-zero exit."""
    import typer

    command = typer.main.get_command(app)
    try:
        code = command.main(args, prog_name="gongkai", standalone_mode=False)
    except GongkaiError as exc:
        fail(str(exc))
        sys.exit(2)
    except click_errors.NoArgsIsHelpError as exc:  # `gongkai`, `gongkai draft`: the help, nothing wrong
        typer.echo(exc.format_message())
        sys.exit(0)
    except click_errors.UsageError as exc:
        fail(usage_error(exc))
        sys.exit(2)
    except (KeyboardInterrupt, typer.Abort):
        code = 130
    if code == 130:
        fail("已中断")
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
