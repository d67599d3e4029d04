"""Webhook signature verification, the public-key cache and event parsing (no network)."""

from __future__ import annotations

import base64
import json
import uuid

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from pixop_async.errors import PixopError, WebhookSignatureError
from pixop_async.webhooks import (
    KeyRecord,
    PublicKeyCache,
    UnknownPublicKeyError,
    WebhookEventError,
    WebhookEventType,
    encode_public_key,
    generate_key,
    parse_event,
    sign,
    verify_signature,
)

NOW = 1_800_000_000
KEY = generate_key()
KEY_ID = "5b1f9a52-0000-4000-8000-000000000001"
OTHER = generate_key()
OTHER_ID = "5b1f9a52-0000-4000-8000-000000000002"
KEYS = {KEY_ID: encode_public_key(KEY)}
BODY = json.dumps(
    {
        "id": str(uuid.uuid4()),
        "webhookId": str(uuid.uuid4()),
        "eventType": "video_processing.done",
        "occurredAt": "2027-01-15T08:00:00.123456789Z",
        "test": False,
        "attemptCount": 1,
        "data": {"type": "VIDEO", "videoId": str(uuid.uuid4())},
    }
).encode()


def signed(
    body: bytes = BODY,
    key: ec.EllipticCurvePrivateKey = KEY,
    key_id: str = KEY_ID,
    timestamp: int = NOW,
) -> dict[str, str]:
    return sign(body, key, key_id, timestamp=timestamp)


def test_valid_signature_verifies() -> None:
    verify_signature(BODY, signed(), KEYS, now=NOW)


def test_webhook_signature_error_is_a_pixop_error() -> None:
    assert issubclass(WebhookSignatureError, PixopError)
    assert issubclass(UnknownPublicKeyError, WebhookSignatureError)


def test_tampered_body_is_refused() -> None:
    headers = signed()
    with pytest.raises(WebhookSignatureError, match="does not verify"):
        verify_signature(BODY.replace(b"done", b"fail"), headers, KEYS, now=NOW)


def test_tampered_timestamp_is_refused() -> None:
    headers = signed()
    headers["X-Pixop-Timestamp"] = str(NOW + 1)
    with pytest.raises(WebhookSignatureError, match="does not verify"):
        verify_signature(BODY, headers, KEYS, now=NOW)


def test_wrong_key_is_refused() -> None:
    headers = signed(key=OTHER)  # claims KEY_ID but signed by another key
    with pytest.raises(WebhookSignatureError, match="does not verify"):
        verify_signature(BODY, headers, KEYS, now=NOW)


def test_unknown_key_id_is_refused() -> None:
    headers = signed(key=OTHER, key_id=OTHER_ID)
    with pytest.raises(UnknownPublicKeyError) as info:
        verify_signature(BODY, headers, KEYS, now=NOW)
    assert info.value.key_id == OTHER_ID


@pytest.mark.parametrize(
    "signature",
    ["not base64 !!", "AAAA", base64.b64encode(b"\x30\x02\x01").decode(), ""],
    ids=["bad-base64", "not-der", "truncated-der", "empty"],
)
def test_garbage_signature_is_refused(signature: str) -> None:
    headers = signed()
    headers["X-Pixop-Signature"] = signature
    with pytest.raises(WebhookSignatureError):
        verify_signature(BODY, headers, KEYS, now=NOW)


def test_valid_der_of_wrong_message_is_refused() -> None:
    headers = signed()
    headers["X-Pixop-Signature"] = signed(body=b"other")["X-Pixop-Signature"]
    with pytest.raises(WebhookSignatureError, match="does not verify"):
        verify_signature(BODY, headers, KEYS, now=NOW)


def test_stale_timestamp_is_refused_as_replay() -> None:
    headers = signed(timestamp=NOW - 301)
    with pytest.raises(WebhookSignatureError, match="stale"):
        verify_signature(BODY, headers, KEYS, now=NOW)
    verify_signature(BODY, signed(timestamp=NOW - 299), KEYS, now=NOW)


def test_future_timestamp_is_refused() -> None:
    with pytest.raises(WebhookSignatureError, match="future"):
        verify_signature(BODY, signed(timestamp=NOW + 301), KEYS, now=NOW)
    verify_signature(BODY, signed(timestamp=NOW + 299), KEYS, now=NOW)


def test_tolerance_is_adjustable() -> None:
    with pytest.raises(WebhookSignatureError, match="stale"):
        verify_signature(BODY, signed(timestamp=NOW - 20), KEYS, now=NOW, tolerance=10)


