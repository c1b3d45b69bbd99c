"""Task routes: the caller's queues."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from service.api.edge import context, session, user
from service.api.guard import Blueprint
from service.augmented import Augmented
from service.tasks import assigning, inbox, services
from service.tasks.schemas import (
    AssignSchema,
    CompletedSchema,
    CompleteSchema,
    TaskDetailSchema,
    TaskPageSchema,
    TaskQuerySchema,
    TaskSchema,
)
from service.tickets.schemas import IdempotencySchema

blp = Blueprint("tasks", __name__, url_prefix="/tasks", description="User tasks in the caller's queues.")


@blp.route("")
class Tasks(MethodView):
    @blp.arguments(TaskQuerySchema, location="query")
    @blp.response(200, TaskPageSchema)
    def get(self, args: dict[str, Any]) -> inbox.TaskPage:
        """A page of the open tasks of the caller's queues; `next` is the cursor of the page after it."""
        where = inbox.TaskFilter(**{key: args.get(key) for key in inbox.FILTERS})
        return inbox.list_page(
            session(),
            user=user(),
            where=where,
            sort=inbox.TaskSort(args["sort"]),
            page_size=args["page_size"],
            after=args.get("cursor"),
        )


@blp.route("/<task_id>")
class TaskById(MethodView):
    @blp.response(200, TaskDetailSchema)
    def get(self, task_id: str) -> Augmented:
        """One task of the caller's queues, with the price list when it is an estimate and the site of the ticket's
        equipment when it has one."""
        task = services.get_task(session(), user=user(), task_id=task_id)
        return Augmented(task, price_list=services.price_list(session(), task=task), site=services.task_site(task))


@blp.route("/<task_id>/claim")
class Claim(MethodView):
    @blp.response(200, TaskSchema)
    def post(self, task_id: str) -> Any:
        """Take the task (409 when someone else holds it)."""
        return services.claim_task(session(), user=user(), task_id=task_id)


@blp.route("/<task_id>/release")
class Release(MethodView):
    @blp.response(200, TaskSchema)
    def post(self, task_id: str) -> Any:
        """Give back a task the caller holds (409 when someone else holds it)."""
        return services.release_task(session(), user=user(), task_id=task_id)


@blp.route("/<task_id>/complete")
class Complete(MethodView):
    @blp.arguments(CompleteSchema)
    @blp.arguments(IdempotencySchema, location="headers")
    @blp.response(200, CompletedSchema)
    def post(self, body: dict[str, Any], headers: dict[str, Any], task_id: str) -> dict[str, Any]:
        """Complete the task with the form's values (422 with field errors; 409 when it is no longer open).

        An `Idempotency-Key` header makes the same completion sent again answer as the first did (not 409)."""
        ticket = services.complete_task(
            session(),
            context(),
            user=user(),
            task_id=task_id,
            data=body["data"],
            idempotency_key=headers.get("idempotency_key"),
        )
        return {"ticket": ticket.number, "status": ticket.status}


@blp.route("/<task_id>/assign")
class Assign(MethodView):
    @blp.arguments(AssignSchema)
    @blp.response(200, TaskSchema)
    def post(self, body: dict[str, Any], task_id: str) -> Any:
        """Give an open task to a person of its team, or move it to another level queue of its team (duty officers
        and managers; 422 for a person or a queue outside the team, 409 when the task has ended)."""
        return assigning.assign_task(
            session(), user=user(), task_id=task_id, person=body.get("user"), group=body.get("group")
        )
