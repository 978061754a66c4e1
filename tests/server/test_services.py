"""The server's use cases, called as the API and the command line call them: a Connection (or an
Engine) and typed inputs in, typed results out, against a real SQLite database and no HTTP."""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from campaign import totals as rules
from campaign.ids import uuid7
from sync_server.config import Rates, Settings
from sync_server.render import csv as render_csv
from sync_server.render.rows import PersonNeed, TotalsTable
from sync_server.services import access, audit, enrolment, followup, ingest, pull, purge, reports
from sync_server.services import team as teams
from sync_server.services.enrolment import Caller
from sync_server.services.errors import Forbidden, Gone, Invalid, NotFound, Unauthenticated
from sync_server.store import devices as store_devices
from sync_server.store import schema as t
from sync_server.store.db import make_engine, read_transaction, write_transaction
from sync_server.store.devices import Device
from sync_server.store.team import DeviceRow

from ..support import hamlet_data, household_data, person_data, wire_event

WARD, RURAL = "10525", "10813"


@pytest.fixture()
def engine(tmp_path: Path) -> Iterator[Engine]:
    made = make_engine(f"sqlite:///{tmp_path / 'services.db'}")
    t.metadata.create_all(made)  # what the migrations make (test_migrations proves it)
    yield made
    made.dispose()


@dataclass
class Sender:
    """A device enrolled through the service, pushing through the service."""
    engine: Engine
    caller: Caller
    seq: int = 0

    def push(self, kind: str, entity: str, data: dict[str, Any]) -> ingest.PushResult:
        self.seq += 1
        event = wire_event(self.caller.device.id, self.seq, kind, entity, data)
        with write_transaction(self.engine) as conn:
            return ingest.push(conn, self.caller.device, self.caller.scope, ingest.validate_body(
                {"schema": 1, "events": [event]}, self.caller.device.id))


def sender(engine: Engine, role: str, **scope: Any) -> Sender:
    with write_transaction(engine) as conn:
        code = enrolment.create_enrolment(conn, role, **scope).code
        device, token = enrolment.enrol(conn, code)
        return Sender(engine, Caller(device, enrolment.scope_of(conn, device), token))


def hamlet(admin: Sender, name: str, commune: str = WARD) -> str:
    hamlet_id = str(uuid7())
    assert admin.push("hamlet.created", hamlet_id, hamlet_data(name, commune)).quarantined == []
    return hamlet_id


# ---- enrolment ---------------------------------------------------------------------------------

def test_a_code_refuses_a_role_without_its_scope_and_a_team_that_does_not_exist(engine: Engine) -> None:
    with write_transaction(engine) as conn:
        with pytest.raises(Invalid) as missing:
            enrolment.create_enrolment(conn, "officer")
        assert missing.value.code == "missing_scope"
        with pytest.raises(NotFound) as unknown:
            enrolment.create_enrolment(conn, "leader", team_id="no-such-team")
        assert unknown.value.code == "unknown_team"
        with pytest.raises(Invalid):
            enrolment.create_enrolment(conn, "mayor")


def test_a_code_enrols_once_and_a_spent_code_is_gone(engine: Engine) -> None:
    with write_transaction(engine) as conn:
        code = enrolment.create_enrolment(conn, "admin").code
        assert len(code) == 14 and code.count("-") == 2
        enrolment.enrol(conn, code.lower().replace("-", " "))  # read aloud, typed loosely
        with pytest.raises(Gone) as used:
            enrolment.enrol(conn, code)
        assert used.value.code == "used_code"
        with pytest.raises(Invalid):
            enrolment.enrol(conn, "ABCD-EFGH-JKMN")


def test_authenticate_tells_unknown_and_revoked_devices_apart(engine: Engine) -> None:
    admin = sender(engine, "admin")
    with read_transaction(engine) as conn:
        assert enrolment.authenticate(conn, admin.caller.token).device.id == admin.caller.device.id
        with pytest.raises(Unauthenticated):
            enrolment.authenticate(conn, "not-a-token")
    with write_transaction(engine) as conn:
        assert enrolment.revoke(conn, admin.caller.device.id)
        assert not enrolment.revoke(conn, admin.caller.device.id)  # revoked already
    with read_transaction(engine) as conn, pytest.raises(Forbidden) as revoked:
        enrolment.authenticate(conn, admin.caller.token)
    assert revoked.value.code == "revoked"


