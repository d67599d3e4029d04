"""``Pixop``: the client for the current REST API."""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import aiohttp

from ._env import api_key_setting, base_url_setting
from ._lifecycle import HttpClientLifecycle
from ._session import ApiResponse, HttpSession
from .auth import ApiKeyAuth, Auth, BasicAuth, mask
from .budget import RequestBudget
from .config import API_KEY_ENV, BASE_URL_ENV, DEFAULT_BASE_URL, ClientConfig
from .errors import MissingCredentialsError
from .ratelimit import RateLimit

if TYPE_CHECKING:
    # Resources (and the model classes they decode into) load when a property is first
    # read, so a client costs only the resources a program uses (issue #12).
    from .resources.account import AccountResource, TeamsResource
    from .resources.admin import AdminResource
    from .resources.api_keys import ApiKeysResource
    from .resources.billing import BillingResource
    from .resources.downloads import DownloadsResource
    from .resources.exports import ExportsResource
    from .resources.imports import ImportsResource
    from .resources.locations import InputLocationsResource, OutputLocationsResource
    from .resources.processing import ProcessingResource
    from .resources.processing_configurations import ProcessingConfigurationsResource
    from .resources.projects import ProjectsResource
    from .resources.videos import VideosResource
    from .resources.webhooks import WebhooksResource
    from .transfer.config import TransferConfig
    from .transfer.s3_upload import S3UploadResult
    from .transfer.scheduler import Scheduler


