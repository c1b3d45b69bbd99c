"""User tasks: a projection of the instances, read by the queues."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.db import Base, utcnow
from service.tickets.models import Ticket

OPEN, COMPLETED, CANCELLED = "open", "completed", "cancelled"


class UserTask(Base):
    """A user task for a person of one of its candidate groups; kept after it ends, so a late caller gets 409."""

    __tablename__ = "user_task"
    # The inbox pages through open tasks by (created_at, id) or (due_at, id): partial, so ended tasks cost nothing;
    # they also serve every other look-up of open tasks, so `state` has no index of its own (it drew the planner
    # away from the ordered index, to sort every open task).
    __table_args__ = (
        Index(
            "ix_user_task_open_created",
            "created_at",
            "id",
            postgresql_where=text("state = 'open'"),
            sqlite_where=text("state = 'open'"),
        ),
        Index(
            "ix_user_task_open_due",
            "due_at",
            "id",
            postgresql_where=text("state = 'open'"),
            sqlite_where=text("state = 'open'"),
        ),
        Index(
            "ix_user_task_open_assignee",
            "assignee",
            postgresql_where=text("state = 'open' AND assignee IS NOT NULL"),
            sqlite_where=text("state = 'open' AND assignee IS NOT NULL"),
        ),
    )
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(300), default="")
    assignee: Mapped[str | None] = mapped_column(String(80), default=None)
    claimed_by: Mapped[str | None] = mapped_column(String(80), default=None)
    form: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    priority: Mapped[int | None] = mapped_column(default=None)
    due_at: Mapped[datetime | None] = mapped_column(default=None)
    state: Mapped[str] = mapped_column(String(20), default=OPEN)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(default=None)
    completed_by: Mapped[str | None] = mapped_column(String(80), default=None)
    #: The task's `sla` property as the diagram declared it (`reaction`, `pause_client`...; None when it declares none).
    sla: Mapped[str | None] = mapped_column(String(20), default=None)
    candidates: Mapped[list[TaskCandidate]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", passive_deletes=True
    )
    #: Read only when asked for (few tasks name people): loading them with every task would cost each a query.
    candidate_people: Mapped[list[TaskCandidateUser]] = relationship(cascade="all, delete-orphan", passive_deletes=True)

    ticket: Mapped[Ticket] = relationship(lazy="joined")

    @property
    def ticket_number(self) -> str | None:
        """The number of the task's ticket."""
        return self.ticket.number

    @property
    def candidate_groups(self) -> list[str]:
        """The names of the groups whose members may work on the task."""
        return sorted(candidate.group_name for candidate in self.candidates)

    @property
    def candidate_users(self) -> list[str]:
        """The people (`camunda:candidateUsers`) who may work on the task whatever their groups."""
        return sorted(candidate.username for candidate in self.candidate_people)


class TaskCandidate(Base):
    """One candidate group of an open task; indexed so that a queue is one query.

    The rows of ended tasks stay; the index by group carries the task's id, so the count of a queue's open tasks
    joins the open tasks from the index alone."""

    __tablename__ = "task_candidate"
    __table_args__ = (Index("ix_task_candidate_group_task", "group_name", "task_id"),)
    task_id: Mapped[str] = mapped_column(ForeignKey("user_task.id", ondelete="CASCADE"), primary_key=True)
    group_name: Mapped[str] = mapped_column(String(80), primary_key=True)


class TaskCandidateUser(Base):
    """One candidate person of an open task (`camunda:candidateUsers`): they see, claim and complete it outside its
    groups. Indexed by person with the task's id, so a person's own tasks join the open tasks from the index alone."""

    __tablename__ = "task_candidate_user"
    __table_args__ = (Index("ix_task_candidate_user_task", "username", "task_id"),)
    task_id: Mapped[str] = mapped_column(ForeignKey("user_task.id", ondelete="CASCADE"), primary_key=True)
    username: Mapped[str] = mapped_column(String(80), primary_key=True)


class CompletionKey(Base):
    """Makes a completion sent again (a form replayed after the connection came back, a retry after a lost answer)
    answer what the first one did instead of completing twice or failing with 409.

    One per person and key, stored before the task is completed (a concurrent retry waits on it); `ticket_id` is
    set in the same transaction, so a committed key always names its ticket. `fingerprint` is a digest of the task
    and the form's values: the key sent again with another task or other values is refused.
    """

    __tablename__ = "completion_key"
    __table_args__ = (UniqueConstraint("user_id", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    task_id: Mapped[str] = mapped_column(String(64))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), default=None)
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SavedFilter(Base):
    """A person's named set of inbox filters and order: the query string of "My work", theirs alone."""

    __tablename__ = "saved_filter"
    __table_args__ = (Index("ux_saved_filter_name", "user_id", "name", unique=True),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(80))
    #: `status=in_progress&sort=sla`: only the inbox's filters and sort (`service.tasks.saved_filters`).
    query: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
