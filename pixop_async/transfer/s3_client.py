"""The S3 side of uploads: opening an aiobotocore client and classifying its failures.

aiobotocore (the ``pixop-async[s3]`` extra) speaks the S3 protocol and signs requests; it
is imported only when an S3 transfer starts, so the SDK works without it. The client is
tuned for an engine that does its own checksums and retries: botocore computes no request
checksum of its own (its CRC32C would need awscrt), payloads are not SHA-256 signed (each
part carries a CRC32C instead) and botocore's retries are off, so the caller's
:class:`~pixop_async.RetryPolicy` decides.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from ..auth import mask
from ..errors import InvalidRequestError, PixopError
from ..retry import Failure, FailureKind
from ..validation import plain_http_url

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client

#: Error codes meaning the part's bytes were damaged on the way: send the part again.
CORRUPTION_CODES = frozenset({"BadDigest", "InvalidDigest", "XAmzContentChecksumMismatch"})
#: Error codes of a store that does not offer full-object CRC32C on multipart uploads.
UNSUPPORTED_CODES = frozenset({"InvalidRequest", "NotImplemented", "InvalidArgument"})


class S3ExtraMissingError(PixopError, ImportError):
    """aiobotocore is not installed: ``pip install 'pixop-async[s3]'``."""


def _masked(value: str | None) -> str:
    return "None" if value is None else repr(mask(value))


#: botocore's rule for region names (it refuses others only when the client is created)
_REGION = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\Z")


def _check_endpoint_url(_instance: object, _attribute: object, value: str | None) -> None:
    """An ``http(s)://host[:port][/path]`` URL without credentials (they would show in
    reprs and be written into upload journals), query or fragment."""
    if value is None:
        return
    plain_http_url(
        "endpoint_url",
        value,
        credentials=": pass access_key and secret_access_key",
    )


def _check_region(_instance: object, _attribute: object, value: str | None) -> None:
    if value is not None and (not isinstance(value, str) or not _REGION.match(value)):
        raise InvalidRequestError(
            "region", "must be letters, digits and inner hyphens (at most 63), like eu-west-1"
        )


@attrs.frozen
class S3Connection:
    """Where and as whom to reach an S3-compatible store.

    ``endpoint_url`` ``None`` means AWS itself; credentials ``None`` use the usual AWS
    sources (environment, config files, instance roles). Reprs never show the secrets.
    """

    endpoint_url: str | None = attrs.field(default=None, validator=_check_endpoint_url)
    region: str | None = attrs.field(default=None, validator=_check_region)
    access_key: str | None = attrs.field(default=None, repr=_masked)
    secret_access_key: str | None = attrs.field(default=None, repr=False)
    session_token: str | None = attrs.field(default=None, repr=False)

    def identity(self) -> str:
        """What a journal may record about the store (no credentials)."""
        return self.endpoint_url or f"aws:{self.region or ''}"


def require_aiobotocore() -> None:
    """Raise :class:`S3ExtraMissingError` when the ``[s3]`` extra is not installed."""
    try:
        import aiobotocore.session  # noqa: F401
    except ImportError as exc:
        raise S3ExtraMissingError(
            "S3 uploads need aiobotocore: pip install 'pixop-async[s3]'"
        ) from exc


_SESSION: list[Any] = []

#: Endpoint prefixes an S3 client's session may consult in botocore's legacy endpoint data:
#: S3 itself, and what credential providers (AssumeRole, SSO) create clients for.
_ENDPOINT_SERVICES = frozenset({"s3", "sts", "sso", "portal.sso", "oidc"})


def _lean_endpoint_data(endpoints: dict[str, Any]) -> dict[str, Any]:
    """``endpoints.json`` with only the services in :data:`_ENDPOINT_SERVICES` (every
    partition, region and default kept). A service left out resolves from its partition's
    defaults, as any service botocore has no entry for."""
    partitions = []
    for partition in endpoints["partitions"]:
        services = partition.get("services", {})
        kept = {name: data for name, data in services.items() if name in _ENDPOINT_SERVICES}
        partitions.append({**partition, "services": kept})
    return {**endpoints, "partitions": partitions}


def _use_lean_endpoint_resolver(session: Any) -> None:
    """botocore parses the endpoints of every AWS service (``endpoints.json``, about 7 MiB of
    RSS) for the first client and keeps them for the process; an S3 upload's client needs
    S3's. The file is read by a throwaway loader (the session's loader would cache the whole
    file) and only the lean copy stays. Any surprise keeps botocore's own resolver."""
    try:
        from botocore.loaders import Loader
        from botocore.regions import EndpointResolver

        shared = session.get_component("data_loader")
        search_paths = list(shared.search_paths)
    except Exception:  # pragma: no cover - another botocore layout: keep its default
        return

    def create() -> Any:
        loader = Loader(extra_search_paths=search_paths, include_default_search_paths=False)
        endpoints, path = loader.load_data_with_path("endpoints")
        builtin = shared.is_builtin_path(path)
        try:
            return EndpointResolver(_lean_endpoint_data(endpoints), uses_builtin_data=builtin)
        except (KeyError, TypeError, AttributeError):  # pragma: no cover - unknown shape
            return EndpointResolver(endpoints, uses_builtin_data=builtin)

    try:
        session._internal_components.lazy_register_component("endpoint_resolver", create)
    except Exception:  # pragma: no cover - another botocore layout: keep its default
        return


def _session() -> Any:
    """One botocore session per process: it caches the parsed S3 service model, so a bulk
    job does not parse it again for every file (clients are still one per upload)."""
    if not _SESSION:
        from aiobotocore.session import get_session

        session = get_session()
        _use_lean_endpoint_resolver(session)
        _SESSION.append(session)
    return _SESSION[0]


