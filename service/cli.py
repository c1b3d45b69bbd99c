"""The `orchestrator` command: run, worker, migrate, deploy, demo, token, user, rules, import, export."""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import threading
from datetime import datetime
from pathlib import Path

from service.config import Config
from service.logs import configure_logging


def _context(config: Config):  # type: ignore[no-untyped-def]
    from service.context import build_context

    return build_context(config)


def cmd_migrate(config: Config, _args: argparse.Namespace) -> int:
    """Bring the database schema to the newest version."""
    from service.migrations import upgrade

    if config.database_url.startswith("sqlite:///"):
        Path(config.database_url[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
    upgrade(config.database_url)
    print("database is at the newest schema")
    return 0


def cmd_deploy(config: Config, args: argparse.Namespace) -> int:
    """Publish rules/ and deploy processes/; a refused file keeps the previous version active."""
    from service.deploy import deploy_all

    lines = deploy_all(
        _context(config), rules_dir=config.rules_dir, processes_dir=config.processes_dir, actor=args.actor
    )
    for line in lines:
        print(f"{line.path}: {line.outcome}")
    return 0 if all(line.ok for line in lines) else 1


def cmd_demo(config: Config, args: argparse.Namespace) -> int:
    """Load the demo data and print a fresh token for every demo user."""
    from service.auth.services import issue_token
    from service.db import transaction
    from service.demo import DEMO_PASSWORD, USERS, load_demo, set_demo_passwords

    ctx = _context(config)
    with transaction(ctx.sessions) as session:
        load_demo(session)
        given = set_demo_passwords(session)
        tokens = {name: issue_token(session, username=name) for name in USERS} if args.tokens else {}
    print("demo data loaded")
    if given:
        print(f"password {DEMO_PASSWORD!r} set for the demo users that had none: {', '.join(given)}")
    if tokens:
        print(f"bearer tokens (each demo user signs in with the password {DEMO_PASSWORD!r} unless it was changed):")
    for name, token in tokens.items():
        print(f"  {name:<12} {token}")
    return 0


def cmd_token(config: Config, args: argparse.Namespace) -> int:
    """Print a new bearer token for a user, alone on the last line."""
    from service.auth.services import issue_token
    from service.db import transaction

    with transaction(_context(config).sessions) as session:
        token = issue_token(session, username=args.username)
    print(token)
    return 0


def _read_password(args: argparse.Namespace) -> str:
    """The new password: the first line of stdin with --password-stdin, else typed twice at a prompt."""
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    import getpass

    first = getpass.getpass("new password: ")
    if getpass.getpass("again: ") != first:
        from service.errors import Invalid

        raise Invalid("the two passwords differ")
    return first


def cmd_user_create(config: Config, args: argparse.Namespace) -> int:
    """Create an account; with --password-stdin it gets a password, else it has none (a service account, or a
    person to invite)."""
    from service.auth.accounts import create_user
    from service.db import transaction

    password = _read_password(args) if args.password_stdin else None
    with transaction(_context(config).sessions) as session:
        create_user(
            session,
            actor=args.actor,
            username=args.username,
            roles=args.role,
            groups=args.group,
            client=args.client,
            email=args.email,
            password=password,
            topics=args.topic,
        )
    print(f"user {args.username} created" + ("" if password is not None else " without a password"))
    return 0


def cmd_user_passwd(config: Config, args: argparse.Namespace) -> int:
    """Set an account's password (typed twice, or --password-stdin); its sessions and tokens end."""
    from service.auth.accounts import set_password
    from service.db import transaction

    password = _read_password(args)
    with transaction(_context(config).sessions) as session:
        set_password(session, username=args.username, password=password)
    print(f"password of {args.username} set; its sessions and tokens ended")
    return 0


def cmd_user_deactivate(config: Config, args: argparse.Namespace) -> int:
    """Deactivate an account: it cannot sign in, and its sessions and tokens end at once."""
    from service.auth.accounts import deactivate_user
    from service.db import transaction

    with transaction(_context(config).sessions) as session:
        ended = deactivate_user(session, actor=args.actor, username=args.username)
    print(f"user {args.username} deactivated; {ended} sessions and tokens ended")
    return 0


def _user_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    user = sub.add_parser("user", help="accounts: create one, set its password, deactivate it")
    commands = user.add_subparsers(dest="user_command", required=True)
    create = commands.add_parser("create", help=cmd_user_create.__doc__)
    create.add_argument("username")
    create.add_argument("--role", action="append", default=[], help="a role (repeat for more)")
    create.add_argument("--group", action="append", default=[], help="a group, e.g. storage-L1 (repeat for more)")
    create.add_argument("--client", help="the client's code, for a client's user")
    create.add_argument(
        "--topic", action="append", default=[], help="for a worker account: a topic it serves, * for all (repeat)"
    )
    create.add_argument("--email", default="", help="the address password-reset and invitation mails go to")
    create.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    create.add_argument("--actor", default="operator", help="who the change history names")
    create.set_defaults(func=cmd_user_create)
    passwd = commands.add_parser("passwd", help=cmd_user_passwd.__doc__)
    passwd.add_argument("username")
    passwd.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    passwd.set_defaults(func=cmd_user_passwd)
    deactivate = commands.add_parser("deactivate", help=cmd_user_deactivate.__doc__)
    deactivate.add_argument("username")
    deactivate.add_argument("--actor", default="operator", help="who the change history names")
    deactivate.set_defaults(func=cmd_user_deactivate)


def cmd_worker(config: Config, args: argparse.Namespace) -> int:
    """Run jobs until SIGTERM or Ctrl-C (--concurrency N: N worker loops, each in its own thread)."""
    from service.worker import run_workers

    configure_logging(config.log_level, config.log_format)
    if config.worker_metrics_port:
        from prometheus_client import start_http_server

        from service.observability.metrics import registry_with

        start_http_server(config.worker_metrics_port, registry=registry_with())
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        run_workers(
            _context(config), stop=stop, concurrency=getattr(args, "concurrency", None) or config.worker_concurrency
        )
    except KeyboardInterrupt:
        pass
    return 0


def cmd_run(config: Config, args: argparse.Namespace) -> int:
    """Serve the API (gunicorn) and run the worker together until Ctrl-C; /metrics counts both."""
    from service.observability.directory import multiprocess_dir

    # Before this process imports the metrics: the worker here writes where gunicorn's workers do.
    directory, made = multiprocess_dir()
    web = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            "python:service.gunicorn_config",
            "--bind",
            args.bind,
            "--workers",
            str(args.workers),
            "service.wsgi:app",
        ],
        env=os.environ.copy(),
    )
    print(f"serving http://{args.bind}/api/v1 (OpenAPI UI at /api/v1/docs); Ctrl-C stops")
    try:
        return cmd_worker(config, args)
    finally:
        web.terminate()
        web.wait(timeout=30)
        if made:
            shutil.rmtree(directory, ignore_errors=True)


