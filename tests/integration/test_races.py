"""Every race has one winner: claims and completions of a task, idempotent intake, publishing and deploying.

The concurrent cases run two or more real requests in threads against the real database, and hold each one just
before its first statement that writes or locks until all are there (`tests.support.races.Meeting`): each request
has made its unlocked checks, so without a shared lock they would all believe they won. On SQLite every transaction
takes the database's write lock when it begins, so requests never overlap there: those cases need PostgreSQL.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from sqlalchemy import func, select

from service.api import edge
from service.api.problems import CONCURRENT_CHANGE
from service.app import create_app
from service.clients.models import Contact
from service.context import Context
from service.jobs.models import Job
from service.sla.models import BREACH, BreachReview, SlaEvent
from service.tickets.models import Ticket
from service.worker import drain
from tests.integration.conftest import Api
from tests.support.diagrams import ticket_xml
from tests.support.incidents import fail_job
from tests.support.races import Meeting, run_parties
from tests.support.rules import rule_text

BODY = {"client": "NORD-BANK", "contact_email": "it@nord-bank.example", "channel": "api", "summary": "Array down"}


@pytest.fixture
def on_postgres(ctx: Context) -> None:
    """Skip unless the suite runs on PostgreSQL."""
    if ctx.engine.dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL: on SQLite every transaction holds the write lock, so requests never overlap")


def _clients(api: Api, count: int, *users: str) -> list[Api]:
    """One test client per thread, sharing the tokens (issued here, before any thread starts)."""
    for name in users:
        api.token(name)
    clients = []
    for _ in range(count):
        other = Api(api.client.application.test_client(), api.ctx)
        other._tokens = api._tokens
        clients.append(other)
    return clients


def _race(api: Api, calls: list[Any], *, in_turn: bool = False) -> list[Any]:
    """Run the calls met before their first write or lock, then together or in turn; their answers, in order."""
    with Meeting(api.ctx.engine, len(calls), in_turn=in_turn) as meeting:
        answers = run_parties(meeting, calls)
    for answer in answers:
        if isinstance(answer, Exception):
            raise answer
    return answers


def _kinds(api: Api, number: str) -> Counter[str]:
    return Counter(event["kind"] for event in api.history(number, as_="admin"))


def _tickets(api: Api) -> int:
    with api.ctx.sessions() as session:
        return session.scalar(select(func.count()).select_from(Ticket)) or 0


# Claims and completions


#: How the racing requests go on once each has made its checks: together (a missing lock shows), or each once the
#: one before has finished (a check made before the lock and not again after it shows).
TOGETHER, IN_TURN = "together", "in turn"


@pytest.mark.postgres
@pytest.mark.parametrize("mode", [TOGETHER, IN_TURN])
def test_two_claims_of_one_task_have_one_winner(api: Api, on_postgres: None, mode: str) -> None:
    number = api.open_ticket()["number"]
    drain(api.ctx)
    task_id = api.task(number, "clarify", as_="duty")["id"]
    one, two = _clients(api, 2, "duty", "admin")
    answers = _race(
        api,
        [
            lambda: one.post(f"/tasks/{task_id}/claim", as_="duty"),
            lambda: two.post(f"/tasks/{task_id}/claim", as_="admin"),
        ],
        in_turn=mode == IN_TURN,
    )
    assert sorted(answer.status_code for answer in answers) == [200, 409]
    winner = "duty" if answers[0].status_code == 200 else "admin"
    assert api.get(f"/tasks/{task_id}", as_="admin").get_json()["claimed_by"] == winner
    assert _kinds(api, number)["task_claimed"] == 1


@pytest.mark.postgres
@pytest.mark.parametrize("first", [None, "claim", "complete"])
def test_a_claim_and_a_completion_of_one_task_have_one_winner(api: Api, on_postgres: None, first: str | None) -> None:
    number = api.open_ticket()["number"]
    drain(api.ctx)
    task_id = api.task(number, "clarify", as_="duty")["id"]
    claimer, completer = _clients(api, 2, "duty", "admin")
    calls = {
        "claim": lambda: claimer.post(f"/tasks/{task_id}/claim", as_="admin"),
        "complete": lambda: completer.post(
            f"/tasks/{task_id}/complete", as_="duty", json={"data": {"description": "d"}}
        ),
    }
    order = ["complete", "claim"] if first == "complete" else ["claim", "complete"]
    answers = dict(zip(order, _race(api, [calls[name] for name in order], in_turn=first is not None), strict=True))
    claimed, completed = answers["claim"].status_code, answers["complete"].status_code
    assert sorted((claimed, completed)) == [200, 409]
    if first is not None:
        assert answers[first].status_code == 200
    task = api.get(f"/tasks/{task_id}", as_="admin").get_json()
    kinds = _kinds(api, number)
    if claimed == 200:
        assert task["state"] == "open" and task["claimed_by"] == "admin"
        assert (kinds["task_claimed"], kinds["task_completed"]) == (1, 0)
    else:
        assert task["state"] == "completed" and task["claimed_by"] is None
        assert (kinds["task_claimed"], kinds["task_completed"]) == (0, 1)


def _breach_review(api: Api) -> int:
    """A breach review of a new ticket's reaction clock, as the worker opens it when the deadline passes."""
    number = api.open_ticket()["number"]
    with api.ctx.sessions() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.number == number))
        assert ticket is not None
        event = session.scalar(select(SlaEvent).where(SlaEvent.ticket_id == ticket.id, SlaEvent.kind == BREACH))
        assert event is not None and event.due_at is not None
        review = BreachReview(ticket_id=ticket.id, event_id=event.id, clock=event.clock, due_at=event.due_at)
        session.add(review)
        session.commit()
        return review.id