def test_a_rotated_token_replaces_the_old_one_once(engine: Engine) -> None:
    admin = sender(engine, "admin")
    with write_transaction(engine) as conn:
        new = enrolment.rotate(conn, admin.caller)
        with pytest.raises(Unauthenticated):
            enrolment.rotate(conn, admin.caller)  # the token it called with is gone
    with read_transaction(engine) as conn:
        assert enrolment.authenticate(conn, new).device.id == admin.caller.device.id


# ---- ingest -------------------------------------------------------------------------------------

def test_the_body_of_a_push_is_refused_whole_when_its_shape_is_wrong() -> None:
    with pytest.raises(Invalid):
        ingest.validate_body({"events": []}, "d")
    with pytest.raises(Invalid) as schema:
        ingest.validate_body({"schema": 99, "events": []}, "d")
    assert schema.value.code == "unknown_schema"
    event = wire_event("other", 1, "hamlet.created", str(uuid7()), hamlet_data())
    with pytest.raises(Forbidden) as wrong:
        ingest.validate_body({"schema": 1, "events": [event]}, "d")
    assert wrong.value.code == "wrong_device"


def test_a_volunteer_may_not_send_a_leaders_kind_nor_leave_its_hamlets(engine: Engine) -> None:
    admin = sender(engine, "admin")
    a, b = hamlet(admin, "Tổ 1"), hamlet(admin, "Tổ 2")
    volunteer = sender(engine, "volunteer", hamlets=[a])
    household = str(uuid7())
    assert volunteer.push("household.created", household, household_data(a)).quarantined == []
    outside = volunteer.push("household.created", str(uuid7()), household_data(b))
    assert outside.quarantined[0].reason == "forbidden: outside the hamlets this device works in"
    move = volunteer.push("household.updated", household, {"hamlet_id": b})
    assert move.quarantined[0].reason.startswith("forbidden")  # where it goes is outside too
    rename = volunteer.push("hamlet.updated", a, {"name": "Tổ Một"})
    assert rename.quarantined[0].reason == "forbidden: hamlet.updated is for team leaders"
    assert volunteer.push("hamlet.created", str(uuid7()), hamlet_data("Tổ 3")).quarantined[0].reason.startswith(
        "forbidden: only an admin")


def test_a_leader_creates_hamlets_in_their_own_commune_only_and_its_team_gains_them(engine: Engine) -> None:
    with write_transaction(engine) as conn:
        teams.create_team(conn, "t1", "Tổ 1", WARD, [])
    leader = sender(engine, "leader", team_id="t1")
    own = str(uuid7())
    assert leader.push("hamlet.created", own, hamlet_data("Tổ mới", WARD)).quarantined == []
    assert leader.push("hamlet.created", str(uuid7()), hamlet_data("Thôn khác", RURAL)).quarantined
    with read_transaction(engine) as conn:
        assert set(conn.execute(select(t.team_hamlets.c.hamlet_id)).scalars()) == {own}


def test_a_moved_household_takes_its_people_and_their_counts_along(engine: Engine) -> None:
    admin = sender(engine, "admin")
    a, b = hamlet(admin, "Tổ 1"), hamlet(admin, "Tổ 2")
    household, person = str(uuid7()), str(uuid7())
    admin.push("household.created", household, household_data(a))
    admin.push("person.added", person, person_data(household))
    assert admin.push("household.updated", household, {"hamlet_id": b}).quarantined == []
    with read_transaction(engine) as conn:
        assert conn.execute(select(t.entities.c.hamlet_id).where(t.entities.c.id == person)).scalar_one() == b
        people = {h: n for h, n in conn.execute(select(t.totals.c.hamlet_id, t.totals.c.n)
                                                .where(t.totals.c.metric == "people"))}
        moves = conn.execute(select(t.event_moves.c.hamlet_id, t.event_moves.c.household_id)).all()
    assert people == {a: 0, b: 1}
    assert [tuple(m) for m in moves] == [(a, household)]  # filed under the hamlet it left


