"""The `orchestrator` command: run, worker, migrate, deploy, demo, token."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from service.config import Config


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
    from service.demo import USERS, load_demo

    ctx = _context(config)
    with transaction(ctx.sessions) as session:
        load_demo(session)
        tokens = {name: issue_token(session, username=name) for name in USERS} if args.tokens else {}
    print("demo data loaded")
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


def cmd_worker(config: Config, _args: argparse.Namespace) -> int:
    """Run jobs until SIGTERM or Ctrl-C."""
    from service.worker import run_worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        run_worker(_context(config), stop=stop)
    except KeyboardInterrupt:
        pass
    return 0


def cmd_run(config: Config, args: argparse.Namespace) -> int:
    """Serve the API (gunicorn) and run the worker together until Ctrl-C."""
    web = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            args.bind,
            "--workers",
            str(args.workers),
            "--access-logfile",
            "-",
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


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(prog="orchestrator", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help=cmd_run.__doc__)
    run.add_argument("--bind", default="127.0.0.1:8000")
    run.add_argument("--workers", type=int, default=2)
    run.set_defaults(func=cmd_run)
    sub.add_parser("worker", help=cmd_worker.__doc__).set_defaults(func=cmd_worker)
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
