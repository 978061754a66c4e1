"""Recording a visit (no Flet): the help chosen in a household before an outcome is tapped
(`VisitDraft`), the VNeID status that help implies, the visit written with it
(`record_outcome`) and taken back by the undo bar (`undo_visit`). The household screen
(views/household.py) calls these; `field_app.app_state` re-exports them.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .store import FieldChange, Store

#: Help offered as one-tap chips on each person of the household screen.
QUICK_ACTIONS = ("activation_help", "l1_help", "installed_app")

NOT_YET_REGISTERED = frozenset({"unknown", "no_app"})

#: nothing left to help with on the spot: active already, or not eligible
DONE_VNEID = frozenset({"l1_active", "l2_active", "not_eligible"})


def quick_actions_for(vneid: str | None) -> tuple[str, ...]:
    """The one-tap help worth offering a person: none once they are done (active, or not
    eligible); installing the app and level-1 help only before they have registered."""
    vneid = vneid or "unknown"
    if vneid in DONE_VNEID:
        return ()
    return tuple(a for a in QUICK_ACTIONS if a == "activation_help" or vneid in NOT_YET_REGISTERED)


def implied_vneid(action: str, current: str | None) -> str | None:
    """The VNeID status that help given on the spot leaves a person in, or
    None when it changes nothing. Activation help activates the account they
    have (level 2 if it was a level-2 one, else level 1); level-1 help leaves
    a registration waiting for approval."""
    current = current or "unknown"
    if action == "activation_help":
        if current in ("l1_active", "l2_active"):
            return None
        return "l2_active" if current in ("l2_pending", "l2_approved") else "l1_active"
    if action == "l1_help" and current in NOT_YET_REGISTERED:
        return "l1_pending"
    return None


@dataclass
class VisitDraft:
    """Help chosen in one household, per person, until an outcome is tapped."""

    help: dict[str, list[str]] = field(default_factory=dict)  # person id -> actions, in tap order

    def actions_of(self, person_id: str) -> list[str]:
        return list(self.help.get(person_id, []))

    def toggle(self, person_id: str, action: str) -> bool:
        """Add or remove one; returns whether it is now chosen."""
        chosen = self.help.setdefault(person_id, [])
        if action in chosen:
            chosen.remove(action)
            return False
        chosen.append(action)
        return True

    def set_actions(self, person_id: str, actions: Iterable[str]) -> None:
        self.help[person_id] = list(dict.fromkeys(actions))

    @property
    def empty(self) -> bool:
        return not any(self.help.values())

    def actions(self) -> list[str]:
        out: list[str] = []
        for chosen in self.help.values():
            out += [a for a in chosen if a not in out]
        return out

    def people(self) -> list[str]:
        return [pid for pid, chosen in self.help.items() if chosen]


@dataclass(frozen=True)
class RecordedVisit:
    """A visit just written, and the person fields its help changed: what its undo puts back."""
    visit_id: str
    changes: tuple[FieldChange, ...]


FIX_REASON = "fixed"  # the reason of a returned visit taken back by its fix (never shown as is)


def record_outcome(store: Store, household_id: str, outcome: str, draft: VisitDraft | None,
                   note: str = "", replaces: str | None = None,
                   come_back: dict[str, Any] | None = None) -> RecordedVisit:
    """Write the visit: for `met` (and `refused`) the help in the draft — first
    each helped person's implied VNeID status (`person.updated`), then the
    `visit.recorded` with the actions and the people helped. `not_home` and
    `moved` carry no help (the server would quarantine it). `replaces`: a visit
    the leader returned, taken back (visit.voided) in the same transaction, so
    the fix never counts twice. `come_back` ({"window", "on"}): when to come back, for not_home only.
    """
    draft = draft or VisitDraft()
    with_help = outcome == "met"
    changes: list[FieldChange] = []
    # one transaction: a crash never leaves a status changed by a visit that was not recorded
    with store.transaction():
        if replaces is not None:
            store.void_visit(replaces, FIX_REASON)
        people = {p.id: p for p in store.people(household_id)}
        helped = [pid for pid in draft.people() if pid in people] if with_help else []
        for pid in helped:
            vneid = people[pid].vneid
            for action in draft.actions_of(pid):
                vneid = implied_vneid(action, vneid) or vneid
            if vneid != people[pid].vneid:
                store.update_person(pid, vneid=vneid)
                changes.append(FieldChange(pid, "vneid", people[pid].vneid, vneid))
        actions = [a for a in draft.actions() if any(a in draft.actions_of(p) for p in helped)] if with_help else []
        visit_id = store.record_visit(household_id, outcome, actions=actions, people_helped=helped, note=note,
                                      come_back=come_back if outcome == "not_home" else None)
    return RecordedVisit(visit_id, tuple(changes))


def undo_visit(store: Store, recorded: RecordedVisit) -> None:
    """The undo bar: take the visit back and put back what its help changed, at once (no reason
    asked: an empty one says "undone by whoever recorded it")."""
    store.void_visit(recorded.visit_id, "", recorded.changes)
