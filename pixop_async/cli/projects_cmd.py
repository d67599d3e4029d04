"""``pixop projects``: list, show, create, rename and delete projects."""

from __future__ import annotations

import argparse

from .common import add_common_options, console, model_table, open_client, show


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("projects", help="manage projects")
    actions = parser.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="list projects")
    listing.add_argument("--team-id", default=None)
    listing.add_argument("--limit", type=int, default=None, help="stop after this many")
    get = actions.add_parser("get", help="show one project (or 'default')")
    get.add_argument("project_id")
    create = actions.add_parser("create", help="create a project")
    create.add_argument("name")
    create.add_argument("--team-id", default=None)
    rename = actions.add_parser("rename", help="rename a project")
    rename.add_argument("project_id")
    rename.add_argument("name")
    delete = actions.add_parser("delete", help="delete an empty project")
    delete.add_argument("project_id")
    for sub in (listing, get, create, rename, delete):
        add_common_options(sub)
    parser.set_defaults(func=run)


async def run(args: argparse.Namespace) -> int:
    async with open_client(args) as px:
        if args.action == "list":
            projects = await px.projects.list(team_id=args.team_id, page_size=100).to_list(
                args.limit
            )
            rows = [(p.name, p.id, p.team_id, p.created_at.isoformat()) for p in projects]
            show(
                args,
                projects,
                lambda: console.print(
                    model_table("Projects", ("name", "id", "team", "created"), rows)
                ),
            )
            return 0
        if args.action == "get":
            if args.project_id == "default":
                project = await px.projects.get_default()
            else:
                project = await px.projects.get(args.project_id)
        elif args.action == "create":
            project = await px.projects.create(args.name, select_team_id=args.team_id)
        elif args.action == "rename":
            project = await px.projects.update(args.project_id, name=args.name)
        else:
            await px.projects.delete(args.project_id)
            show(
                args,
                {"deleted": args.project_id},
                lambda: console.print(f"deleted project {args.project_id}"),
            )
            return 0
        show(
            args,
            project,
            lambda: console.print(f"{project.name}  [dim]{project.id}[/] team {project.team_id}"),
        )
        return 0
