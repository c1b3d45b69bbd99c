"""Who may do what, in one place: the permission table, the one check, and who sees which tickets and tasks.

Services call `authorize(user, Permission.X)` (403 when the caller has none of the roles of X) before they look at
an object, then read objects through `visible_tickets` and `may_work_on` (404 when the caller may not see them,
exactly as when they do not exist). docs/api.md shows this table to API consumers; a test keeps the two in step.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum
from typing import Any

from sqlalchemy import Select, or_, select

from service.auth.models import Caller
from service.errors import Forbidden
from service.tasks.models import TaskCandidate, UserTask
from service.tickets.models import Ticket


class Role(str, Enum):
    """The roles a user account may hold (space-separated in `User.roles`)."""

    ADMIN = "admin"
    MANAGER = "manager"
    DUTY = "duty"
    CONSULTANT = "consultant"
    RMC = "rmc"
    ENGINEER = "engineer"
    PROCESS_OWNER = "process_owner"
    ANALYST = "analyst"
    CLIENT = "client"
    INTAKE = "intake"
    #: An outside system (a partner's, the warehouse's ERP) that fetches and completes external tasks of the topics
    #: its account names (`User.worker_topics`).
    WORKER = "worker"


class Permission(str, Enum):
    """What a caller may do; `ROLES` says who holds each."""

    OPEN_TICKETS = "open_tickets"
    SEE_ALL_TICKETS = "see_all_tickets"
    WORK_ALL_QUEUES = "work_all_queues"
    CONFIRM_CONTACTS = "confirm_contacts"
    SEND_MESSAGES = "send_messages"
    HANDLE_INCIDENTS = "handle_incidents"
    READ_PROCESSES = "read_processes"
    DEPLOY_PROCESSES = "deploy_processes"
    MIGRATE_TICKETS = "migrate_tickets"
    READ_RULESETS = "read_rulesets"
    WRITE_RULESETS = "write_rulesets"
    READ_SLA_SETUP = "read_sla_setup"
    ADMINISTER_SLA = "administer_sla"
    BOOK_TIME = "book_time"
    BOOK_TIME_FOR_OTHERS = "book_time_for_others"
    READ_ALL_TIME_ENTRIES = "read_all_time_entries"
    REVIEW_BREACHES = "review_breaches"
    READ_REPORTS = "read_reports"
    READ_OWN_COMPANY_REPORTS = "read_own_company_reports"
    READ_DIRECTORY = "read_directory"
    ADMINISTER_DIRECTORY = "administer_directory"
    EDIT_CONTACTS = "edit_contacts"
    ADD_EQUIPMENT = "add_equipment"
    READ_PEOPLE = "read_people"
    MANAGE_PEOPLE = "manage_people"
    READ_ONE_OFF_CONTRACTS = "read_one_off_contracts"
    REASSIGN_TASKS = "reassign_tasks"
    WORK_EXTERNAL_TASKS = "work_external_tasks"
    START_PROCESSES = "start_processes"


_R = Role
#: The one table: permission -> the roles that hold it. `admin` holds every permission (added below).
ROLES: dict[Permission, frozenset[Role]] = {
    permission: frozenset(roles) | {Role.ADMIN}
    for permission, roles in {
        Permission.OPEN_TICKETS: (_R.DUTY, _R.MANAGER, _R.CLIENT, _R.INTAKE),
        Permission.SEE_ALL_TICKETS: (_R.MANAGER, _R.DUTY, _R.CONSULTANT, _R.RMC),
        Permission.WORK_ALL_QUEUES: (_R.MANAGER,),
        Permission.CONFIRM_CONTACTS: (_R.DUTY, _R.MANAGER),
        # Each message of a diagram narrows this further to the roles its catch event names (`senders`).
        Permission.SEND_MESSAGES: (_R.RMC, _R.DUTY, _R.MANAGER),
        Permission.HANDLE_INCIDENTS: (_R.MANAGER, _R.DUTY, _R.PROCESS_OWNER),
        Permission.READ_PROCESSES: (_R.PROCESS_OWNER, _R.ANALYST, _R.MANAGER),
        Permission.DEPLOY_PROCESSES: (_R.PROCESS_OWNER,),
        Permission.MIGRATE_TICKETS: (_R.PROCESS_OWNER,),
        Permission.START_PROCESSES: (_R.PROCESS_OWNER,),
        Permission.READ_RULESETS: (_R.ANALYST, _R.PROCESS_OWNER, _R.MANAGER),
        Permission.WRITE_RULESETS: (_R.ANALYST,),
        Permission.READ_SLA_SETUP: (_R.MANAGER,),
        Permission.ADMINISTER_SLA: (),
        Permission.BOOK_TIME: (_R.ENGINEER, _R.MANAGER),
        Permission.BOOK_TIME_FOR_OTHERS: (_R.MANAGER,),
        Permission.READ_ALL_TIME_ENTRIES: (_R.MANAGER,),
        Permission.REVIEW_BREACHES: (_R.MANAGER,),
        Permission.READ_REPORTS: (_R.MANAGER,),
        Permission.READ_OWN_COMPANY_REPORTS: (_R.CLIENT,),
        # Clients, sites, contacts, equipment, contracts, prices and teams; the people are apart.
        Permission.READ_DIRECTORY: (_R.MANAGER, _R.DUTY, _R.CONSULTANT),
        Permission.ADMINISTER_DIRECTORY: (),
        Permission.EDIT_CONTACTS: (_R.DUTY,),
        Permission.ADD_EQUIPMENT: (_R.DUTY,),
        Permission.READ_PEOPLE: (_R.MANAGER,),
        Permission.MANAGE_PEOPLE: (),
        # A client user reads only the contracts of the caller's own company.
        Permission.READ_ONE_OFF_CONTRACTS: (_R.MANAGER, _R.CONSULTANT, _R.CLIENT),
        # Giving an open task to a person of its team, or moving it to another level queue of the team.
        Permission.REASSIGN_TASKS: (_R.DUTY, _R.MANAGER),
        # Fetching, completing and failing external tasks, of the topics the account names (`may_serve_topic`).
        Permission.WORK_EXTERNAL_TASKS: (_R.WORKER,),
    }.items()
}


def allowed(user: Caller, permission: Permission) -> bool:
    """True when one of the user's roles holds the permission."""
    return not user.role_set.isdisjoint(role.value for role in ROLES[permission])


