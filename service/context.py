"""What one process of the service holds: configuration, database, caches and adapters."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from adapters import build_file_store, build_mailer
from adapters.files import FileStore
from adapters.mail import Mailer
from service.config import Config
from service.db import make_engine, make_session_factory
from service.processes.definitions import DefinitionCache
from service.rulesets.registry import RulesRegistry


@dataclass
class Context:
    """Built once per process (web worker or job worker) and passed to the services."""

    config: Config
    engine: Engine
    sessions: sessionmaker[Session]
    definitions: DefinitionCache = field(default_factory=DefinitionCache)
    rules: RulesRegistry = field(default_factory=RulesRegistry)
    file_store: FileStore | None = None
    mailer: Mailer | None = None


def build_context(config: Config) -> Context:
    """A context with the database and the adapters the configuration names."""
    engine = make_engine(config.database_url)
    return Context(
        config=config,
        engine=engine,
        sessions=make_session_factory(engine),
        rules=RulesRegistry(refresh_seconds=config.rules_refresh_seconds),
        definitions=DefinitionCache(latest_seconds=config.process_refresh_seconds),
        file_store=build_file_store(
            config.file_store, root=config.file_store_root, base_url=config.file_store_base_url
        ),
        mailer=build_mailer(config.mailer, **_mailer_settings(config)),
    )


def _mailer_settings(config: Config) -> dict[str, object]:
    if config.mailer.strip().lower() != "smtp":
        return {}
    return {
        "host": config.smtp_host,
        "port": config.smtp_port,
        "sender": config.mail_sender,
        "username": config.smtp_username or None,
        "password": config.smtp_password or None,
        "starttls": config.smtp_starttls,
    }
