"""Every model, imported in one place for Alembic and the schema set-up."""

from service.auth.models import ApiToken, Group, User, membership
from service.clients.models import (
    Client,
    Contact,
    Contract,
    Equipment,
    OneOffContract,
    PriceItem,
    Site,
    contract_equipment,
)
from service.contracts.models import MaintenanceVisit
from service.db import Base
from service.directory.models import ChangeRecord
from service.incidents.models import Incident
from service.jobs.models import Job
from service.observability.models import WorkerHeartbeat
from service.processes.models import ProcessDefinition, ProcessInstance
from service.rulesets.models import RulesetVersion
from service.sla.models import (
    BreachReview,
    BusinessCalendar,
    CalendarDay,
    Segment,
    ServiceLevel,
    ServiceTarget,
    SlaClock,
    SlaEvent,
    TimeEntry,
)
from service.tasks.models import CompletionKey, SavedFilter, TaskCandidate, TaskCandidateUser, UserTask
from service.teams.models import Team
from service.tickets.models import DecisionRecord, HistoryEvent, IdempotencyKey, Ticket
from service.timers.models import DueTimer

__all__ = [
    "MaintenanceVisit",
    "DueTimer",
    "BreachReview",
    "BusinessCalendar",
    "CalendarDay",
    "Segment",
    "ServiceLevel",
    "ServiceTarget",
    "SlaClock",
    "SlaEvent",
    "TimeEntry",
    "ApiToken",
    "ChangeRecord",
    "CompletionKey",
    "OneOffContract",
    "Site",
    "Team",
    "contract_equipment",
    "Base",
    "Client",
    "Contact",
    "Contract",
    "DecisionRecord",
    "Equipment",
    "Group",
    "Incident",
    "HistoryEvent",
    "IdempotencyKey",
    "Job",
    "UserTask",
    "PriceItem",
    "ProcessDefinition",
    "ProcessInstance",
    "RulesetVersion",
    "TaskCandidate",
    "TaskCandidateUser",
    "Ticket",
    "User",
    "membership",
    "WorkerHeartbeat",
    "SavedFilter",
]