@pytest.mark.postgres
@pytest.mark.parametrize("mode", [TOGETHER, IN_TURN])
@pytest.mark.parametrize("path", ["/sla/reviews/{id}", "/tasks/breach-review-{id}"])
def test_two_claims_of_one_breach_review_have_one_winner(api: Api, on_postgres: None, path: str, mode: str) -> None:
    review = path.format(id=_breach_review(api))
    one, two = _clients(api, 2, "manager", "admin")
    answers = _race(
        api,
        [lambda: one.post(f"{review}/claim", as_="manager"), lambda: two.post(f"{review}/claim", as_="admin")],
        in_turn=mode == IN_TURN,
    )
    assert sorted(answer.status_code for answer in answers) == [200, 409]
    winner = "manager" if answers[0].status_code == 200 else "admin"
    assert api.get(review, as_="admin").get_json()["claimed_by"] == winner


@pytest.mark.postgres
@pytest.mark.parametrize("first", [None, "claim", "complete"])
def test_a_claim_and_a_completion_of_one_breach_review_have_one_winner(
    api: Api, on_postgres: None, first: str | None
) -> None:
    review = f"/sla/reviews/{_breach_review(api)}"
    claimer, completer = _clients(api, 2, "manager", "admin")
    data = {"reason": "capacity", "comment": "nobody free"}
    calls = {
        "claim": lambda: claimer.post(f"{review}/claim", as_="admin"),
        "complete": lambda: completer.post(f"{review}/complete", as_="manager", json={"data": data}),
    }
    order = ["complete", "claim"] if first == "complete" else ["claim", "complete"]
    answers = dict(zip(order, _race(api, [calls[name] for name in order], in_turn=first is not None), strict=True))
    claimed, completed = answers["claim"].status_code, answers["complete"].status_code
    assert sorted((claimed, completed)) == [200, 409]
    if first is not None:
        assert answers[first].status_code == 200
    state = api.get(review, as_="admin").get_json()
    if claimed == 200:
        assert (state["state"], state["claimed_by"], state["reviewed_by"]) == ("open", "admin", None)
    else:
        assert (state["state"], state["claimed_by"], state["reviewed_by"]) == ("completed", None, "manager")


# Idempotency keys


@pytest.mark.postgres
def test_concurrent_retries_with_one_key_open_one_ticket(api: Api, on_postgres: None) -> None:
    clients = _clients(api, 3, "duty")
    answers = _race(
        api,
        [
            lambda client=client: client.post("/tickets", as_="duty", json=BODY, headers={"Idempotency-Key": "k-1"})
            for client in clients
        ],
    )
    assert sorted(answer.status_code for answer in answers) == [200, 200, 201], [a.get_json() for a in answers]
    assert len({answer.get_json()["number"] for answer in answers}) == 1
    assert _tickets(api) == 1


