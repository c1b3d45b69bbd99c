"""The Flask application factory."""

from __future__ import annotations

from typing import Any

import click
from flask import Flask
from werkzeug.routing import IntegerConverter, Map

from service.api import edge, problems
from service.api.contract import ContractApi, ContractPlugin
from service.api.guard import StrictJSONProvider
from service.config import Config
from service.context import Context, build_context
from service.fields import INT_MAX
from service.logs import configure_logging


class DatabaseId(IntegerConverter):
    """An integer path part no larger than a database id can be (the id columns are 32-bit on PostgreSQL): a larger
    one is not found (404), not a crash."""

    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", INT_MAX)
        super().__init__(url_map, *args, **kwargs)


def create_app(config: Config | None = None, *, context: Context | None = None) -> Flask:
    """The API app, with the process's context built from the configuration (or the one given)."""
    ctx = context or build_context(config or Config.from_env())
    app = Flask("service")
    app.config.update(
        API_TITLE="Service-desk orchestrator",
        API_VERSION="1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="/docs",
        OPENAPI_SWAGGER_UI_URL="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/",
        # A request may carry at least one file of the upload cap (`upload_mb`) with its multipart framing.
        MAX_CONTENT_LENGTH=max(8 * 1024 * 1024, int(ctx.config.upload_mb * 1024 * 1024) + 64 * 1024),
    )
    app.json = StrictJSONProvider(app)
    app.extensions["orchestrator"] = ctx
    app.url_map.converters["int"] = DatabaseId
    api = ContractApi(
        app,
        spec_kwargs={
            "info": {"description": "Tickets, queues and processes of the service desk."},
            "extra_plugins": [ContractPlugin()],
        },
    )
    api.register_converter(DatabaseId, lambda _converter: {"type": "integer", "minimum": 0, "maximum": INT_MAX})
    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    api.spec.options["security"] = [{"bearer": []}]
    from service.api.views import BLUEPRINTS
    from service.observability import views as operations
    from service.observability import web
    from service.web import site

    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint, url_prefix=f"/api/v1{blueprint.url_prefix or ''}")
    api.register_blueprint(operations.exposition)
    operations.metrics_registry(app)
    app.cli.add_command(flask_command)
    web.register(app)  # first: the request id is bound before the caller is authenticated
    edge.register(app)
    problems.register(app)
    site.register(app)  # after the API's error handlers: pages answer their failures as pages
    configure_logging(ctx.config.log_level, ctx.config.log_format)
    return app


@click.command(
    "orchestrator", context_settings={"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []}
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def flask_command(args: tuple[str, ...]) -> None:
    """The `orchestrator` commands, also as `flask --app service.wsgi orchestrator ...`."""
    from service.cli import main

    raise SystemExit(main(list(args)))
