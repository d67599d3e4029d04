"""Verification (and, for tests and emulators, creation) of Pixop webhook signatures.

A delivery is signed with ECDSA over SHA-256. The signed message is the ``X-Pixop-Timestamp``
header text, a ``.``, then the raw request body; the signature travels base64-encoded (DER)
in ``X-Pixop-Signature`` and names its key in ``X-Pixop-Public-Key-Id``. Public keys are the
base64 X.509 SubjectPublicKeyInfo strings listed by ``GET /v1/webhooks/public-keys``.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from ..errors import WebhookSignatureError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import ec

# cryptography (about 8 MiB and 30 modules) is imported by the functions that verify or sign,
# not with this module: a client that never receives webhooks never loads it.

SIGNATURE_HEADER = "X-Pixop-Signature"
KEY_ID_HEADER = "X-Pixop-Public-Key-Id"
TIMESTAMP_HEADER = "X-Pixop-Timestamp"
ALGORITHM_HEADER = "X-Pixop-Algorithm"
ALGORITHM = "SHA256withECDSA"
#: Deliveries whose timestamp is further than this from now (seconds) are refused.
DEFAULT_TOLERANCE = 300.0

# A DER ECDSA signature for curves up to P-521 is < 140 bytes; anything much longer is junk.
_MAX_SIGNATURE_CHARS = 512
_MAX_KEY_ID_CHARS = 128
_TIMESTAMP_RE = re.compile(r"^[0-9]{1,12}\Z")


class UnknownPublicKeyError(WebhookSignatureError):
    """The delivery names a public key id that is not among the keys given.

    Raised separately so a key cache can refetch the key list and try again.
    """

    def __init__(self, key_id: str) -> None:
        self.key_id = key_id
        super().__init__(f"webhook signed with unknown public key id {key_id!r}")


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header's value looked up case-insensitively (plain dicts included)."""
    value = headers.get(name)
    if value is not None:
        return value
    wanted = name.lower()
    for key, candidate in headers.items():
        if key.lower() == wanted:
            return candidate
    return None


def _required(headers: Mapping[str, str], name: str) -> str:
    value = header(headers, name)
    if value is None or not value.strip():
        raise WebhookSignatureError(f"webhook delivery lacks the {name} header")
    return value.strip()


def signing_key_id(headers: Mapping[str, str]) -> str:
    """The public key id a delivery claims to be signed with."""
    key_id = _required(headers, KEY_ID_HEADER)
    if len(key_id) > _MAX_KEY_ID_CHARS:
        raise WebhookSignatureError(f"{KEY_ID_HEADER} is too long")
    return key_id


def check_timestamp(raw: str, *, now: float, tolerance: float) -> int:
    """The delivery time in unix seconds; raises when malformed or outside the window."""
    if not _TIMESTAMP_RE.match(raw):
        raise WebhookSignatureError(f"{TIMESTAMP_HEADER} is not a unix time in seconds")
    stamp = int(raw)
    skew = stamp - now
    if skew > tolerance:
        raise WebhookSignatureError(
            f"webhook timestamp is {skew:.0f} s in the future (tolerance {tolerance:.0f} s)"
        )
    if -skew > tolerance:
        raise WebhookSignatureError(
            f"webhook timestamp is stale: {-skew:.0f} s old (tolerance {tolerance:.0f} s);"
            " refusing a possible replay"
        )
    return stamp


