"""The `keepwarm` command.

It lives in `workers` because it is an entry point: it builds the settings, the database and
the broker, and runs an in-process worker in embedded mode.
"""

from workers.cli.app import app, main

__all__ = ["app", "main"]
