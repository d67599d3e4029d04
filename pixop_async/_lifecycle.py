"""Lifecycle shared by the clients and other closeable objects: ``async with`` and close().

:class:`AsyncClosing` gives any object with an async ``close()`` the ``async with`` protocol;
:class:`HttpClientLifecycle` adds what both API clients expose about their
:class:`~pixop_async._session.HttpSession` (``close``, ``closed``, ``http``) and their
per-call option views (``with_options``).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from types import TracebackType
from typing import ClassVar, TypeVar

from ._session import HttpSession
from .options import DEFAULT_OPTIONS, NOT_GIVEN, NotGiven, RequestOptions
from .retry import RetryPolicy

_Self = TypeVar("_Self", bound="AsyncClosing")
_Client = TypeVar("_Client", bound="HttpClientLifecycle")


class AsyncClosing:
    """``async with obj:`` returns ``obj`` and awaits ``obj.close()`` on the way out."""

    async def close(self) -> None:
        raise NotImplementedError

    async def __aenter__(self: _Self) -> _Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


class HttpClientLifecycle(AsyncClosing):
    """Base of the API clients: they own (or borrow) one :class:`HttpSession` in ``_http``."""

    _http: HttpSession
    #: Options of this client's API calls (a view's own; the default on a client).
    _options: RequestOptions = DEFAULT_OPTIONS
    #: The client a view was made from (``None`` on a client itself).
    _view_of: HttpClientLifecycle | None = None
    #: Lazily made attributes every view must share; made before the first view is.
    _shared_lazy: ClassVar[tuple[str, ...]] = ()

    def with_options(
        self: _Client,
        *,
        timeout: float | NotGiven | None = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
        retry: RetryPolicy | NotGiven | None = NOT_GIVEN,
        extra_headers: Mapping[str, str] | NotGiven = NOT_GIVEN,
        extra_query: Mapping[str, str | int | float | bool] | NotGiven = NOT_GIVEN,
    ) -> _Client:
        """A view of this client whose API calls use the given options.

        ``px.with_options(timeout=5, max_retries=0).videos.get(video_id)``. The view shares
        everything else with this client — the aiohttp session and its connection pool,
        the credentials, the rate budget and the transfer scheduler — so making one costs
        no connection and views can be made per call. Closing a view does nothing; close
        the client. A view of a view starts from the view's options.

        - ``timeout``: seconds bounding each whole API call, retries and waits for the rate
          budget included (:class:`~pixop_async.errors.APITimeoutError` past it); it wins
          over a :func:`~pixop_async.call_timeout` block and ``ClientConfig.call_timeout``.
          ``None``: back to those defaults.
        - ``max_retries``: retries after the first attempt (``0``: none), on the policy in
          force; or ``retry=``, a whole :class:`~pixop_async.RetryPolicy` (not both).
        - ``extra_headers``: sent with every API call, replacing an SDK default of the same
          name. Credential headers (``Authorization``, ``X-API-Key``, ``Cookie``...) and
          framing headers (``Host``, ``Content-Length``...) are refused:
          the client's auth alone decides who a call acts as.
        - ``extra_query``: query parameters added to every API call; one the call sets
          itself is refused when that call is made, before it is sent.

        On :class:`~pixop_async.PixopLegacy`, the login a view's call triggers (fetching
        or refreshing the session JWT) is one of the view's API calls: all its options
        apply to it, ``timeout``, retry policy, ``extra_headers`` and ``extra_query`` alike,
        as to ``view.accounts.create_token()``; the Basic credentials stay the client's.

        Options govern API calls only. Transfers (the bytes of uploads and downloads, sent
        to storage hosts) keep their :class:`~pixop_async.TransferConfig` limits and never
        carry the extra headers or query parameters. Bad values raise
        :class:`~pixop_async.errors.InvalidRequestError` (a ``ValueError``) here, naming
        the option and the rule.
        """
        options = self._options.merged(
            timeout=timeout,
            max_retries=max_retries,
            retry=retry,
            extra_headers=extra_headers,
            extra_query=extra_query,
            base_retry=self._http.config.retry,
        )
        for name in self._shared_lazy:
            getattr(self, name)
        view = copy.copy(self)
        state = vars(view)
        for name, value in list(state.items()):
            if getattr(value, "_client", None) is self:
                del state[name]  # a resource bound to this client: the view makes its own
        view._options = options
        view._view_of = self._view_of or self
        return view

    @property
    def options(self) -> RequestOptions:
        """The per-call options of this client or view (see :meth:`with_options`)."""
        return self._options

    async def close(self) -> None:
        """Release the HTTP session (if the client owns it). On a view, nothing: the view
        borrows its client's session, which only the client closes."""
        if self._view_of is not None:
            return
        await self._http.close()

    @property
    def closed(self) -> bool:
        return self._http.closed

    @property
    def http(self) -> HttpSession:
        """The session layer (shared with the transfer engine and advanced callers)."""
        return self._http