def authorize(user: Caller, permission: Permission) -> None:
    """Refuse (403) unless one of the user's roles holds the permission."""
    if not allowed(user, permission):
        roles = ", ".join(sorted(role.value for role in ROLES[permission]))
        raise Forbidden(f"this needs the permission {permission.value} (roles: {roles})")


def has_any_role(user: Caller, roles: Iterable[str]) -> bool:
    """True when the user holds one of `roles` (a diagram's list), or is an administrator."""
    return Role.ADMIN.value in user.role_set or not user.role_set.isdisjoint(roles)


# ---- visibility --------------------------------------------------------------------------------------------------


def teams_of(user: Caller) -> frozenset[str]:
    """The product teams whose engineering queues (`<team>-L<level>`) the user belongs to."""
    return frozenset(name.split("-L")[0] for name in user.group_names if "-L" in name)


def visible_tickets(user: Caller) -> Select[Any]:
    """A query of the tickets the user may see: all of them, their company's, or their teams' and those they opened
    (an intake account follows the `Location` of the tickets it opens); an outside partner's engineer sees only the
    tickets that have or had a task in one of their groups, or assigned to them."""
    query = select(Ticket)
    if allowed(user, Permission.SEE_ALL_TICKETS):
        return query
    if user.client_id is not None:
        return query.where(Ticket.client_id == user.client_id)
    if user.partner:
        given = select(UserTask.ticket_id).join(TaskCandidate, TaskCandidate.task_id == UserTask.id)
        assigned = select(UserTask.ticket_id).where(UserTask.assignee == user.username)
        return query.where(
            or_(
                Ticket.id.in_(given.where(TaskCandidate.group_name.in_(sorted(user.group_names)))),
                Ticket.id.in_(assigned),
            )
        )
    return query.where(or_(Ticket.team.in_(teams_of(user)), Ticket.created_by == user.username))


def may_work_on(user: Caller, candidate_groups: Iterable[str], assignee: str | None) -> bool:
    """True when the task is in one of the user's queues (or the user works every queue)."""
    if allowed(user, Permission.WORK_ALL_QUEUES):
        return True
    if assignee is not None and assignee == user.username:
        return True
    return not user.group_names.isdisjoint(candidate_groups)


def may_serve_topic(user: Caller, topic: str) -> bool:
    """True when the account's topics name `topic` (or `*`), or the caller is an administrator."""
    return Role.ADMIN.value in user.role_set or "*" in user.worker_topics or topic in user.worker_topics
