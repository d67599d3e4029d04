"""``page.has_next_page()`` / ``await page.get_next_page()`` against the emulator: a page a
paginator fetched fetches the next one with the same filters, size and order."""

from __future__ import annotations

import pickle

import attrs
import pytest
from aiohttp import web

from pixop_async import Pixop
from pixop_async.emulator import EmulatorServer
from pixop_async.models.account import Project
from pixop_async.models.billing import TransactionsPage
from pixop_async.models.common import Page
from pixop_async.models.converter import structure, unstructure

from ..servers import serve


async def test_walks_every_page_keeping_filters_and_order(pixop_client: Pixop) -> None:
    teams = await pixop_client.teams.list()
    second = next(t for t in teams.items if t.name == "Second Team")
    for i in range(4):
        await pixop_client.projects.create(f"default-{i}")
    mine = [
        (await pixop_client.projects.create(f"second-{i}", select_team_id=second.id)).name
        for i in range(5)
    ]

    listing = pixop_client.projects.list(team_id=second.id, page_size=2, sort_direction="DESC")
    page = await listing
    names, numbers = [p.name for p in page.items], [page.page_number]
    while page.has_next_page():
        page = await page.get_next_page()
        assert isinstance(page, Page) and page.page_size == 2
        names += [p.name for p in page.items]
        numbers.append(page.page_number)
    assert numbers == [0, 1, 2]
    assert sorted(names) == sorted(mine)  # only the filtered team
    assert names == [p.name for p in await listing.to_list()]  # in the requested order
    assert page.is_last and not page.has_next_page()
    with pytest.raises(LookupError, match="page 2 is the last one"):
        await page.get_next_page()


async def test_pages_from_pages_and_a_start_page_link_too(pixop_client: Pixop) -> None:
    for i in range(5):
        await pixop_client.projects.create(f"p{i}")
    listing = pixop_client.projects.list(page_size=2, page_number=1)
    started = await listing
    assert started.page_number == 1
    following = await started.get_next_page()
    assert following.page_number == 2
    async for page in listing.pages():
        if page.has_next_page():
            nxt = await page.get_next_page()
            assert nxt.page_number == page.page_number + 1
            assert nxt.items != page.items


async def test_an_unlinked_page_says_why_it_cannot_fetch(pixop_client: Pixop) -> None:
    await pixop_client.projects.create("only")
    await pixop_client.projects.create("other")
    page = await pixop_client.projects.list(page_size=1)
    assert page.has_next_page()
    decoded = structure(unstructure(page), Page[Project])
    assert decoded == page  # the link is no field: equality, repr and JSON ignore it
    assert "fetch" not in repr(page)
    for copy in (decoded, attrs.evolve(page), pickle.loads(pickle.dumps(page))):
        assert copy == page and copy.has_next_page()
        with pytest.raises(RuntimeError, match="not fetched by a paginator"):
            await copy.get_next_page()


async def test_billing_envelope_pages_fetch_their_own_type(
    pixop_client: Pixop, pixop_emulator: EmulatorServer
) -> None:
    stripe = pixop_client.billing.stripe
    periods = (await stripe.list_billing_periods()).items
    everything = await stripe.transactions(periods[0].id, page_size=100)
    assert everything.total_elements >= 3
    page = await stripe.transactions(periods[0].id, page_size=1)
    seen = list(page.items)
    while page.has_next_page():
        page = await page.get_next_page()
        assert (
            isinstance(page, TransactionsPage) and page.billing_period == everything.billing_period
        )
        seen += page.items
    assert seen == everything.items


async def test_a_server_misstating_page_numbers_cannot_make_a_walk_repeat() -> None:
    # a server that kept answering pageNumber 0 was asked for page 1 forever (10,000
    # requests in 3 s) by `async for` and by get_next_page(): the walk now counts from the
    # number it asked for, so it ends after totalPages pages whatever the answers say
    asked: list[str] = []

    async def handle(request: web.Request) -> web.Response:
        asked.append(request.query["pageNumber"])
        if len(asked) > 10:  # the old endless walk ends here, as a failure
            return web.json_response({}, status=400)
        project = {
            "id": "6f0d2c52-7d0a-4a55-9a35-3b1f5f8f0c11",
            "teamId": "6f0d2c52-7d0a-4a55-9a35-3b1f5f8f0c12",
            "name": "p",
            "isSample": False,
            "createdAt": "2024-01-01T00:00:00Z",
            "updatedAt": "2024-01-01T00:00:00Z",
        }
        return web.json_response(
            {
                "items": [project],
                "pageNumber": 0,
                "pageSize": 1,
                "numberOfElements": 1,
                "totalPages": 3,
                "totalElements": 3,
            }
        )

    app = web.Application()
    app.router.add_get("/api/v1/projects", handle)
    async with serve(app) as url, Pixop("pxk_stuck_pages", base_url=f"{url}/api") as px:
        assert len(await px.projects.list(page_size=1).to_list()) == 3
        assert asked == ["0", "1", "2"]
        asked.clear()
        page = await px.projects.list(page_size=1)
        steps = 0
        while page.has_next_page() and steps < 10:
            page = await page.get_next_page()
            steps += 1
        assert steps == 2 and asked == ["0", "1", "2"]
        with pytest.raises(LookupError, match="page 2 is the last one"):
            await page.get_next_page()
        last = await px.projects.list(page_number=2, page_size=1)
        assert not last.has_next_page()