def cmd_rules_export(config: Config, args: argparse.Namespace) -> int:
    """Write the active version of every ruleset to DIR/<name>.yaml (rules/ by default), as published."""
    from service.db import transaction
    from service.rulesets.services import export_rulesets

    with transaction(_context(config).sessions) as session:
        written = export_rulesets(session, directory=Path(args.dir or config.rules_dir))
    for row, path in written:
        print(f"{path}: {row.name} version {row.version} by {row.author or '?'}")
    return 0


def cmd_rules_what_if(config: Config, args: argparse.Namespace) -> int:
    """Run a draft rule file on the facts past decisions saw; say how many it would decide differently."""
    from service.db import transaction
    from service.rulesets.whatif import what_if, what_if_csv

    def progress(done: int, total: int) -> None:
        print(f"what-if: {done}/{total} decisions", file=sys.stderr, flush=True)

    last = args.last if args.last or args.since or args.until else 1000
    with transaction(_context(config).sessions) as session:
        result = what_if(
            session,
            name=args.name,
            text=Path(args.file).read_text(encoding="utf-8"),
            last=last,
            since=args.since,
            until=args.until,
            progress=progress,
        )
    print(f"{args.name}: {result.changed} of {result.total} decisions would be decided differently")
    if args.csv:
        Path(args.csv).write_text(what_if_csv(result), encoding="utf-8")
        print(f"rows written to {args.csv}")
    return 0


def _rules_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    rules = sub.add_parser("rules", help="rule files: export the active versions, or try a draft on past decisions")
    commands = rules.add_subparsers(dest="rules_command", required=True)
    export = commands.add_parser("export", help=cmd_rules_export.__doc__)
    export.add_argument("--dir", help="where to write (default: the rules directory, ORCHESTRATOR_RULES_DIR)")
    export.set_defaults(func=cmd_rules_export)
    what_if = commands.add_parser("what-if", help=cmd_rules_what_if.__doc__)
    what_if.add_argument("name", help="the ruleset, e.g. routing")
    what_if.add_argument("file", help="the draft rule file")
    what_if.add_argument("--last", type=int, help="the last N tickets (default 1000 when no range is given)")
    what_if.add_argument("--since", type=datetime.fromisoformat, help="decisions at or after (ISO date-time, UTC)")
    what_if.add_argument("--until", type=datetime.fromisoformat, help="decisions before (ISO date-time, UTC)")
    what_if.add_argument("--csv", help="also write every row to this CSV file")
    what_if.set_defaults(func=cmd_rules_what_if)