#: botocore loggers whose DEBUG records show request headers (the ``Authorization`` header
#: names the access key id, ``x-amz-security-token`` is the session token itself)
_CHATTY_LOGGERS = (
    "botocore.endpoint",
    "botocore.auth",
    "botocore.hooks",
    "botocore.parsers",
    "botocore.httpsession",
    "botocore.retryhandler",
    "aiobotocore.endpoint",
    "aiobotocore.httpsession",
)
_CREDENTIAL_PATTERNS = (
    re.compile(r"(Credential=)[^/\s,'\"&]+", re.IGNORECASE),
    re.compile(r"(x-amz-security-token['\"]?\s*[:=]\s*b?['\"]?)[^'\"\s,}&]+", re.IGNORECASE),
)


class _RedactCredentials(logging.Filter):
    """Removes access key ids and session tokens from botocore's DEBUG records.

    botocore logs every prepared request with its headers; an access key id is not a
    secret in AWS's model, but with the session token it identifies a live credential, and
    this SDK promises credentials never appear in logs. Known values (of the connections
    opened in this process) are masked wherever they appear, and the two header shapes are
    masked whatever their value."""

    def __init__(self) -> None:
        super().__init__()
        self.known: set[str] = set()
        self._lock = threading.Lock()

    def remember(self, *values: str | None) -> None:
        with self._lock:
            self.known.update(v for v in values if v and len(v) >= 4)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            text = record.getMessage()
        except Exception:  # a malformed record: let logging report it as usual
            return True
        clean = text
        for pattern in _CREDENTIAL_PATTERNS:
            clean = pattern.sub(r"\1***", clean)
        for value in tuple(self.known):
            clean = clean.replace(value, mask(value))
        if clean != text:
            record.msg, record.args = clean, ()
        return True


_REDACT = _RedactCredentials()


def _install_redaction(conn: S3Connection) -> None:
    _REDACT.remember(conn.access_key, conn.secret_access_key, conn.session_token)
    for name in _CHATTY_LOGGERS:
        logger = logging.getLogger(name)
        if _REDACT not in logger.filters:
            logger.addFilter(_REDACT)


@contextlib.asynccontextmanager
async def open_client(conn: S3Connection, connections: int) -> AsyncIterator[S3Client]:
    """An S3 client with a pool of ``connections`` connections, closed on exit."""
    require_aiobotocore()
    _install_redaction(conn)
    from aiobotocore.config import AioConfig

    config = AioConfig(
        max_pool_connections=max(1, connections),
        retries={"total_max_attempts": 1, "mode": "standard"},  # the RetryPolicy decides
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        s3={"payload_signing_enabled": False, "addressing_style": "path"},
        connect_timeout=30,
        read_timeout=120,
        tcp_keepalive=True,
    )
    async with _session().create_client(
        "s3",
        endpoint_url=conn.endpoint_url,
        region_name=conn.region or "us-east-1",
        aws_access_key_id=conn.access_key,
        aws_secret_access_key=conn.secret_access_key,
        aws_session_token=conn.session_token,
        config=config,
    ) as client:
        yield client


def error_code(exc: BaseException) -> str | None:
    """The S3 error code of a botocore ``ClientError`` (``None`` for other exceptions)."""
    response = getattr(exc, "response", None)
    if not isinstance(response, Mapping):
        return None
    code = response.get("Error", {}).get("Code")
    return str(code) if code is not None else None


def _status_and_headers(exc: BaseException) -> tuple[int | None, dict[str, str]]:
    response = getattr(exc, "response", None)
    if not isinstance(response, Mapping):
        return None, {}
    meta: Any = response.get("ResponseMetadata", {})
    status = meta.get("HTTPStatusCode")
    headers = meta.get("HTTPHeaders") or {}
    return (int(status) if isinstance(status, int) else None), {
        str(k): str(v) for k, v in headers.items()
    }


def is_client_error(exc: BaseException) -> bool:
    return error_code(exc) is not None


def failure_of(exc: BaseException) -> Failure | None:
    """How an S3 call failed, for :meth:`RetryPolicy.decide`; ``None`` when it must not be
    retried at all (a programming or local error).

    A part the store refused as damaged (``BadDigest``) counts as a transport failure: the
    bytes were corrupted on the way and sending the same part again is safe.
    """
    code = error_code(exc)
    if code is not None:
        status, headers = _status_and_headers(exc)
        if code in CORRUPTION_CODES:
            return Failure(FailureKind.TRANSPORT)
        return Failure(FailureKind.STATUS, status, headers)
    if _is_transport_error(exc):
        return Failure(FailureKind.TRANSPORT)
    return None


def _is_transport_error(exc: BaseException) -> bool:
    if isinstance(exc, (ConnectionError, TimeoutError)):
        return True
    try:
        from botocore.exceptions import ConnectionError as BotoConnectionError
        from botocore.exceptions import HTTPClientError
    except ImportError:  # pragma: no cover - the extra is missing, nothing was sent
        return False
    # botocore's ConnectionError (refused, connect timeout, proxy, TLS) is not the
    # builtin one: without it a blip while opening one part's connection ends the upload
    return isinstance(exc, (HTTPClientError, BotoConnectionError))


def describe(exc: BaseException) -> str:
    """A short, credential-free description of an S3 failure."""
    code = error_code(exc)
    if code is not None:
        status, _ = _status_and_headers(exc)
        return f"S3 error {code} (HTTP {status})"
    return type(exc).__name__
