"""The VNeID status that help given on the spot implies (`app_state.implied_vneid`), for every
status and every action, and as `record_outcome` writes it for a visit."""
from __future__ import annotations

from pathlib import Path

import pytest

from campaign.vocabulary import ACTIONS, VNEID
from field_app.visit_record import VisitDraft, implied_vneid, record_outcome

from .store_support import add_hamlet
from .support import offline_store

# activation help activates the account the person has: a level-2 one stays level 2
ACTIVATION = {
    None: "l1_active", "unknown": "l1_active", "not_eligible": "l1_active", "no_app": "l1_active",
    "l1_pending": "l1_active", "l1_approved": "l1_active", "l1_active": None,
    "l2_pending": "l2_active", "l2_approved": "l2_active", "l2_active": None,
}
# level-1 help registers someone not registered yet: the registration then waits for approval
LEVEL_1 = {None: "l1_pending", "unknown": "l1_pending", "no_app": "l1_pending"}


def test_the_tables_cover_every_status() -> None:
    assert set(ACTIVATION) == {None, *VNEID.codes}
    assert {"activation_help", "l1_help"} <= set(ACTIONS.codes)


@pytest.mark.parametrize("current", [None, *VNEID.codes])
@pytest.mark.parametrize("action", ACTIONS.codes)
def test_implied_vneid(action: str, current: str | None) -> None:
    expected = {"activation_help": ACTIVATION, "l1_help": LEVEL_1}.get(action, {}).get(current)
    assert implied_vneid(action, current) == expected


@pytest.mark.parametrize(("before", "after"), [("l2_approved", "l2_active"), ("l2_pending", "l2_active"),
                                               ("l1_approved", "l1_active"), ("no_app", "l1_active")])
def test_a_visit_with_activation_help_records_the_level_the_person_had(tmp_path: Path, before: str,
                                                                       after: str) -> None:
    store = offline_store(tmp_path / "device")
    household = store.add_household(add_hamlet(store, "10525", "Tổ dân phố 3", "to_dan_pho"), "Số 1", "given")
    person = store.add_person(household, "Trần Thị Hoà", 1987, "home", "cccd_chip", before)
    draft = VisitDraft()
    draft.toggle(person, "activation_help")
    visit = record_outcome(store, household, "met", draft)
    assert store.person(person).vneid == after
    assert [(c.person_id, c.field, c.before, c.after) for c in visit.changes] == [(person, "vneid", before, after)]
    store.close()
