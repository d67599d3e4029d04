"""Error answers with hostile bodies, over real HTTP: always a typed APIStatusError, with no
credential in its text or repr."""

from __future__ import annotations

import json

import pytest
from aiohttp import web

from pixop_async import Pixop
from pixop_async.errors import APIStatusError, BadRequestError, NotFoundError
from tests.servers import serve

API_KEY = "sk-hostile-0123456789abcdef"
PASSWORD = "hunter2-very-secret"

BODIES: list[tuple[int, bytes]] = [
    (400, b"[" * 200_000),
    (400, b'{"message": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"),
    (
        404,
        json.dumps({"errorCode": "TEAM_NOT_FOUND", "errorCodeEnum": 7, "message": "no"}).encode(),
    ),
    (400, json.dumps({"timestamp": "2026-13-45T99:99:99Z", "errorCodeEnum": {"x": 1}}).encode()),
    (
        400,
        json.dumps(
            {
                "message": "m" * 50_000,
                "validationErrors": [{"field": "f", "value": API_KEY, "message": "bad"}] * 3000,
                "errorDetails": {"nested": [[[["junk"]]]]},
                "requestId": ["not", "an", "id"],
            }
        ).encode(),
    ),
]


@pytest.mark.parametrize(("status", "body"), BODIES)
async def test_hostile_error_bodies_give_typed_errors(status: int, body: bytes) -> None:
    async def answer(request: web.Request) -> web.Response:
        return web.Response(status=status, body=body, content_type="application/json")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    async with (
        serve(app) as root,
        Pixop(API_KEY, base_url=root + "/api", email="a@example.com", password=PASSWORD) as px,
    ):
        with pytest.raises(APIStatusError) as caught:
            await px.account.get()
    error = caught.value
    assert isinstance(error, BadRequestError if status == 400 else NotFoundError)
    assert error.request_path == "/api/v1/account"
    assert len(str(error)) < 2500
    for secret in (API_KEY, PASSWORD):
        assert secret not in str(error) and secret not in repr(error)
    if status == 404:
        assert error.error_code_enum is not None and error.error_code_enum.known