def _caller(session, username: str):  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from service.auth.models import Caller, User
    from service.errors import NotFound

    found = session.scalar(select(User).where(User.username == username))
    if found is None:
        raise NotFound(f"no user {username!r}")
    return Caller.of(found)


def cmd_import(config: Config, args: argparse.Namespace) -> int:
    """Import a CSV or XLSX file of a kind (clients, equipment, tickets); exit 1 when a row is refused."""
    import click

    from service.db import transaction
    from service.imports.services import Mode, import_file

    path = Path(args.file)
    ctx = _context(config)
    with (
        transaction(ctx.sessions) as session,
        click.progressbar(length=1, label=f"importing {path.name}", file=sys.stderr) as bar,
    ):
        shown = 0

        def progress(done: int, total: int) -> None:
            nonlocal shown
            bar.length = total
            bar.update(done - shown)
            shown = done

        report = import_file(
            session,
            user=_caller(session, args.as_user),
            kind=args.kind,
            data=path.read_bytes(),
            filename=path.name,
            dry_run=args.dry_run,
            mode=Mode(args.mode),
            progress=progress,
            ctx=ctx,
        )
    for refusal in report.refusals:
        print(f"{path.name}: row {refusal.row}: {refusal.column or 'row'}: {refusal.reason}")
    counts = ", ".join(f"{count} {outcome}" for outcome, count in report.counts.items())
    state = "dry run, nothing written" if report.dry_run else "written" if report.applied else "nothing written"
    print(f"{path.name}: {report.rows} rows: {counts} ({state})")
    return 1 if report.refused else 0


def cmd_export(config: Config, args: argparse.Namespace) -> int:
    """Write every record of a kind as CSV in the import's columns (to FILE, or to the standard output)."""
    from service.db import transaction
    from service.imports.services import export_csv

    with transaction(_context(config).sessions) as session:
        text = export_csv(session, user=_caller(session, args.as_user), kind=args.kind)
    if args.file:
        Path(args.file).write_text(text, encoding="utf-8", newline="")
    else:
        sys.stdout.write(text)
    return 0


def _imports_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    imports = sub.add_parser("import", help=cmd_import.__doc__)
    imports.add_argument("kind", help="clients, sites, contacts, equipment, contracts, price-list, users or tickets")
    imports.add_argument("file", help="a CSV (UTF-8 or Windows-1251, `;` or `,`) or XLSX file")
    imports.add_argument("--dry-run", action="store_true", help="check every row and report, writing nothing")
    imports.add_argument(
        "--mode", choices=["all_or_nothing", "valid_rows"], default="all_or_nothing", help="see docs/imports.md"
    )
    imports.add_argument("--as", dest="as_user", default="admin", help="the administrator the history names")
    imports.set_defaults(func=cmd_import)
    export = sub.add_parser("export", help=cmd_export.__doc__)
    export.add_argument("kind", help="clients, sites, contacts, equipment, contracts, price-list or users")
    export.add_argument("file", nargs="?", help="where to write (default: the standard output)")
    export.add_argument("--as", dest="as_user", default="admin", help="the administrator who exports")
    export.set_defaults(func=cmd_export)


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(prog="orchestrator", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help=cmd_run.__doc__)
    run.add_argument("--bind", default="127.0.0.1:8000")
    run.add_argument("--workers", type=int, default=2)
    run.set_defaults(func=cmd_run)
    worker = sub.add_parser("worker", help=cmd_worker.__doc__)
    worker.add_argument("--concurrency", type=int, help="worker loops (threads) in this process (default 1)")
    worker.set_defaults(func=cmd_worker)
    sub.add_parser("migrate", help=cmd_migrate.__doc__).set_defaults(func=cmd_migrate)
    deploy = sub.add_parser("deploy", help=cmd_deploy.__doc__)
    deploy.add_argument("--actor", default="release")
    deploy.set_defaults(func=cmd_deploy)
    demo = sub.add_parser("demo", help=cmd_demo.__doc__)
    demo.add_argument("--no-tokens", dest="tokens", action="store_false")
    demo.set_defaults(func=cmd_demo)
    token = sub.add_parser("token", help=cmd_token.__doc__)
    token.add_argument("username")
    token.set_defaults(func=cmd_token)
    _user_parser(sub)
    _rules_parser(sub)
    _imports_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `orchestrator` console script."""
    from service.errors import ServiceError

    args = build_parser().parse_args(argv)
    try:
        return int(args.func(Config.from_env(), args))
    except ServiceError as error:
        print(f"orchestrator {args.command}: {error.detail}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