@pytest.mark.postgres
def test_concurrent_requests_with_one_key_and_two_bodies_open_one_ticket(api: Api, on_postgres: None) -> None:
    one, two = _clients(api, 2, "duty")
    other = {**BODY, "summary": "Something else"}
    answers = _race(
        api,
        [
            lambda: one.post("/tickets", as_="duty", json=BODY, headers={"Idempotency-Key": "k-2"}),
            lambda: two.post("/tickets", as_="duty", json=other, headers={"Idempotency-Key": "k-2"}),
        ],
    )
    assert sorted(answer.status_code for answer in answers) == [201, 422]
    assert _tickets(api) == 1


def test_a_key_reused_with_another_body_is_refused(api: Api) -> None:
    first = api.post("/tickets", as_="duty", json=BODY, headers={"Idempotency-Key": "k-3"})
    assert first.status_code == 201
    for changed in (
        {**BODY, "summary": "Another"},
        {**BODY, "severity": "critical"},
        {**BODY, "client": "MEGA-RETAIL"},
    ):
        again = api.post("/tickets", as_="duty", json=changed, headers={"Idempotency-Key": "k-3"})
        assert again.status_code == 422, again.get_json()
        assert again.headers["Content-Type"] == "application/problem+json"
        assert "Idempotency-Key" in again.get_json()["detail"]
    # the same request again, its fields in another order and the default severity spelled out: the same ticket
    reordered = {"severity": "normal", **dict(reversed(list(BODY.items())))}
    retry = api.post("/tickets", as_="duty", json=reordered, headers={"Idempotency-Key": "k-3"})
    assert retry.status_code == 200 and retry.get_json()["number"] == first.get_json()["number"]
    # another caller's key of the same name is theirs
    assert api.post("/tickets", as_="admin", json=BODY, headers={"Idempotency-Key": "k-3"}).status_code == 201
    assert _tickets(api) == 2


def test_the_intake_account_gets_its_ticket_back_on_a_retry(api: Api) -> None:
    first = api.post("/tickets", as_="intake", json=BODY, headers={"Idempotency-Key": "mail-77"})
    assert first.status_code == 201
    retry = api.post("/tickets", as_="intake", json=BODY, headers={"Idempotency-Key": "mail-77"})
    assert retry.status_code == 200, retry.get_json()
    assert retry.get_json()["number"] == first.get_json()["number"]
    assert retry.headers["Location"] == first.headers["Location"]
    assert _tickets(api) == 1
    followed = api.client.get(first.headers["Location"], headers={"Authorization": f"Bearer {api.token('intake')}"})
    assert followed.status_code == 200 and followed.get_json()["number"] == first.get_json()["number"]
    other = api.open_ticket(as_="duty")["number"]  # a ticket it did not open stays out of its sight
    assert api.get(f"/tickets/{other}", as_="intake").status_code == 404


# Publishing rulesets and deploying diagrams


def _variant(text: str, index: int) -> str:
    return f"{text}\n# variant {index}\n"


@pytest.mark.postgres
def test_concurrent_publishes_of_a_ruleset_get_their_own_versions(api: Api, on_postgres: None) -> None:
    clients = _clients(api, 3, "analyst")
    texts = [_variant(rule_text("routing"), index) for index in range(3)]
    answers = _race(
        api,
        [
            lambda client=client, text=text: client.call("PUT", "/rulesets/routing", as_="analyst", data=text)
            for client, text in zip(clients, texts, strict=True)
        ],
    )
    assert [answer.status_code for answer in answers] == [201, 201, 201], [a.get_json() for a in answers]
    assert sorted(answer.get_json()["version"] for answer in answers) == [2, 3, 4]
    versions = api.get("/rulesets/routing/versions", as_="analyst").get_json()["items"]
    assert [row["version"] for row in versions] == [4, 3, 2, 1]
    assert sum(1 for row in versions if row["active"]) == 1


@pytest.mark.postgres
def test_identical_concurrent_publishes_of_a_ruleset_make_one_version(api: Api, on_postgres: None) -> None:
    clients = _clients(api, 3, "analyst")
    text = _variant(rule_text("routing"), 9)
    answers = _race(
        api,
        [lambda client=client: client.call("PUT", "/rulesets/routing", as_="analyst", data=text) for client in clients],
    )
    assert sorted(answer.status_code for answer in answers) == [200, 200, 201], [a.get_json() for a in answers]
    assert {answer.get_json()["version"] for answer in answers} == {2}
    assert [row["version"] for row in api.get("/rulesets/routing/versions", as_="analyst").get_json()["items"]] == [
        2,
        1,
    ]


