"""How a failed command reports itself: the human line on stderr and, with ``--json``, one
JSON object on stdout.

With ``--json`` a consumer parses stdout, so a failure must leave something there too:
``{"error": {"type": ..., "message": ..., ...}}``, carrying only the attributes the
exception really has (``status``, ``error_code``, ``request_id``... for an API status error;
``field`` and ``rule`` for input refused before any request; ``reason`` for a transport
error). :func:`error_record` is the pure step; the secrets the command was given (API key,
password, queue URL password) are masked in both outputs.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import sys
import unicodedata
from collections.abc import Iterable
from typing import Any

from yarl import URL

from ..errors import (
    APIConnectionError,
    APIStatusError,
    InvalidRequestError,
    LocalFileError,
    transport_reason,
)

MASK = "***"
#: Commands whose Ctrl+C is their normal end (a server, a listener): no error object.
STOPPED_BY_CTRL_C = frozenset({("emulator", None), ("webhooks", "listen")})
#: Flags (argparse destinations) and environment variables that carry secrets.
SECRET_FLAGS = ("api_key", "password", "secret_access_key")
SECRET_ENV = ("PIXOP_API_KEY", "PIXOP_PASSWORD", "PIXOP_S3_SECRET_ACCESS_KEY")
#: Shortest value treated as a secret when masking (shorter ones would mask ordinary words).
_MIN_SECRET = 4
#: In a command line argparse refused (so no flag is known for sure), a word that names a
#: secret: the value after it (or after its ``=``) is masked, a typo'd flag's included.
_SECRET_WORD = re.compile(r"\A--?[\w-]*(key|password|secret|token|queue)[\w-]*\Z", re.I)
#: Unicode categories a terminal may act on or that fake line breaks and text direction.
_UNPRINTABLE = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})


def printable(text: str) -> str:
    """``text`` safe for a terminal, on one line: control and format characters (escape
    sequences, CR/LF, NUL, bidi overrides, line separators) shown escaped, as ``\\x1b``."""
    if text.isprintable():
        return text
    return "".join(
        char if char == " " or unicodedata.category(char) not in _UNPRINTABLE else ascii(char)[1:-1]
        for char in text
    )


def error_line(exc: BaseException) -> str:
    """One line for an expected failure: type, message and, for transport errors, the reason."""
    text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, APIConnectionError):
        reason = transport_reason(exc)
        if reason and reason.lower() not in text.lower():
            text += f" ({reason.lower()})"
    return text


def _status_fields(exc: APIStatusError) -> dict[str, Any]:
    fields: dict[str, Any] = {"status": exc.status, "attempts": exc.attempts}
    for name in ("error_code", "request_id", "request_path"):
        value = getattr(exc, name)
        if isinstance(value, str) and value:
            fields[name] = value
    problems = [
        {key: item[key] for key in ("field", "message") if isinstance(item.get(key), str)}
        for item in exc.validation_errors
        if isinstance(item, dict)
    ]
    if problems:
        fields["validation_errors"] = problems
    return fields


def error_record(exc: BaseException, message: str | None = None) -> dict[str, Any]:
    """The ``{"error": {...}}`` object for ``exc``; ``message`` replaces ``str(exc)``."""
    error: dict[str, Any] = {
        "type": type(exc).__name__,
        "message": str(exc) if message is None else message,
    }
    if isinstance(exc, APIStatusError):
        error.update(_status_fields(exc))
    elif isinstance(exc, APIConnectionError):
        error["attempts"] = exc.attempts
        error["request_sent"] = exc.request_sent
        reason = transport_reason(exc)
        if reason:
            error["reason"] = reason
    elif isinstance(exc, InvalidRequestError):
        error.update(field=exc.field, rule=exc.rule)
    if isinstance(exc, LocalFileError):
        error["path"] = exc.path
    if isinstance(exc, OSError) and exc.errno:
        error["errno"] = exc.errno
    return {"error": error}


def secrets_of(args: argparse.Namespace | None, argv: Iterable[str] = ()) -> list[str]:
    """The secret values a command was given by flag or environment; without parsed
    ``args`` (a refused command line), the values ``argv`` gives after secret-looking words."""
    values = [getattr(args, name, None) for name in SECRET_FLAGS]
    values += [os.environ.get(name) for name in SECRET_ENV]
    queues = [getattr(args, "queue", None), os.environ.get("PIXOP_QUEUE")]
    if args is None:
        words = list(argv)
        for word, following in zip(words, [*words[1:], None], strict=True):
            flag, equals, value = word.partition("=")
            if _SECRET_WORD.match(flag):
                values.append(value if equals else following)
            if "://" in word:
                queues.append(value if equals else word)
    for queue in queues:
        if isinstance(queue, str) and queue:
            try:
                values.append(URL(queue).password)
            except ValueError:
                continue
    return [value.strip() for value in values if isinstance(value, str)]


def mask(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret value replaced by ``***`` (longest first)."""
    for secret in sorted(set(secrets), key=len, reverse=True):
        if len(secret) >= _MIN_SECRET:
            text = text.replace(secret, MASK)
    return text


def wants_json(args: argparse.Namespace | None, argv: Iterable[str] | None = None) -> bool:
    """True when the command was run with ``--json`` (read from ``argv`` when the arguments
    could not be parsed)."""
    if args is not None:
        return bool(getattr(args, "json", False))
    return argv is not None and "--json" in list(argv)


def stopped_normally(args: argparse.Namespace) -> bool:
    """True for a command whose Ctrl+C is how it is meant to end."""
    command = getattr(args, "command", None)
    action = getattr(args, "action", None) if command == "webhooks" else None
    return (command, action) in STOPPED_BY_CTRL_C


def _masked(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, str):
        return mask(value, secrets)
    if isinstance(value, dict):
        return {key: _masked(item, secrets) for key, item in value.items()}
    if isinstance(value, list):
        return [_masked(item, secrets) for item in value]
    return value


def emit_error(record: dict[str, Any], secrets: Iterable[str]) -> None:
    """Print the error object as one line of JSON on stdout, secrets masked (in the values,
    before encoding: an escaped secret would not match afterwards)."""
    # ASCII (as every --json output): any stdout encoding carries it, and a lone surrogate
    # from undecodable bytes cannot fail the write
    text = json.dumps(_masked(record, list(secrets)), default=str)
    try:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    except BrokenPipeError:
        drop_stdout()


def drop_stdout() -> None:
    """After a write to a stdout nobody reads any more (``| head -c0``): send the rest, and
    the interpreter's last flush, to the null device, so no traceback follows."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
