"""The `keepwarm` command.

It lives in `workers` because it is an entry point: it builds the settings, the database and
the broker, and runs an in-process worker in embedded mode.
"""

import warnings

# google.api_core warns on import once a Python version passes its end of life by Google's
# calendar (3.11: 2027-10); everything keepwarm uses still supports it, and a person running a
# command needs no such note on every run. Set before any command module imports Google.
warnings.filterwarnings("ignore", "You are using a non-supported Python", FutureWarning)

from keepwarm.workers.cli.app import app, main  # noqa: E402

__all__ = ["app", "main"]
