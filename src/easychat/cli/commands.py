"""Provides the `easychat` command and its subcommands: the argument parser and dispatch."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from easychat import __version__
from easychat.cli.join import JOIN_OPTIONS, join
from easychat.cli.serve import SERVE_OPTIONS, serve
from easychat.cli.settings import SettingsError, add_options, resolve
from easychat.cli.tools import export_history, print_password_hash


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand."""
    parser = argparse.ArgumentParser(prog="easychat", description="A terminal chat over IRC.")
    parser.add_argument("--version", action="version", version=f"easychat {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    serve = sub.add_parser(
        "serve",
        help="run the chat server",
        description="Run the EasyChat server. Every flag can also be set with the "
        "environment variable shown, or in the TOML file given to --config.",
    )
    add_options(serve, SERVE_OPTIONS)
    join = sub.add_parser(
        "join",
        help="run the chat client",
        description="Open the EasyChat client. Every setting can also be set with the "
        "environment variable shown, or in the TOML file given to --config.",
    )
    add_options(join, JOIN_OPTIONS)
    sub.add_parser(
        "hash-password",
        help="print the hash of a password, for --oper NAME:HASH",
        description="Read a password (asked twice on a terminal, else the first line of "
        "standard input) and print its scrypt hash for --oper NAME:HASH.",
    )
    history = sub.add_parser("history", help="work with the server's stored history")
    history_sub = history.add_subparsers(dest="history_command", metavar="ACTION")
    export = history_sub.add_parser(
        "export",
        help="print a room's history",
        description="Print the stored history of one room, oldest first.",
    )
    export.add_argument("--db", required=True, help="the server's SQLite history file")
    export.add_argument("--room", required=True, help="the room, e.g. '#lobby'")
    export.add_argument("--format", choices=("jsonl", "txt"), default="txt")
    join.add_argument("--auto", action="store_true", help="log in straight away")
    join.add_argument("--no-log", action="store_true", help="keep no local log")
    join.add_argument("--no-timestamps", action="store_true", help="hide the time of each line")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `easychat` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "serve":
        try:
            settings = resolve(args, SERVE_OPTIONS)
            return serve(settings)
        except SettingsError as exc:
            parser.exit(2, f"easychat serve: error: {exc}\n")
    if args.command == "hash-password":
        return print_password_hash()
    if args.command == "history" and args.history_command == "export":
        return export_history(args.db, args.room, args.format)
    if args.command == "join":
        try:
            settings = resolve(args, JOIN_OPTIONS)
            return join(settings, args)
        except SettingsError as exc:
            parser.exit(2, f"easychat join: error: {exc}\n")
    parser.print_help()
    return 2
