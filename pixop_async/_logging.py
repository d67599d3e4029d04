"""The package logger: silent by default, ``PIXOP_LOG=debug|info`` prints it to stderr.

Every module logs under ``pixop_async.*``. A library must not configure logging for its
application, so the package logger only gets a ``NullHandler`` (no "no handlers could be
found" noise, records still propagate to whatever the application set up). The environment
switch is for quick debugging without touching code: it adds one stderr handler at the level
named.
"""

from __future__ import annotations

import logging
import os
import warnings

LOG_ENV = "PIXOP_LOG"
LEVELS = {"debug": logging.DEBUG, "info": logging.INFO}
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def level_from_env(value: str | None) -> int | None:
    """The logging level ``PIXOP_LOG`` asks for, None when unset or empty.

    Raises ValueError naming the accepted values for anything else.
    """
    if value is None or not value.strip():
        return None
    try:
        return LEVELS[value.strip().lower()]
    except KeyError:
        raise ValueError(
            f"{LOG_ENV} must be one of {', '.join(sorted(LEVELS))}, got {value[:20]!r}"
        ) from None


def configure(environ: dict[str, str] | None = None) -> logging.Logger:
    """Install the NullHandler, and the stderr handler when ``PIXOP_LOG`` asks for one."""
    logger = logging.getLogger("pixop_async")
    if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
        logger.addHandler(logging.NullHandler())
    env = os.environ if environ is None else environ
    try:
        level = level_from_env(env.get(LOG_ENV))
    except ValueError as exc:
        warnings.warn(str(exc), stacklevel=2)
        return logger
    if level is not None and not any(getattr(h, "_pixop_env", False) for h in logger.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(FORMAT))
        handler._pixop_env = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
        logger.setLevel(level)
    return logger