@pytest.mark.parametrize("value", ["abc", "1.5", "-5", "", "1" * 20])
def test_malformed_timestamp_is_refused(value: str) -> None:
    headers = signed()
    headers["X-Pixop-Timestamp"] = value
    with pytest.raises(WebhookSignatureError):
        verify_signature(BODY, headers, KEYS, now=NOW)


def test_header_names_are_case_insensitive() -> None:
    lower = {name.lower(): value for name, value in signed().items()}
    verify_signature(BODY, lower, KEYS, now=NOW)
    upper = {name.upper(): value for name, value in signed().items()}
    verify_signature(BODY, upper, KEYS, now=NOW)


@pytest.mark.parametrize(
    "missing", ["X-Pixop-Signature", "X-Pixop-Public-Key-Id", "X-Pixop-Timestamp"]
)
def test_missing_header_is_refused(missing: str) -> None:
    headers = signed()
    del headers[missing]
    with pytest.raises(WebhookSignatureError, match=missing):
        verify_signature(BODY, headers, KEYS, now=NOW)


def test_algorithm_header_must_name_ecdsa_sha256() -> None:
    headers = signed()
    headers["X-Pixop-Algorithm"] = "HmacSHA256"
    with pytest.raises(WebhookSignatureError, match="unsupported"):
        verify_signature(BODY, headers, KEYS, now=NOW)
    del headers["X-Pixop-Algorithm"]
    verify_signature(BODY, headers, KEYS, now=NOW)


def test_rotation_with_two_keys() -> None:
    both = {**KEYS, OTHER_ID: encode_public_key(OTHER)}
    verify_signature(BODY, signed(), both, now=NOW)
    verify_signature(BODY, signed(key=OTHER, key_id=OTHER_ID), both, now=NOW)
    # each key only verifies its own signatures
    crossed = signed(key=OTHER, key_id=KEY_ID)
    with pytest.raises(WebhookSignatureError):
        verify_signature(BODY, crossed, both, now=NOW)


def test_malformed_public_key_is_reported_without_key_material() -> None:
    with pytest.raises(WebhookSignatureError, match=r"not a valid X\.509") as info:
        verify_signature(BODY, signed(), {KEY_ID: "bm90IGEga2V5"}, now=NOW)
    assert "bm90" not in str(info.value)


def test_errors_do_not_echo_the_signature() -> None:
    headers = signed(key=OTHER)
    with pytest.raises(WebhookSignatureError) as info:
        verify_signature(BODY, headers, KEYS, now=NOW)
    assert headers["X-Pixop-Signature"] not in str(info.value)


def test_pem_public_key_is_accepted() -> None:
    from cryptography.hazmat.primitives import serialization

    pem = (
        KEY.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    verify_signature(BODY, signed(), {KEY_ID: pem}, now=NOW)


# -- key cache -------------------------------------------------------------------------------


class FakeKeys:
    def __init__(self, *records: KeyRecord) -> None:
        self.records = list(records)
        self.calls = 0

    async def __call__(self) -> list[KeyRecord]:
        self.calls += 1
        return list(self.records)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_cache_fetches_once_and_verifies() -> None:
    fetch = FakeKeys(KeyRecord(KEY_ID, KEYS[KEY_ID]))
    cache = PublicKeyCache(fetch=fetch)
    await cache.verify(BODY, signed(), now=NOW)
    await cache.verify(BODY, signed(), now=NOW)
    assert fetch.calls == 1


async def test_cache_refetches_unknown_key_at_most_once_a_minute() -> None:
    clock = FakeClock()
    fetch = FakeKeys(KeyRecord(KEY_ID, KEYS[KEY_ID]))
    cache = PublicKeyCache(fetch=fetch, clock=clock)
    rotated = signed(key=OTHER, key_id=OTHER_ID)
    with pytest.raises(UnknownPublicKeyError):
        await cache.verify(BODY, rotated, now=NOW)  # first fetch only
    assert fetch.calls == 1
    # the new key is published, but a refetch within the minute is refused
    fetch.records.append(KeyRecord(OTHER_ID, encode_public_key(OTHER)))
    clock.now += 30
    with pytest.raises(UnknownPublicKeyError):
        await cache.verify(BODY, rotated, now=NOW)
    assert fetch.calls == 1
    clock.now += 31
    await cache.verify(BODY, rotated, now=NOW)  # refetched, both keys now held
    assert fetch.calls == 2
    await cache.verify(BODY, signed(), now=NOW)
    assert set(cache.snapshot()) == {KEY_ID, OTHER_ID}
    # forged ids cannot make it hammer the API
    for _ in range(5):
        with pytest.raises(UnknownPublicKeyError):
            await cache.verify(BODY, signed(key_id="forged"), now=NOW)
    assert fetch.calls == 2


async def test_stale_delivery_never_triggers_a_fetch() -> None:
    clock = FakeClock()
    fetch = FakeKeys(KeyRecord(KEY_ID, KEYS[KEY_ID]))
    cache = PublicKeyCache(fetch=fetch, clock=clock)
    await cache.verify(BODY, signed(), now=NOW)
    clock.now += 120
    with pytest.raises(WebhookSignatureError, match="stale"):
        await cache.verify(BODY, signed(key_id="unknown", timestamp=NOW - 900), now=NOW)
    assert fetch.calls == 1


async def test_cache_keeps_unlisted_key_until_it_expires() -> None:
    import datetime as dt

    clock = FakeClock()
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1)
    fetch = FakeKeys(KeyRecord(KEY_ID, KEYS[KEY_ID], expires_at=later))
    cache = PublicKeyCache(fetch=fetch, clock=clock)
    await cache.refresh()
    fetch.records = [KeyRecord(OTHER_ID, encode_public_key(OTHER))]
    clock.now += 61
    await cache.refresh()
    assert set(cache.snapshot()) == {KEY_ID, OTHER_ID}
    # a key without a future expiry that disappears from the listing is dropped
    fetch.records = [KeyRecord(KEY_ID, KEYS[KEY_ID])]
    clock.now += 61
    await cache.refresh()
    assert set(cache.snapshot()) == {KEY_ID}


