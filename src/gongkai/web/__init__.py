"""web/: the reviewer app (FastAPI + Jinja2) over the same functions the CLI calls."""
