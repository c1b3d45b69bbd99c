"""The permission table: one check, admin holds everything, and the API guide shows exactly the table."""

from __future__ import annotations

import re

import pytest

from service.auth.models import Caller
from service.auth.permissions import ROLES, Permission, Role, allowed, authorize, may_work_on
from service.errors import Forbidden
from tests.conftest import ROOT


def caller(roles: str, groups: tuple[str, ...] = ()) -> Caller:
    return Caller(1, "someone", frozenset(roles.split()), frozenset(groups), None)


def test_authorize_refuses_a_caller_without_any_role_of_the_permission() -> None:
    authorize(caller("analyst"), Permission.WRITE_RULESETS)
    with pytest.raises(Forbidden, match="write_rulesets"):
        authorize(caller("process_owner manager"), Permission.WRITE_RULESETS)
    with pytest.raises(Forbidden):
        authorize(caller(""), Permission.OPEN_TICKETS)


def test_admin_holds_every_permission() -> None:
    assert all(allowed(caller("admin"), permission) for permission in Permission)
    assert set(ROLES) == set(Permission)


def test_a_task_is_worked_from_its_queue_or_by_those_who_work_every_queue() -> None:
    assert may_work_on(caller("engineer", ("storage-L1",)), ["storage-L1"], None)
    assert not may_work_on(caller("engineer", ("servers-L1",)), ["storage-L1"], None)
    assert may_work_on(caller("manager"), ["storage-L1"], None)
    assert not may_work_on(caller("duty", ("duty",)), ["storage-L1"], "someone-else")


def test_the_api_guide_shows_the_permission_table() -> None:
    text = (ROOT / "docs" / "api.md").read_text()
    table = text[text.index("<!-- permissions -->") : text.index("<!-- /permissions -->")]
    documented = {}
    for line in table.splitlines()[3:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        documented[cells[0].strip("`")] = set(re.findall(r"`([a-z_]+)`", cells[1]))
    assert documented == {permission.value: {role.value for role in roles} for permission, roles in ROLES.items()}
    assert {role.value for role in Role} >= set().union(*documented.values())
