"""The contract of external tasks, named as Camunda's REST API names it, so that a Camunda external-task client can
talk to the service: camelCase fields, typed variables (`{"name": {"value": ..., "type": "String"}}`), times in ms."""

from __future__ import annotations

import json
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from service.fields import INT_MAX, Code, Line, Text

#: The longest lock or retry wait a worker may ask for: a week, in milliseconds.
MAX_MS = 7 * 24 * 3600 * 1000
#: Most tasks one fetch-and-lock may lock.
MAX_TASKS = 100
#: Camunda's variable types a worker may send (`Json`: the data serialised as a string; `Date`: its text).
TYPES = ("String", "Boolean", "Integer", "Long", "Short", "Double", "Json", "Null", "Date")


def typed(value: Any) -> dict[str, Any]:
    """A process variable as Camunda types it."""
    if value is None:
        return {"value": None, "type": "Null", "valueInfo": {}}
    if isinstance(value, bool):
        return {"value": value, "type": "Boolean", "valueInfo": {}}
    if isinstance(value, int):
        return {"value": value, "type": "Integer" if abs(value) <= INT_MAX else "Long", "valueInfo": {}}
    if isinstance(value, float):
        return {"value": value, "type": "Double", "valueInfo": {}}
    if isinstance(value, str):
        return {"value": value, "type": "String", "valueInfo": {}}
    return {"value": json.dumps(value), "type": "Json", "valueInfo": {}}


def untyped(name: str, item: Any) -> Any:
    """The JSON value of a typed variable a worker sends (a type's name in any case; none: the value's own); a value
    that does not fit its type is refused."""
    if not isinstance(item, dict) or "value" not in item:
        raise ValidationError(f"{name}: a variable is an object with a value and a type")
    value = item["value"]
    kind = _CANONICAL.get(str(item.get("type") or typed(value)["type"]).lower())
    if kind is None:
        raise ValidationError(f"{name}: the type {item.get('type')!r} is not one of {', '.join(TYPES)}")
    if value is None or kind == "Null":
        return None
    if kind == "Json":
        try:
            return json.loads(value) if isinstance(value, str) else value
        except ValueError as error:
            raise ValidationError(f"{name}: a Json value is a string of JSON") from error
    if not _fits(value, kind):
        raise ValidationError(f"{name}: the value is not of the type {kind}")
    return float(value) if kind == "Double" else value


_CANONICAL = {kind.lower(): kind for kind in TYPES}


def _fits(value: Any, kind: str) -> bool:
    if kind in ("String", "Date"):
        return isinstance(value, str)
    if kind == "Boolean":
        return isinstance(value, bool)
    number = isinstance(value, int | float) and not isinstance(value, bool)
    return number if kind == "Double" else number and isinstance(value, int)


class TypedVariables(fields.Dict):
    """Variables by name, each `{"value": ..., "type": ...}` as Camunda sends and reads them."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(keys=Code(), values=fields.Raw(allow_none=True), validate=validate.Length(max=200), **kwargs)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return {name: typed(item) for name, item in (value or {}).items()}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dict[str, Any]:
        items = super()._deserialize(value, attr, data, **kwargs)
        return {name: untyped(name, item) for name, item in items.items()}


def _ms(description: str = "Milliseconds.", **kwargs: Any) -> fields.Integer:
    metadata = {"description": description, "minimum": 0, "maximum": MAX_MS}
    return fields.Integer(strict=True, validate=validate.Range(0, MAX_MS), metadata=metadata, **kwargs)


def _worker_id() -> Line:
    return Line(data_key="workerId", max_length=120, required=True, metadata={"description": "The worker's own id."})


class FetchTopicSchema(Schema):
    """One topic to fetch tasks of."""

    topic_name = Line(data_key="topicName", max_length=120, required=True)
    lock_duration = _ms(data_key="lockDuration", required=True)
    variables = fields.List(
        Code(),
        allow_none=True,
        validate=validate.Length(max=200),
        metadata={"description": "The variables to send with each task; all when absent."},
    )
    local_variables = fields.Boolean(data_key="localVariables", metadata={"description": "Accepted; ignored."})
    deserialize_values = fields.Boolean(data_key="deserializeValues", metadata={"description": "Accepted; ignored."})


class FetchAndLockSchema(Schema):
    """Which tasks a worker asks for, and how long it waits for one when none is due."""

    worker_id = _worker_id()
    max_tasks = fields.Integer(
        data_key="maxTasks",
        strict=True,
        required=True,
        validate=validate.Range(0, MAX_TASKS),
        metadata={"maximum": 100},
    )
    use_priority = fields.Boolean(
        data_key="usePriority", metadata={"description": "Accepted; tasks come oldest first (they have no priority)."}
    )
    async_response_timeout = _ms(
        "Milliseconds to wait for a task when none is due (long polling; at most 20 s).",
        data_key="asyncResponseTimeout",
        load_default=0,
    )
    topics = fields.List(fields.Nested(FetchTopicSchema), required=True, validate=validate.Length(min=1, max=50))


class LockedTaskSchema(Schema):
    """A task locked for the worker: do it, then complete it (or report its failure) before its lock expires."""

    id = fields.String(metadata={"description": "The task's id (a job's, as incidents name it)."})
    topic_name = fields.String(data_key="topicName", attribute="topic")
    worker_id = fields.String(data_key="workerId")
    lock_expiration_time = fields.DateTime(data_key="lockExpirationTime")
    process_instance_id = fields.String(data_key="processInstanceId")
    activity_id = fields.String(data_key="activityId", metadata={"description": "The diagram's element."})
    business_key = fields.String(data_key="businessKey", allow_none=True, metadata={"description": "The ticket."})
    retries = fields.Integer(allow_none=True, metadata={"description": "Retries left, as the last failure said."})
    error_message = fields.String(data_key="errorMessage", allow_none=True)
    create_time = fields.DateTime(data_key="createTime", attribute="created_at")
    priority = fields.Constant(0)
    variables = TypedVariables()


class ExternalCompleteSchema(Schema):
    """The worker did the task: the variables it gives the process."""

    worker_id = _worker_id()
    variables = TypedVariables(load_default=dict)
    local_variables = TypedVariables(data_key="localVariables", metadata={"description": "Accepted; ignored."})


class ExternalFailureSchema(Schema):
    """The worker could not do the task: how many retries are left and when to try again."""

    worker_id = _worker_id()
    error_message = Line(data_key="errorMessage", max_length=1000, load_default="the worker reported a failure")
    error_details = Text(data_key="errorDetails", max_length=20000, allow_none=True, load_default=None)
    retries = fields.Integer(strict=True, required=True, validate=validate.Range(0, 1000))
    retry_timeout = _ms(data_key="retryTimeout", load_default=0)


class BpmnErrorSchema(Schema):
    """The task ended in a business error the diagram may catch (an incident when none does)."""

    worker_id = _worker_id()
    error_code = Line(data_key="errorCode", max_length=120, required=True)
    error_message = Line(data_key="errorMessage", max_length=1000, allow_none=True, load_default=None)
    variables = TypedVariables(metadata={"description": "Set in the process when an error event catches the code."})


class ExtendLockSchema(Schema):
    """The worker needs longer: its lock runs `newDuration` ms from now."""

    worker_id = _worker_id()
    new_duration = _ms(data_key="newDuration", required=True)