class Pixop(HttpClientLifecycle):
    """Async client for Pixop's current REST API.

    Use it as ``async with Pixop(api_key=...) as px:``; the aiohttp session is created
    lazily inside the running loop and closed on exit. Pass ``session=`` to reuse an
    aiohttp session you own (it is never closed by the client). ``email``/``password`` are
    only needed for API-key management, which the API authenticates with HTTP Basic.

    Without ``api_key=`` the key is read from ``PIXOP_API_KEY``, and without ``base_url=``
    the URL from ``PIXOP_BASE_URL`` (else production); explicit arguments win. A client
    with no key at all (and no ``email`` for Basic auth) is refused here, at construction,
    with :class:`~pixop_async.errors.MissingCredentialsError`; pass
    ``require_api_key=False`` for a deliberately keyless client (for example one that
    gives ``pixop_api_key=`` per call to the Mimir admin API).
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        email: str | None = None,
        password: str | None = None,
        config: ClientConfig | None = None,
        session: aiohttp.ClientSession | None = None,
        transfer: TransferConfig | None = None,
        require_api_key: bool = True,
    ) -> None:
        api_key = api_key_setting(api_key, API_KEY_ENV)
        if api_key is None and email is None and require_api_key:
            raise MissingCredentialsError(
                f"no API key: pass Pixop(api_key=...) or set {API_KEY_ENV} "
                "(require_api_key=False makes a keyless client on purpose)"
            )
        self.base_url = base_url_setting(base_url, BASE_URL_ENV, DEFAULT_BASE_URL)
        self.config = config or ClientConfig()
        if transfer is not None:
            self.transfer_config = transfer
        self._api_key_auth = ApiKeyAuth(api_key) if api_key else None
        self._basic_auth = BasicAuth(email, password or "") if email else None
        self._http = HttpSession(self.config, session=session)
        self._http.set_api_base(self.base_url)
        self._http.budget = RequestBudget(
            max_in_flight=self.config.connection_limit,
            max_reset=self.config.max_rate_limit_reset,
            burst_fraction=0.05,
        )

    def __repr__(self) -> str:
        key = mask(self._api_key_auth._api_key) if self._api_key_auth else None
        return f"Pixop(base_url={self.base_url!r}, api_key={key!r})"

    @functools.cached_property
    def transfer_config(self) -> TransferConfig:
        """Limits of this client's downloads and uploads (see :attr:`transfers`); the
        default one is built on first use, so a client that never transfers a file does not
        load the transfer engine."""
        from .transfer.config import TransferConfig

        return TransferConfig()

    @property
    def rate_limit(self) -> RateLimit | None:
        """The latest ``X-RateLimit-*`` window reported by the API, if any."""
        return self._http.rate_limit

    @property
    def budget(self) -> RequestBudget:
        """The rate budget every request of this client draws from (see
        :mod:`pixop_async.budget`)."""
        assert self._http.budget is not None
        return self._http.budget

    @property
    def poll_budget(self) -> RequestBudget:
        """The same budget as :attr:`budget` (pollers share it with every other call)."""
        return self.budget

    def url(self, path: str) -> str:
        """Absolute URL of an API path such as ``/v1/account``."""
        return self.base_url + path

    def _default_auth(self) -> Auth:
        if self._api_key_auth is None:
            raise MissingCredentialsError(
                "this call needs an API key: create the client with api_key="
            )
        return self._api_key_auth

    # with_options (inherited) views share the transfer scheduler
    _shared_lazy = ("transfers",)

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        auth: Auth | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> ApiResponse:
        return await self._http.request(
            method,
            self.url(path),
            params=params,
            json=json,
            headers=headers,
            auth=auth or self._default_auth(),
            options=self._options,
        )

    @functools.cached_property
    def account(self) -> AccountResource:
        from .resources.account import AccountResource

        return AccountResource(self)

    @functools.cached_property
    def teams(self) -> TeamsResource:
        from .resources.account import TeamsResource

        return TeamsResource(self)

    @functools.cached_property
    def projects(self) -> ProjectsResource:
        from .resources.projects import ProjectsResource

        return ProjectsResource(self)

    @functools.cached_property
    def api_keys(self) -> ApiKeysResource:
        from .resources.api_keys import ApiKeysResource

        return ApiKeysResource(self)

    @functools.cached_property
    def transfers(self) -> Scheduler:
        """The one scheduler shared by every transfer of this client (limits, budget)."""
        from .transfer.scheduler import Scheduler

        return Scheduler(self.transfer_config)

    async def upload_to_s3(
        self, path: str | os.PathLike[str], bucket: str, key: str, **options: Any
    ) -> S3UploadResult:
        """:func:`pixop_async.upload_to_s3` under this client's scheduler and retry policy
        (``options`` are passed on: ``s3=``, ``part_size=``, ``resume=``, ``progress=``...)."""
        from .transfer.s3_upload import upload_to_s3

        options.setdefault("scheduler", self.transfers)
        options.setdefault("retry", self.transfer_config.retry or self.config.retry)
        return await upload_to_s3(path, bucket, key, **options)

    @functools.cached_property
    def downloads(self) -> DownloadsResource:
        """Download videos' data: ``await px.downloads.download(video_id, "out/")``."""
        from .resources.downloads import DownloadsResource

        return DownloadsResource(self)

    @functools.cached_property
    def admin(self) -> AdminResource:
        """Admin operations (``px.admin.mimir_integration``)."""
        from .resources.admin import AdminResource

        return AdminResource(self)

    @functools.cached_property
    def processing(self) -> ProcessingResource:
        """Start, appraise and follow processing jobs (``px.processing.wait(...)``)."""
        from .resources.processing import ProcessingResource

        return ProcessingResource(self)

    @functools.cached_property
    def processing_configurations(self) -> ProcessingConfigurationsResource:
        from .resources.processing_configurations import ProcessingConfigurationsResource

        return ProcessingConfigurationsResource(self)

    @functools.cached_property
    def webhooks(self) -> WebhooksResource:
        """Webhook subscriptions, their ``events`` and signing ``public_keys``."""
        from .resources.webhooks import WebhooksResource

        return WebhooksResource(self)

    @functools.cached_property
    def videos(self) -> VideosResource:
        """List, read, rename and delete videos (``px.videos.derived(...)``)."""
        from .resources.videos import VideosResource

        return VideosResource(self)

    @functools.cached_property
    def imports(self) -> ImportsResource:
        """Import master videos from HTTPS or S3 (``px.imports.from_https(...)``)."""
        from .resources.imports import ImportsResource

        return ImportsResource(self)

    @functools.cached_property
    def exports(self) -> ExportsResource:
        """Export to S3 or get a pre-signed download URL (``px.exports.download_url(...)``)."""
        from .resources.exports import ExportsResource

        return ExportsResource(self)

    @functools.cached_property
    def input_locations(self) -> InputLocationsResource:
        """Saved S3 buckets to import from."""
        from .resources.locations import InputLocationsResource

        return InputLocationsResource(self)

    @functools.cached_property
    def output_locations(self) -> OutputLocationsResource:
        """Saved S3 buckets to export to."""
        from .resources.locations import OutputLocationsResource

        return OutputLocationsResource(self)

    @functools.cached_property
    def billing(self) -> BillingResource:
        """Billing reads: ``px.billing.stripe`` and ``px.billing.aws_marketplace``."""
        from .resources.billing import BillingResource

        return BillingResource(self)