async def test_cache_with_fixed_keys_needs_no_fetch() -> None:
    cache = PublicKeyCache(keys=KEYS)
    await cache.verify(BODY, signed(), now=NOW)
    with pytest.raises(UnknownPublicKeyError):
        await cache.verify(BODY, signed(key=OTHER, key_id=OTHER_ID), now=NOW)
    assert "MFkw" not in repr(cache)


async def test_failed_fetch_propagates_and_old_keys_survive_a_failed_refresh() -> None:
    clock = FakeClock()
    calls = 0

    async def flaky() -> list[KeyRecord]:
        nonlocal calls
        calls += 1
        if calls > 1:
            raise ConnectionError("down")
        return [KeyRecord(KEY_ID, KEYS[KEY_ID])]

    cache = PublicKeyCache(fetch=flaky, clock=clock, max_age=100)
    await cache.verify(BODY, signed(), now=NOW)
    clock.now += 200  # too old: refreshed on next use, which fails; old keys still verify
    await cache.verify(BODY, signed(), now=NOW)
    assert calls == 2


# -- events ----------------------------------------------------------------------------------


def test_parse_event_types_fields() -> None:
    event = parse_event(BODY)
    data = json.loads(BODY)
    assert event.id == uuid.UUID(data["id"])
    assert event.event_type is WebhookEventType.VIDEO_PROCESSING_DONE
    assert event.is_terminal and not event.is_failure
    assert event.payload.data is not None and event.payload.data.type.value == "VIDEO"
    assert event.video_id == uuid.UUID(data["data"]["videoId"])
    assert event.occurred_at.year == 2027 and event.occurred_at.microsecond == 123456
    assert event.test is False and event.attempt_count == 1


def test_unknown_event_type_still_parses() -> None:
    data = json.loads(BODY)
    data["eventType"] = "video_teleport.done"
    event = parse_event(json.dumps(data).encode())
    assert event.event_type.value == "video_teleport.done"
    assert not event.event_type.known


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.pop("id"),
        lambda d: d.update(id="nope"),
        lambda d: d.pop("eventType"),
        lambda d: d.update(occurredAt="yesterday"),
        lambda d: d.update(test="no"),
        lambda d: d.update(attemptCount="1"),
        lambda d: d.update(data=[1]),
        lambda d: d.update(data={"type": "VIDEO", "videoId": "x"}),
    ],
)
def test_malformed_events_are_refused(mutate: object) -> None:
    data = json.loads(BODY)
    mutate(data)  # type: ignore[operator]
    with pytest.raises(WebhookEventError):
        parse_event(json.dumps(data).encode())


@pytest.mark.parametrize("body", [b"", b"{", b"[]", b"\xff\xfe", b'"text"'])
def test_non_object_bodies_are_refused(body: bytes) -> None:
    with pytest.raises(WebhookEventError):
        parse_event(body)
