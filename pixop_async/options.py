"""Per-call request options: what ``client.with_options(...)`` changes for the calls of a view.

A :class:`RequestOptions` is immutable and validated when it is made, so a bad value fails
before any request with a message naming the option and the rule. :func:`apply_options` is
the pure step that merges the extra headers and query parameters into one request.
"""

from __future__ import annotations

import contextlib
import contextvars
import enum
import math
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any

import attrs

from ._wire import CREDENTIAL_HEADERS, FRAMING_HEADERS
from .errors import InvalidRequestError
from .retry import RetryPolicy
from .validation import header_mapping

#: Headers an ``extra_headers`` mapping may never set. Credentials come from the client's
#: auth alone (an override would silently act as someone else, and would escape the
#: scrubbing of error bodies); framing headers belong to the HTTP layer.
REFUSED_HEADERS = CREDENTIAL_HEADERS | FRAMING_HEADERS | frozenset({"proxy-authorization"})


class _NotGiven(enum.Enum):
    NOT_GIVEN = "NOT_GIVEN"

    def __repr__(self) -> str:
        return "NOT_GIVEN"


#: Marks an option a ``with_options`` call leaves as it was.
NOT_GIVEN = _NotGiven.NOT_GIVEN
NotGiven = _NotGiven


def _timeout(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidRequestError(
            "timeout", f"must be a number of seconds or None, not {type(value).__name__}"
        )
    if not (math.isfinite(value) and value > 0):
        raise InvalidRequestError("timeout", f"must be > 0 seconds and finite, got {value!r}")
    return float(value)


def _headers(value: Any) -> Mapping[str, str]:
    headers = header_mapping("extra_headers", value)
    for name in headers:
        if name.lower() in REFUSED_HEADERS:
            raise InvalidRequestError(
                "extra_headers",
                f"may not set {name!r}: credentials come from the client's auth "
                "(api_key=, email=/password=) and framing headers from the HTTP layer",
            )
    return MappingProxyType(headers)  # read-only: no way around these checks afterwards


def _query(value: Any) -> Mapping[str, str | int | float | bool]:
    if not isinstance(value, Mapping):
        raise InvalidRequestError("extra_query", f"must be a mapping, not {type(value).__name__}")
    query: dict[str, str | int | float | bool] = {}
    for key, item in value.items():
        if not isinstance(key, str) or not key:
            raise InvalidRequestError("extra_query", f"{key!r} is not a non-empty str name")
        if not isinstance(item, str | int | float | bool):
            raise InvalidRequestError(
                "extra_query",
                f"{key!r} must have a str, int, float or bool value, not {type(item).__name__}",
            )
        if isinstance(item, float) and not math.isfinite(item):
            raise InvalidRequestError("extra_query", f"{key!r} must be a finite number")
        query[key] = item
    return MappingProxyType(query)


def _masked(headers: Mapping[str, str]) -> str:
    """``extra_headers`` for a repr: names only, since a value may be a token."""
    return repr(dict.fromkeys(headers, "***"))


@attrs.frozen
class RequestOptions:
    """Options applied to every API call of a client view (see ``with_options``).

    - ``timeout``: bound of each whole API call in seconds — waiting for the rate budget,
      every attempt and every retry wait; past it the call raises
      :class:`~pixop_async.errors.APITimeoutError`. ``None``: the client's default (the
      :func:`~pixop_async.call_timeout` block, else ``ClientConfig.call_timeout``).
    - ``retry``: the :class:`~pixop_async.RetryPolicy` of the view's calls (``None``: the
      client's ``ClientConfig.retry``).
    - ``extra_headers``: sent with every API call, replacing an SDK default of the same name
      (``Accept``, ``User-Agent``). Credential and framing headers are refused
      (:data:`REFUSED_HEADERS`).
    - ``extra_query``: added to every API call's query string; a name the SDK itself sets
      for that call is refused when the call is made, before it is sent.
    """

    timeout: float | None = attrs.field(default=None, converter=_timeout)
    retry: RetryPolicy | None = attrs.field(default=None)
    extra_headers: Mapping[str, str] = attrs.field(factory=dict, converter=_headers, repr=_masked)
    extra_query: Mapping[str, str | int | float | bool] = attrs.field(
        factory=dict, converter=_query, repr=lambda query: repr(dict(query))
    )

    @retry.validator
    def _check_retry(self, _attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is not None and not isinstance(value, RetryPolicy):
            raise InvalidRequestError(
                "retry", f"must be a RetryPolicy or None, not {type(value).__name__}"
            )

    def merged(
        self,
        *,
        timeout: float | NotGiven | None = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
        retry: RetryPolicy | NotGiven | None = NOT_GIVEN,
        extra_headers: Mapping[str, str] | NotGiven = NOT_GIVEN,
        extra_query: Mapping[str, str | int | float | bool] | NotGiven = NOT_GIVEN,
        base_retry: RetryPolicy,
    ) -> RequestOptions:
        """These options with the given ones laid over: ``timeout`` and the retry policy are
        replaced, headers and query parameters are added (a later value wins per name).
        ``max_retries`` is ``base_retry`` (the policy in force) allowing that many retries."""
        changes: dict[str, Any] = {}
        if timeout is not NOT_GIVEN:
            changes["timeout"] = timeout
        if max_retries is not NOT_GIVEN:
            if retry is not NOT_GIVEN:
                raise InvalidRequestError("max_retries", "give max_retries or retry, not both")
            if isinstance(max_retries, bool) or not isinstance(max_retries, int):
                raise InvalidRequestError(
                    "max_retries", f"must be an int >= 0, not {type(max_retries).__name__}"
                )
            if max_retries < 0:
                raise InvalidRequestError("max_retries", f"must be >= 0, got {max_retries}")
            changes["retry"] = attrs.evolve(self.retry or base_retry, max_attempts=max_retries + 1)
        elif retry is not NOT_GIVEN:
            changes["retry"] = retry
        if extra_headers is not NOT_GIVEN:
            # validated before merging so the error names the caller's own header
            changes["extra_headers"] = {**self.extra_headers, **_headers(extra_headers)}
        if extra_query is not NOT_GIVEN:
            changes["extra_query"] = {**self.extra_query, **_query(extra_query)}
        return attrs.evolve(self, **changes)


DEFAULT_OPTIONS = RequestOptions()


def apply_options(
    options: RequestOptions,
    params: Mapping[str, Any] | None,
    headers: Mapping[str, str] | None,
) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """One request's query parameters and headers with ``options``' extras merged in.

    Extra headers replace the request's header of the same name (case-insensitively); an
    extra query name the call already sets raises :class:`~pixop_async.errors.InvalidRequestError`
    (the SDK validated its own value, and paging would break if it were replaced)."""
    merged_headers = dict(headers or {})
    if options.extra_headers:
        names = {name.lower() for name in options.extra_headers}
        merged_headers = {k: v for k, v in merged_headers.items() if k.lower() not in names}
        merged_headers.update(options.extra_headers)
    if not options.extra_query:
        return (dict(params) if params is not None else None), merged_headers
    merged_params = dict(params or {})
    for key, value in options.extra_query.items():
        if merged_params.get(key) is not None:
            raise InvalidRequestError(
                "extra_query", f"may not set {key!r}: this call sets that parameter itself"
            )
        merged_params[key] = value
    return merged_params, merged_headers


_call_timeout: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "pixop_call_timeout", default=None
)


@contextlib.contextmanager
def call_timeout(seconds: float | None) -> Iterator[None]:
    """Bound every API call made inside the block to ``seconds`` (the whole call: budget
    wait, attempts, retry waits), overriding ``ClientConfig.call_timeout``; past it a call
    raises :class:`~pixop_async.errors.APITimeoutError`. ``None`` restores the default."""
    if seconds is not None and not seconds > 0:
        raise ValueError("call_timeout must be > 0 seconds or None")
    token = _call_timeout.set(seconds)
    try:
        yield
    finally:
        _call_timeout.reset(token)


def current_call_timeout() -> float | None:
    """The bound set by the innermost :func:`call_timeout` block, if any."""
    return _call_timeout.get()
