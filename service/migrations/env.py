"""Alembic environment: the URL comes from the caller's config or the service configuration."""

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext

from service.config import Config
from service.db import UtcDateTime, make_engine
from service.models import Base

config = context.config
url = config.get_main_option("sqlalchemy.url") or Config.from_env().database_url


def run_migrations_offline() -> None:
    """Write the SQL without a database."""
    context.configure(url=url, target_metadata=Base.metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Apply the migrations on the database."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            _run(conn)
    finally:
        engine.dispose()


def _render_item(kind: str, item: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Write the project's UTC time column as the plain type it stores, so migrations need no project import."""
    if kind == "type" and isinstance(item, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection, target_metadata=Base.metadata, render_as_batch=True, render_item=_render_item
    )
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # SQLite changes a table by rebuilding it: with foreign keys on, dropping the old table would delete (cascade)
        # the rows that refer to it. The pragma only takes effect outside a transaction, hence the driver connection.
        connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
    try:
        with context.begin_transaction():
            context.run_migrations()
            if sqlite and connection.exec_driver_sql("PRAGMA foreign_key_check").first() is not None:
                raise RuntimeError("the migration left rows whose foreign keys point nowhere; nothing was changed")
    finally:
        if sqlite:
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