@functools.lru_cache(maxsize=64)
def load_public_key(encoded: str) -> ec.EllipticCurvePublicKey:
    """Parse a base64 X.509 SubjectPublicKeyInfo (PEM text is accepted too) into an EC key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    text = encoded.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_public_key(text.encode("ascii"))
        else:
            der = base64.b64decode("".join(text.split()), validate=True)
            key = serialization.load_der_public_key(der)
    except (ValueError, binascii.Error, UnicodeEncodeError, TypeError) as exc:
        raise WebhookSignatureError("a webhook public key is not a valid X.509 key") from exc
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise WebhookSignatureError("a webhook public key is not an elliptic-curve key")
    return key


def _decode_signature(raw: str) -> bytes:
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    if len(raw) > _MAX_SIGNATURE_CHARS:
        raise WebhookSignatureError(f"{SIGNATURE_HEADER} is too long")
    try:
        signature = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise WebhookSignatureError(f"{SIGNATURE_HEADER} is not valid base64") from exc
    try:
        decode_dss_signature(signature)
    except ValueError as exc:
        raise WebhookSignatureError(f"{SIGNATURE_HEADER} is not a DER ECDSA signature") from exc
    return signature


def signed_message(timestamp: str, body: bytes) -> bytes:
    """The bytes Pixop signs: ``timestamp + "." + body``."""
    return timestamp.encode("ascii") + b"." + body


def check_signed_headers(
    headers: Mapping[str, str], *, now: float, tolerance: float
) -> tuple[str, str, bytes]:
    """Everything about a delivery that needs no key: the algorithm, the timestamp (format
    and window), the key id and the signature's base64/DER form.

    Returns ``(timestamp text, key id, signature bytes)``; raises
    :class:`~pixop_async.errors.WebhookSignatureError`. A receiver runs it before it may
    fetch keys, so unsigned or malformed requests never cause a key fetch.
    """
    algorithm = header(headers, ALGORITHM_HEADER)
    if algorithm is not None and algorithm.strip().lower() != ALGORITHM.lower():
        raise WebhookSignatureError(f"unsupported webhook signature algorithm {algorithm[:40]!r}")
    raw_timestamp = _required(headers, TIMESTAMP_HEADER)
    key_id = signing_key_id(headers)
    signature = _decode_signature(_required(headers, SIGNATURE_HEADER))
    check_timestamp(raw_timestamp, now=now, tolerance=tolerance)
    return raw_timestamp, key_id, signature


def verify_signature(
    body: bytes,
    headers: Mapping[str, str],
    public_keys: Mapping[str, str],
    *,
    now: float | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
) -> None:
    """Check that a webhook delivery was signed by Pixop and is fresh.

    ``body`` is the raw request body exactly as received (do not re-serialise parsed JSON).
    ``headers`` may be any mapping; names are matched case-insensitively. ``public_keys``
    maps key ids to base64 SubjectPublicKeyInfo strings; during a key rotation pass both.
    ``now`` (unix seconds, default the current time) and ``tolerance`` bound how far the
    signed timestamp may lie in the past or future, which refuses replays of old deliveries.

    Returns ``None`` on success; raises :class:`~pixop_async.errors.WebhookSignatureError`
    (or its subclass :class:`UnknownPublicKeyError`) for a missing header, an unsupported
    algorithm, malformed base64/DER, a stale or future timestamp, an unknown key id or a
    signature that does not verify. Error texts never include the signature or key material.
    """
    if not isinstance(body, bytes | bytearray | memoryview):
        raise TypeError("body must be the raw request bytes")
    raw_timestamp, key_id, signature = check_signed_headers(
        headers, now=time.time() if now is None else now, tolerance=tolerance
    )
    encoded_key = public_keys.get(key_id)
    if encoded_key is None:
        raise UnknownPublicKeyError(key_id)
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    key = load_public_key(encoded_key)
    try:
        key.verify(signature, signed_message(raw_timestamp, bytes(body)), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise WebhookSignatureError(
            f"webhook signature does not verify with public key {key_id!r}"
        ) from None


# -- signing (emulators, tests, and anyone relaying deliveries) -------------------------------


def generate_key() -> ec.EllipticCurvePrivateKey:
    """A fresh P-256 private key suitable for signing deliveries."""
    from cryptography.hazmat.primitives.asymmetric import ec

    return ec.generate_private_key(ec.SECP256R1())


def encode_public_key(key: ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) -> str:
    """The base64 X.509 SubjectPublicKeyInfo form the API publishes."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    public = key.public_key() if isinstance(key, ec.EllipticCurvePrivateKey) else key
    der = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode("ascii")


def sign(
    body: bytes,
    private_key: ec.EllipticCurvePrivateKey,
    key_id: str,
    *,
    timestamp: int | None = None,
) -> dict[str, str]:
    """The four signature headers for ``body``, as Pixop would send them."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    stamp = str(int(time.time()) if timestamp is None else int(timestamp))
    signature = private_key.sign(signed_message(stamp, body), ec.ECDSA(hashes.SHA256()))
    return {
        SIGNATURE_HEADER: base64.b64encode(signature).decode("ascii"),
        KEY_ID_HEADER: key_id,
        TIMESTAMP_HEADER: stamp,
        ALGORITHM_HEADER: ALGORITHM,
    }
