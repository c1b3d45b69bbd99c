"""The API's schemas validate input the way the API guide says."""

from __future__ import annotations

import pytest
from marshmallow import ValidationError

from service.tasks.schemas import CompleteSchema
from service.tickets.schemas import TicketCreateSchema, TicketQuerySchema

VALID = {"client": "NORD-BANK", "contact_email": "it@nord-bank.example", "channel": "portal", "summary": "x"}


def test_defaults_of_a_new_ticket() -> None:
    loaded = TicketCreateSchema().load(VALID)
    assert loaded["severity"] == "normal" and loaded["category"] == "hardware"
    assert loaded["equipment_serial"] is None and loaded["description"] == ""


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"channel": "fax"}, "channel"),
        ({"severity": "urgent"}, "severity"),
        ({"category": "paperwork"}, "category"),
        ({"summary": ""}, "summary"),
        ({"summary": "x" * 301}, "summary"),
        ({"contact_email": "nobody"}, "contact_email"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_ticket_fields_are_named(change: dict, field: str) -> None:
    with pytest.raises(ValidationError) as refused:
        TicketCreateSchema().load({**VALID, **change})
    assert field in refused.value.messages


def test_page_bounds() -> None:
    assert TicketQuerySchema().load({})["page_size"] == 50
    with pytest.raises(ValidationError):
        TicketQuerySchema().load({"page_size": 201})
    with pytest.raises(ValidationError) as refused:
        TicketQuerySchema().load({"page": 2})
    assert "cursor" in refused.value.messages["page"][0]


def test_completion_needs_a_data_object() -> None:
    assert CompleteSchema().load({"data": {"a": 1}}) == {"data": {"a": 1}}
    for bad in ({}, {"data": [1]}, {"data": "x"}):
        with pytest.raises(ValidationError):
            CompleteSchema().load(bad)
