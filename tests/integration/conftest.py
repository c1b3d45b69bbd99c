"""API fixtures: a test client and tokens for the demo users."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service.app import create_app
from service.auth.services import issue_token
from service.context import Context
from service.db import transaction
from service.logs import configure_logging
from service.observability.views import metrics_registry
from service.worker import drain


class Api:
    """A thin HTTP helper: calls as a named demo user."""

    def __init__(self, client: FlaskClient, ctx: Context) -> None:
        self.client = client
        self.ctx = ctx
        self._tokens: dict[str, str] = {}

    def token(self, username: str) -> str:
        if username not in self._tokens:
            with transaction(self.ctx.sessions) as session:
                self._tokens[username] = issue_token(session, username=username)
        return self._tokens[username]

    def forget_token(self, username: str) -> None:
        """Drop the user's token (ended by signing out everywhere): the next call issues a new one."""
        self._tokens.pop(username, None)

    def call(self, method: str, path: str, *, as_: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.token(as_)}", **kwargs.pop("headers", {})}
        return self.client.open(f"/api/v1{path}", method=method, headers=headers, **kwargs)

    def get(self, path: str, *, as_: str, **kwargs: Any) -> Any:
        return self.call("GET", path, as_=as_, **kwargs)

    def post(self, path: str, *, as_: str, **kwargs: Any) -> Any:
        return self.call("POST", path, as_=as_, **kwargs)

    def open_ticket(self, *, as_: str = "duty", **fields: Any) -> dict[str, Any]:
        body = {
            "client": "NORD-BANK",
            "contact_email": "it@nord-bank.example",
            "equipment_serial": "IBM-FS5200-0001",
            "channel": "portal",
            "summary": "Disk array degraded",
            "description": "Controller B reports errors",
            "severity": "high",
            "category": "hardware",
            **fields,
        }
        response = self.post("/tickets", as_=as_, json={k: v for k, v in body.items() if v is not None})
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def task(self, number: str, name: str, *, as_: str) -> dict[str, Any]:
        tasks = self.get(f"/tasks?ticket={number}&page_size=500", as_=as_).get_json()["items"]
        matching = [task for task in tasks if task["name"] == name]
        assert matching, f"{as_} sees no {name} task of {number}; sees {[t['name'] for t in tasks]}"
        detail = self.get(f"/tasks/{matching[0]['id']}", as_=as_)  # the list is lean: the form is in the detail
        assert detail.status_code == 200, detail.get_json()
        return detail.get_json()

    def complete(self, number: str, name: str, data: dict[str, Any], *, as_: str) -> dict[str, Any]:
        task = self.task(number, name, as_=as_)
        response = self.post(f"/tasks/{task['id']}/complete", as_=as_, json={"data": data})
        assert response.status_code == 200, response.get_json()
        drain(self.ctx)
        return response.get_json()

    def history(self, number: str, *, as_: str = "admin") -> list[dict[str, Any]]:
        """Every event of the ticket, oldest first, read page by page."""
        events: list[dict[str, Any]] = []
        cursor = ""
        while True:
            response = self.get(f"/tickets/{number}/history?page_size=200{cursor}", as_=as_)
            assert response.status_code == 200, response.get_json()
            events += response.get_json()["items"]
            if response.get_json()["next"] is None:
                return events
            cursor = f"&cursor={response.get_json()['next']}"

    def ticket(self, number: str, *, as_: str = "admin") -> dict[str, Any]:
        response = self.get(f"/tickets/{number}", as_=as_)
        assert response.status_code == 200, response.get_json()
        return response.get_json()


@pytest.fixture(scope="session")
def session_app(session_ctx: Context) -> Flask:
    """One API app for the whole run, like one process of the service: building it (every route, the OpenAPI
    document) costs more than most tests, and it holds no state of its own between requests."""
    return create_app(context=session_ctx)


def as_new(app: Flask) -> Flask:
    """The app set up as a freshly created one would be: its metrics' database gauges not yet counted (they are
    cached for a few seconds), the logs as the configuration says."""
    metrics_registry(app)
    config = app.extensions["orchestrator"].config
    configure_logging(config.log_level, config.log_format)
    return app


@pytest.fixture
def app(session_app: Flask, ctx: Context) -> Flask:
    """The API app over the test context."""
    return as_new(session_app)


@pytest.fixture
def api(app: Flask, ctx: Context) -> Api:
    """Calls to the API as demo users."""
    return Api(app.test_client(), ctx)
