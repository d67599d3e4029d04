"""``pixop demo``: start the built-in emulator and run a visible end-to-end flow on it."""

from __future__ import annotations

import argparse
import time

from rich.table import Table

from ..client import Pixop
from ..emulator import EmulatorServer
from ..errors import ConflictError
from .common import console


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("demo", help="run the whole job against the built-in emulator")
    parser.set_defaults(func=run)


async def run(args: argparse.Namespace) -> int:
    started = time.monotonic()
    async with EmulatorServer() as emu:
        console.rule("[bold]pixop demo[/] — on the built-in emulator")
        console.print(f"emulator at {emu.base_url}")
        async with Pixop(
            emu.api_key, base_url=emu.base_url, email=emu.email, password=emu.password
        ) as px:
            await _account_step(px)
            await _projects_step(px)
            await _api_keys_step(px)
    console.rule(f"[green]demo finished in {time.monotonic() - started:.1f}s")
    return 0


async def _account_step(px: Pixop) -> None:
    account = await px.account.get()
    console.print(
        f"[bold]Account[/]: {account.user.name} <{account.user.email}>, "
        f"default team '{account.default_team.name}'"
    )
    teams = Table("team", "id", "API enabled", title="Teams")
    async for team in px.teams.list():
        teams.add_row(team.name, str(team.id), "yes" if team.api_enabled else "no")
    console.print(teams)


async def _projects_step(px: Pixop) -> None:
    default = await px.projects.get_default()
    console.print(f"default project: {default.name} ({default.id})")
    created = [await px.projects.create(f"demo project {i}") for i in range(1, 4)]
    renamed = await px.projects.update(created[0].id, name="demo project (renamed)")
    table = Table("project", "id", title="Projects, 2 per page, newest first")
    async for project in px.projects.list(page_size=2, sort_direction="DESC"):
        table.add_row(project.name, str(project.id))
    console.print(table)
    console.print(f"renamed {renamed.id} to '{renamed.name}'")
    for project in created:
        await px.projects.delete(project.id)
    console.print(f"deleted {len(created)} demo projects")


async def _api_keys_step(px: Pixop) -> None:
    key = await px.api_keys.create("demo key", description="made by pixop demo")
    console.print(f"created API key {key.id} ({key.api_key_hidden}); secret shown once, not here")
    try:
        await px.api_keys.delete(key.id)
    except ConflictError as exc:
        console.print(f"deleting an active key is refused: [yellow]{exc.error_code}[/]")
    await px.api_keys.deactivate(key.id)
    await px.api_keys.delete(key.id)
    console.print("deactivated and deleted the demo key")
