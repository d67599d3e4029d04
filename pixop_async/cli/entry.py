"""The ``pixop`` script's entry point: checks the ``cli`` extra before loading the command line.

The command line draws its tables and progress bars with rich, which only the
``pixop-async[cli]`` extra installs; without it the script prints one line naming the extra
instead of an ImportError traceback. This module imports nothing but the standard library.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Sequence

#: The one line printed when rich is missing.
MISSING_CLI_EXTRA = "pixop: the command line needs the 'cli' extra: pip install 'pixop-async[cli]'"


def cli_extra_installed() -> bool:
    """True when rich (the ``cli`` extra) can be imported."""
    try:
        return importlib.util.find_spec("rich") is not None
    except (ImportError, ValueError):
        return False


def main(argv: Sequence[str] | None = None) -> None:
    """Run ``pixop``; exit 2 with a one-line hint when the ``cli`` extra is missing."""
    if not cli_extra_installed():
        print(MISSING_CLI_EXTRA, file=sys.stderr)
        raise SystemExit(2)
    from .main import main as run

    run(argv)
