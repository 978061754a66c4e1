"""Roles and capabilities (campaign/roles.py): every answer pinned to the behaviour before issue #10."""
import pytest

from campaign import vocabulary as v
from campaign.events import KINDS
from campaign.roles import LEADER_KINDS, ROLES, Capability, can, may_void, may_write, roles_with

C = Capability
# capability -> the roles that have it, as the server and the app decided before #10
TABLE = {
    C.READ_TOTALS: {"volunteer", "leader", "officer", "admin"},  # GET /totals: any caller
    C.READ_REPORTS: {"leader", "officer", "admin"},  # api/audit.py READERS, reports.py
    C.EXPORT: {"leader", "officer", "admin"},  # api/exports.py READERS
    C.COMMUNE_DASHBOARD: {"officer", "admin"},  # the app's dashboard (views/models/dashboard.py), the officers' first tab
    C.READ_AUDIT: {"officer", "admin"},  # api/audit.py MANAGERS, views/audit.py can_open
    C.EDIT_CAMPAIGN: {"officer", "admin"},  # api/campaigns.py MANAGERS, views/campaign_settings.py
    C.IMPORT: {"officer", "admin"},  # api/imports.py MANAGERS, views/imports.py
    C.TEAM_STATUS: {"leader", "officer", "admin"},  # api/team.py REVIEWERS
    C.PIN_REQUIRED: {"leader", "officer", "admin"},  # field_app/lock.py REQUIRED_ROLES
    C.ANY_COMMUNE: {"admin"},  # auth.py check_commune, reports.py communes, api/audit.py
    C.CREATE_HAMLET: {"leader", "admin"},  # store/events.py _authorise (the commune part is scope)
    C.WRITE_LEADER_KINDS: {"leader", "admin"},  # store/events.py LEADER_KINDS
    C.VOID_ANY_VISIT: {"leader", "admin"},  # issue #11: a leader takes back any visit of the team
    C.MERGE_PEOPLE: {"leader", "officer", "admin"},  # issue #14: person.merged
    C.MANAGE_SESSIONS: {"officer", "admin"},  # issue #13: session.created, session.updated
    C.RECORD_ATTENDANCE: {"leader", "officer", "admin"},  # issue #13: attended / no_show, the roster
    C.ENROL_MEMBERS: {"leader", "officer", "admin"},  # issue #13: a new member of the team (own team)
    C.TEAM_SETTINGS: {"leader", "officer", "admin"},  # issue #13: the review sample, the lapse days (own team)
}


def test_the_roles_are_the_vocabularys():
    assert ROLES == v.ROLES.codes == ("volunteer", "leader", "officer", "admin")


def test_the_table_names_every_capability():
    assert set(TABLE) == set(Capability)


@pytest.mark.parametrize("capability", list(Capability))
@pytest.mark.parametrize("role", ROLES)
def test_each_role_has_the_capabilities_it_had(role, capability):
    assert can(role, capability) is (role in TABLE[capability])


@pytest.mark.parametrize("capability", list(Capability))
def test_roles_with_a_capability_are_the_roles_that_can(capability):
    assert roles_with(capability) == frozenset(TABLE[capability])


@pytest.mark.parametrize("capability", list(Capability))
@pytest.mark.parametrize("role", [None, "", "Admin", "superuser"])
def test_a_role_outside_the_list_can_do_nothing(role, capability):
    assert not can(role, capability)


def test_the_kinds_that_lead_a_team():
    assert {"review.decided", "assignment.set", "conflict.resolved", "hamlet.updated"} == LEADER_KINDS


# role -> the kinds it may not write (store/events.py _authorise before #10); every other kind
# it may, within its scope (a leader's hamlet.created: in their own commune), which the caller checks
REFUSED = {
    "volunteer": {"hamlet.created", "hamlet.updated", "review.decided", "assignment.set", "conflict.resolved",
                  "person.merged", "session.created", "session.updated"},
    "leader": {"session.created", "session.updated"},
    "officer": {"hamlet.created", "hamlet.updated", "review.decided", "assignment.set", "conflict.resolved"},
    "admin": set(),
}


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("role", ROLES)
def test_each_role_may_write_the_kinds_it_could(role, kind):
    assert may_write(role, kind) is (kind not in REFUSED[role])


def test_a_volunteer_records_visits_but_does_not_review_them():
    assert may_write("volunteer", "visit.recorded")
    assert not may_write("volunteer", "review.decided")


def test_an_officer_may_not_create_hamlets_or_lead_a_team():
    assert not may_write("officer", "hamlet.created")
    assert not may_write("officer", "assignment.set")


@pytest.mark.parametrize("role, kind", [("superuser", "visit.recorded"), (None, "visit.recorded"),
                                        ("admin", "household.deleted")])
def test_an_unknown_role_or_kind_writes_nothing(role, kind):
    assert not may_write(role, kind)


@pytest.mark.parametrize("role", ROLES)
def test_whoever_recorded_a_visit_may_take_it_back(role):
    assert may_void(role, own=True)


@pytest.mark.parametrize("role, allowed", [("volunteer", False), ("officer", False), ("leader", True),
                                           ("admin", True)])
def test_only_a_leader_or_admin_takes_back_another_devices_visit(role, allowed):
    assert may_void(role, own=False) is allowed


@pytest.mark.parametrize("role", [None, "", "superuser"])
def test_an_unknown_role_takes_back_nothing(role):
    assert not may_void(role, own=True)