def test_a_retried_push_is_acknowledged_and_a_reused_seq_refused(engine: Engine) -> None:
    admin = sender(engine, "admin")
    first = wire_event(admin.caller.device.id, 1, "hamlet.created", str(uuid7()), hamlet_data())
    with write_transaction(engine) as conn:
        assert ingest.push(conn, admin.caller.device, admin.caller.scope, [first]).acked_seq == 1
        again = ingest.push(conn, admin.caller.device, admin.caller.scope, [first])
        assert (again.acked_seq, again.error) == (1, None)
        other = {**first, "data": hamlet_data("Tổ khác")}
        assert ingest.push(conn, admin.caller.device, admin.caller.scope, [other]).error == "seq_reused"
        gap = wire_event(admin.caller.device.id, 3, "hamlet.created", str(uuid7()), hamlet_data())
        refused = ingest.push(conn, admin.caller.device, admin.caller.scope, [gap])
        assert (refused.error, refused.expected_seq) == ("gap", 2)


# ---- pull ----------------------------------------------------------------------------------------

def _last_pull(engine: Engine, device: Device) -> str | None:
    with read_transaction(engine) as conn:
        return conn.execute(select(t.devices.c.last_pull_at).where(t.devices.c.id == device.id)).scalar_one()


def test_a_device_is_noted_as_caught_up_only_when_it_is(engine: Engine) -> None:
    admin = sender(engine, "admin")
    for name in ("Tổ 1", "Tổ 2", "Tổ 3"):
        hamlet(admin, name)
    page = pull.pull(engine, admin.caller, 0, 2)
    assert (len(page.events), page.next, page.more) == (2, 2, True)
    assert _last_pull(engine, admin.caller.device) is None
    rest = pull.pull(engine, admin.caller, page.next, 2)
    assert (len(rest.events), rest.more) == (1, False)
    assert _last_pull(engine, admin.caller.device) is not None
    with read_transaction(engine) as conn:
        receipt = pull.receipt(conn, admin.caller)
    assert (receipt.acked_seq, receipt.counts) == (3, {"hamlet.created": 3})


def test_the_cursor_a_device_is_noted_to_hold_never_goes_back(engine: Engine) -> None:
    admin = sender(engine, "admin")
    for name in ("Tổ 1", "Tổ 2", "Tổ 3"):
        hamlet(admin, name)
    assert not pull.pull(engine, admin.caller, 2, 500).more
    assert not pull.pull(engine, admin.caller, 1, 500).more  # an older cursor asked again
    with read_transaction(engine) as conn:
        assert store_devices.pulled_after(conn, admin.caller.device.id) == 2


# ---- reports and access ------------------------------------------------------------------------

def test_hamlets_are_listed_in_natural_order_within_the_scope(engine: Engine) -> None:
    admin = sender(engine, "admin")
    ten, two, one = hamlet(admin, "Tổ dân phố 10"), hamlet(admin, "Tổ dân phố 2"), hamlet(admin, "Tổ dân phố 1")
    hamlet(admin, "Thôn Đông", RURAL)
    volunteer = sender(engine, "volunteer", hamlets=[ten, two])
    with read_transaction(engine) as conn:
        assert list(access.visible_hamlets(conn, WARD, admin.caller.scope)) == [one, two, ten]
        assert list(access.visible_hamlets(conn, WARD, volunteer.caller.scope)) == [two, ten]


def test_totals_group_by_team_and_by_day(engine: Engine) -> None:
    admin = sender(engine, "admin")
    a, b = hamlet(admin, "Tổ 1"), hamlet(admin, "Tổ 2")
    with write_transaction(engine) as conn:
        teams.create_team(conn, "t1", "Đội Một", WARD, [a])
        teams.create_team(conn, "t2", "Đội Hai", WARD, [a, b])
    for hamlet_id in (a, b):
        household = str(uuid7())
        admin.push("household.created", household, household_data(hamlet_id))
        admin.push("person.added", str(uuid7()), person_data(household))
    with read_transaction(engine) as conn:
        by_team = reports.totals(conn, admin.caller, WARD, "team")
        by_day = reports.commune_totals(conn, WARD, "day", admin.caller.scope)
        with pytest.raises(Invalid):
            reports.totals(conn, admin.caller, "99999", "hamlet")
    assert [(r["name"], r["people"]) for r in by_team.rows] == [("Đội Hai", 2), ("Đội Một", 1)]
    assert by_team.total["people"] == 2 and by_day.total["people"] == 2


