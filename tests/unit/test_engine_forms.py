"""Server-side validation of user task forms, and completing tasks that are not open."""

from __future__ import annotations

import uuid

import pytest

from service.engine import FormError, FormField, TaskNotOpen
from service.engine.forms import validate_form
from tests.unit.test_engine_helpers import Driver, FakeRules, ticket_definition

FIELDS = (
    FormField("text", "Text", "string", required=True, constraints={"maxlength": 5}),
    FormField("count", "Count", "long", constraints={"min": 0}),
    FormField("amount", "Amount", "number"),
    FormField("ratio", "Ratio", "double"),
    FormField("flag", "Flag", "boolean"),
    FormField("day", "Day", "date"),
    FormField("pick", "Pick", "enum", values=(("a", "A"), ("b", "B"))),
    FormField("locked", "Locked", "string", readonly=True),
)


def errors_of(data):
    with pytest.raises(FormError) as caught:
        validate_form(FIELDS, data)
    return caught.value.errors


def test_valid_data_is_returned_for_merging():
    data = {"text": "ok", "count": 3, "amount": 2.5, "ratio": 1, "flag": False, "day": "2024-02-29", "pick": "b"}
    assert validate_form(FIELDS, data) == data


def test_missing_or_null_optional_fields_are_left_out():
    assert validate_form(FIELDS, {"text": "ok", "count": None}) == {"text": "ok"}


@pytest.mark.parametrize("value", [None, "", "   "])
def test_required_fields_must_be_present_and_non_empty(value):
    data = {} if value is None else {"text": value}
    assert errors_of(data) == {"text": ["this field is required"]}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("text", 12, "must be a string"),
        ("text", "too long", "must be at most 5 characters"),
        ("count", 1.5, "must be a whole number"),
        ("count", True, "must be a whole number"),
        ("count", "3", "must be a whole number"),
        ("count", -1, "must be at least 0"),
        ("amount", True, "must be a number"),
        ("amount", "2.5", "must be a number"),
        ("amount", float("inf"), "must be a finite number"),
        ("ratio", False, "must be a number"),
        ("flag", "true", "must be true or false"),
        ("flag", 1, "must be true or false"),
        ("day", "29/02/2024", "must be a date written YYYY-MM-DD"),
        ("day", "2023-02-29", "is not a valid date"),
        ("day", 20240229, "must be a date written YYYY-MM-DD"),
        ("pick", "c", "must be one of: a, b"),
        ("locked", "x", "this field is read-only"),
    ],
)
def test_types_are_checked(field, value, message):
    assert errors_of({"text": "ok", field: value}) == {field: [message]}


def test_unknown_fields_are_refused_and_all_errors_reported_together():
    errors = errors_of({"surprise": 1, "count": "x"})
    assert errors == {
        "surprise": ["unknown field"],
        "text": ["this field is required"],
        "count": ["must be a whole number"],
    }


def test_form_data_must_be_an_object():
    assert errors_of(["text"]) == {"_": ["form data must be an object"]}


@pytest.fixture(scope="module")
def definition():
    return ticket_definition()


def test_a_refused_form_leaves_the_task_open_and_the_data_unchanged(definition):
    driver = Driver(definition, FakeRules())
    task = driver.task("clarify")
    with pytest.raises(FormError) as caught:
        driver.run.complete_user_task(task.id, {"description": "", "severity": "urgent", "route": "contract"})
    assert caught.value.errors == {
        "description": ["this field is required"],
        "severity": ["must be one of: critical, high, normal, low"],
        "route": ["unknown field"],
    }
    assert driver.open_tasks() == ["clarify"]
    assert "route" not in driver.run.data
    assert driver.run.data["severity"] == "high"


def test_only_form_fields_are_merged(definition):
    driver = Driver(definition, FakeRules())
    with pytest.raises(FormError):
        driver.run.complete_user_task(driver.task("clarify").id, {"description": "x", "paid": True})
    driver.complete("clarify", {"description": "x", "severity": None})
    assert driver.run.data["paid"] is False
    assert driver.run.data["severity"] == "high"  # null leaves the service's value alone


def test_unknown_or_closed_task_ids_raise_task_not_open(definition):
    driver = Driver(definition, FakeRules())
    run = driver.run
    with pytest.raises(TaskNotOpen):
        run.complete_user_task(str(uuid.uuid4()), {})
    with pytest.raises(TaskNotOpen):
        run.complete_user_task("not-a-uuid", {})
    with pytest.raises(TaskNotOpen):
        run.complete_external_task(driver.task("clarify").id, {})  # a user task is not an external task

    old_id = driver.task("clarify").id
    driver.complete("clarify", {"description": "x"})
    with pytest.raises(TaskNotOpen) as caught:
        driver.run.complete_user_task(old_id, {"description": "again"})
    assert caught.value.task_id == old_id