def _deploy(client: Api, xml: bytes) -> Any:
    return client.post("/process-definitions", as_="owner", data=xml, headers={"Content-Type": "application/xml"})


@pytest.mark.postgres
def test_concurrent_deploys_of_a_diagram_get_their_own_versions(api: Api, on_postgres: None) -> None:
    clients = _clients(api, 3, "owner")
    xmls = [ticket_xml() + f"<!-- variant {index} -->\n".encode() for index in range(3)]
    answers = _race(
        api, [lambda client=client, xml=xml: _deploy(client, xml) for client, xml in zip(clients, xmls, strict=True)]
    )
    assert [answer.status_code for answer in answers] == [201, 201, 201], [a.get_json() for a in answers]
    assert sorted(answer.get_json()["version"] for answer in answers) == [2, 3, 4]


@pytest.mark.postgres
def test_identical_concurrent_deploys_of_a_diagram_make_one_version(api: Api, on_postgres: None) -> None:
    clients = _clients(api, 3, "owner")
    xml = ticket_xml() + b"<!-- the same change -->\n"
    answers = _race(api, [lambda client=client: _deploy(client, xml) for client in clients])
    assert sorted(answer.status_code for answer in answers) == [200, 200, 201], [a.get_json() for a in answers]
    assert {answer.get_json()["version"] for answer in answers} == {2}
    versions = api.get("/process-definitions/ticket/versions", as_="owner").get_json()["items"]
    assert [row["version"] for row in versions] == [2, 1]


# Incidents


@pytest.mark.postgres
def test_two_retries_of_one_incident_have_one_winner(api: Api, on_postgres: None) -> None:
    number = api.open_ticket()["number"]
    with api.ctx.sessions() as session:
        job = session.scalars(
            select(Job).join(Ticket, Ticket.id == Job.ticket_id).where(Ticket.number == number)
        ).first()
        assert job is not None
        incident_id = fail_job(session, job, "the file store is down")
        session.commit()
    one, two = _clients(api, 2, "manager", "admin")
    answers = _race(
        api,
        [
            lambda: one.post(f"/incidents/{incident_id}/retry", as_="manager"),
            lambda: two.post(f"/incidents/{incident_id}/retry", as_="admin"),
        ],
    )
    assert sorted(answer.status_code for answer in answers) == [200, 409]
    assert _kinds(api, number)["incident_retried"] == 1


@pytest.mark.postgres
def test_two_tickets_at_once_from_a_new_address_make_one_contact(api: Api, on_postgres: None) -> None:
    one, two = _clients(api, 2, "duty")
    body = {**BODY, "contact_email": "new.person@nord-bank.example"}
    answers = _race(
        api, [lambda: one.post("/tickets", as_="duty", json=body), lambda: two.post("/tickets", as_="duty", json=body)]
    )
    assert [answer.status_code for answer in answers] == [201, 201], [a.get_json() for a in answers]
    assert len({answer.get_json()["number"] for answer in answers}) == 2
    with api.ctx.sessions() as session:
        contacts = session.scalars(select(Contact).where(Contact.email == body["contact_email"])).all()
    assert [contact.confirmed for contact in contacts] == [False]
    unconfirmed = [_kinds(api, answer.get_json()["number"])["contact_unconfirmed"] for answer in answers]
    assert sorted(unconfirmed) == [0, 1]


def test_a_constraint_that_catches_a_concurrent_loser_answers_409(ctx: Context) -> None:
    """Were a race left unguarded, the database's refusal reaches the caller as the conflict it is, not as a 500."""
    app = create_app(context=ctx)  # its own: the shared app has answered requests, so it takes no new route
    api = Api(app.test_client(), ctx)

    def duplicate_contact() -> None:
        session = edge.session()
        client_id = session.scalar(select(Contact.client_id).where(Contact.email == BODY["contact_email"]))
        session.add(Contact(client_id=client_id, email=BODY["contact_email"]))
        session.flush()

    app.add_url_rule("/api/v1/test-duplicate", "test_duplicate", duplicate_contact, methods=["POST"])
    answer = api.post("/test-duplicate", as_="duty")
    assert answer.status_code == 409 and answer.headers["Content-Type"] == "application/problem+json"
    assert answer.get_json()["detail"] == CONCURRENT_CHANGE