def test_an_officer_reports_on_their_commune_only(engine: Engine) -> None:
    officer = sender(engine, "officer", commune=WARD)
    with read_transaction(engine) as conn:
        access.checked_commune(officer.caller, WARD)
        with pytest.raises(Forbidden):
            access.checked_commune(officer.caller, RURAL)
        with pytest.raises(Invalid) as missing:
            audit.entries(conn, officer.caller, None)
        assert missing.value.code == "missing_commune"


def test_a_team_covers_devices_by_team_commune_or_hamlet() -> None:
    def device(**kw: Any) -> DeviceRow:
        return replace(DeviceRow("d", "volunteer", None, None, (), "", False, 0, None, None), **kw)

    covered = teams.Membership(team_id="t1", teams=frozenset({"t1"}), hamlets=frozenset({"h1"}))
    assert covered.covers(device(team_id="t1")) and covered.covers(device(hamlets=("h9", "h1")))
    assert not covered.covers(device(team_id="t2", hamlets=("h2",)))
    assert teams.Membership(commune=WARD).covers(device(commune=WARD))
    assert teams.Membership().covers(device())  # an admin's: everyone


def test_a_followup_cursor_is_checked() -> None:
    with pytest.raises(Invalid) as bad:
        followup.Position.parse("not/a/cursor", people=True)
    assert bad.value.code == "bad_cursor"
    position = followup.Position(str(uuid7()), str(uuid7()), str(uuid7()))
    assert followup.Position.parse(position.text(), people=True) == position


# ---- purge ---------------------------------------------------------------------------------------

def test_nothing_is_due_before_the_end_plus_retention(engine: Engine) -> None:
    from sync_server.services import campaigns
    with write_transaction(engine) as conn:
        campaigns.put(conn, WARD, {"name": "Thử", "target_kind": "percent", "target_value": 80,
                                   "start": "2020-01-01", "deadline": "2020-02-01", "ends": "2020-03-01",
                                   "retention_days": 90})
        campaigns.put(conn, RURAL, {"name": "Thử", "target_kind": "percent", "target_value": 80,
                                    "start": "2020-01-01", "deadline": "2020-02-01", "ends": "2099-03-01"})
    with read_transaction(engine) as conn:
        due = purge.due(conn)
        assert [d.commune for d in due] == [WARD] and due[0].purge_after == "2020-05-30"
        assert purge.campaign_of(conn, RURAL) not in due


# ---- render and settings -------------------------------------------------------------------------

def test_csv_starts_with_a_bom_and_never_writes_a_formula() -> None:
    row = PersonNeed("h", "=Tổ 1", "hh", "+84 ngõ 5", "p", "@An", 1980, "none", "no_app", [], ["card_capture"])
    text = "".join(render_csv.followup("card_capture", [row]))
    assert text.startswith("\ufeffThôn/Tổ,")
    assert "'=Tổ 1,'+84 ngõ 5,'@An,1980," in text
    table = TotalsTable([rules.row("h1", "-Tổ 1", Counter({"people": 3}))], rules.row("", "", Counter({"people": 3})))
    header, hamlet_line, total_line = "".join(render_csv.totals(table)).removeprefix("\ufeff").splitlines()
    assert header.startswith("Thôn/Tổ dân phố,Số hộ,Hộ đã thăm,Hộ cần quay lại,Số người,")
    assert hamlet_line.startswith("'-Tổ 1,0,0,0,3,") and total_line.startswith("Tổng cộng,0,0,0,3,")


def test_settings_are_read_from_the_environment_once() -> None:
    settings = Settings.from_env({"DATABASE_URL": "sqlite:///x.db", "GOCUA_ALLOWED_ORIGINS": " https://a.vn/, ,https://b.vn",
                                  "GOCUA_DOCS": "1", "GOCUA_DEVICE_REQUESTS_PER_MINUTE": "6",
                                  "GOCUA_ENROL_FAILURES_PER_MINUTE": "-3", "GOCUA_TOKEN_FAILURES_PER_MINUTE": "x"})
    assert settings.allowed_origins == ("https://a.vn", "https://b.vn") and settings.docs
    assert settings.rates == replace(Rates(), device_requests_per_minute=6)  # the bad ones fall back
    assert Settings.from_env({}) == Settings()
