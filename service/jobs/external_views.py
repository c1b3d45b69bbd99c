"""Routes of external tasks (Camunda's pattern): outside workers fetch and lock tasks of their topics, then complete
them, report a failure or a BPMN error, or extend their lock."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from service.api.edge import context, session, user
from service.api.guard import Blueprint
from service.jobs import external
from service.jobs.external_schemas import (
    BpmnErrorSchema,
    ExtendLockSchema,
    ExternalCompleteSchema,
    ExternalFailureSchema,
    FetchAndLockSchema,
    LockedTaskSchema,
)

blp = Blueprint(
    "external_tasks",
    __name__,
    url_prefix="/external-tasks",
    description="External tasks: outside workers fetch, lock and complete the tasks of their topics.",
)


def _end_request_transaction() -> None:
    """End the transaction that authenticated the caller: the calls run in transactions of their own (as the built-in
    worker's do), and a long poll must hold none while it waits (on SQLite one holds the database's write lock)."""
    session().commit()


@blp.route("/fetch-and-lock")
class FetchAndLock(MethodView):
    @blp.arguments(FetchAndLockSchema)
    @blp.response(200, LockedTaskSchema(many=True))
    def post(self, body: dict[str, Any]) -> list[external.LockedTask]:
        """Lock up to `maxTasks` due tasks of the topics for `workerId`, oldest first; when none is due, wait up to
        `asyncResponseTimeout` ms (at most 20 s) for one. 403 for a topic the account does not serve."""
        topics = [
            external.TopicRequest(
                topic["topic_name"],
                topic["lock_duration"],
                tuple(topic["variables"]) if topic.get("variables") is not None else None,
            )
            for topic in body["topics"]
        ]
        _end_request_transaction()
        return external.fetch_and_lock(
            context(),
            user=user(),
            worker_id=body["worker_id"],
            topics=topics,
            max_tasks=body["max_tasks"],
            wait_ms=body["async_response_timeout"],
        )


@blp.route("/<int:task_id>/complete")
class Complete(MethodView):
    @blp.arguments(ExternalCompleteSchema)
    @blp.response(204)
    def post(self, body: dict[str, Any], task_id: int) -> None:
        """Complete a task the worker holds: its variables go into the process and the ticket moves on (409 when
        another worker holds it, or the step after it failed: then an incident names the failure)."""
        _end_request_transaction()
        external.complete(
            context(), user=user(), task_id=task_id, worker_id=body["worker_id"], variables=body["variables"]
        )


@blp.route("/<int:task_id>/failure")
class Failure(MethodView):
    @blp.arguments(ExternalFailureSchema)
    @blp.response(204)
    def post(self, body: dict[str, Any], task_id: int) -> None:
        """Report that the worker could not do the task: fetchable again after `retryTimeout` ms while `retries`
        are left, an incident at 0."""
        _end_request_transaction()
        external.report_failure(
            context(),
            user=user(),
            task_id=task_id,
            worker_id=body["worker_id"],
            message=body["error_message"],
            details=body["error_details"],
            retries=body["retries"],
            retry_timeout_ms=body["retry_timeout"],
        )


@blp.route("/<int:task_id>/bpmn-error")
class BpmnError(MethodView):
    @blp.arguments(BpmnErrorSchema)
    @blp.response(204)
    def post(self, body: dict[str, Any], task_id: int) -> None:
        """Report a business error `errorCode`: the diagram's error event for it takes over, else an incident."""
        _end_request_transaction()
        external.report_bpmn_error(
            context(),
            user=user(),
            task_id=task_id,
            worker_id=body["worker_id"],
            code=body["error_code"],
            message=body["error_message"],
            variables=body.get("variables") or {},
        )


@blp.route("/<int:task_id>/extend-lock")
class ExtendLock(MethodView):
    @blp.arguments(ExtendLockSchema)
    @blp.response(204)
    def post(self, body: dict[str, Any], task_id: int) -> None:
        """Lock a task the worker holds for `newDuration` ms from now (409 once its lock expired)."""
        _end_request_transaction()
        external.extend_lock(
            context(), user=user(), task_id=task_id, worker_id=body["worker_id"], new_duration_ms=body["new_duration"]
        )
