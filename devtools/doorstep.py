"""What happens at the door: visits, help and follow-ups over the days of a campaign.

One model for the demo and both benchmarks (the people are devtools/population.py).
A first visit finds the household home about four times in five. Nobody home
means a revisit a few days later. At the first meeting the volunteer asks for
consent (a household that declines has its people relabelled "Người 1",
"Người 2" …), corrects presence and the list's unknowns with what the family
says, and helps: installs the app, helps with level 1, activates approved
accounts, books home capture for the old, records what blocks the rest. A
follow-up visit a few days later activates what was pending.

A visit here is what the volunteer records, not yet events: each consumer writes
it its own way (the demo and the server bench as events, the device bench through
the field app's store), in the app's order: relabels, consent, people's changes,
then the visit.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from campaign import events as ev
from campaign import vocabulary as v

from . import names
from .population import Household, Person, pick

FIRST_CALL = {"met": 80, "not_home": 15, "refused": 3, "moved": 2}
AFTER_NOT_HOME = {"met": 82, "not_home": 15, "refused": 3}
FOLLOW_UP = {"met": 92, "not_home": 8}
MAX_CALLS = 4  # a household's visits in all: the first, revisits and follow-ups

Changes = dict[str, str | list[str]]  # person.updated data: presence, card, vneid, blockers


@dataclass
class Visit:
    """What the volunteer records at one visit."""
    outcome: str
    consent: str | None = None  # a consent change recorded at this visit
    relabel: list[tuple[Person, str]] = field(default_factory=list)
    updates: list[tuple[Person, Changes]] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    helped: list[str] = field(default_factory=list)  # ids of the people helped
    note: str = ""

    def changes(self, household: Household) -> list[tuple[str, str, dict[str, Any]]]:
        """(kind, entity, data) of what the app records before the visit itself, in its order:
        a declining household's people lose their names first, then the consent, then each
        person's new status."""
        out: list[tuple[str, str, dict[str, Any]]] = [
            ("person.updated", person.id, {"label": label}) for person, label in self.relabel]
        if self.consent is not None:
            out.append(("household.updated", household.id, {"consent": self.consent}))
        out += [("person.updated", person.id, dict(changes)) for person, changes in self.updates]
        return out

    def recorded(self, household: Household) -> dict[str, Any]:
        """The visit.recorded data."""
        return {"household_id": household.id, "outcome": self.outcome, "actions": self.actions,
                "people_helped": self.helped, "note": self.note}


class Doorstep:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def calls(self, household: Household, day: int, days: int) -> list[tuple[int, Visit]]:
        """A household's visits from `day` on, before day `days`: the first, then a revisit
        if nobody was home, a follow-up if something was left to finish."""
        rng = self.rng
        outcome = pick(rng, FIRST_CALL)
        out: list[tuple[int, Visit]] = []
        for _ in range(MAX_CALLS):
            visit = self.visit(household, outcome)
            if household.consent == "declined":
                visit.note = ""  # a declined household's visits carry no note (docs/rules.md, note_declined)
            out.append((day, visit))
            if outcome == "not_home":
                if rng.random() >= 0.75:
                    break
                day += rng.randint(1, 6)
                outcome = pick(rng, AFTER_NOT_HOME)
            elif outcome == "met" and any(p.followup for p in household.people):
                if rng.random() >= 0.65:
                    break
                day += rng.randint(3, 9)
                outcome = pick(rng, FOLLOW_UP)
            else:
                break
            if day >= days:
                break
        return out

    def visit(self, household: Household, outcome: str) -> Visit:
        """One visit with this outcome: what it finds, changes and does (the household changes with it).
        A declined household's visits carry no note (docs/rules.md, note_declined): the one that
        declines too (the device bench records this visit through the store, which refuses one)."""
        visit = self._visit(household, outcome)
        if household.consent == "declined":
            visit.note = ""  # after the draws: the same random stream, so the bench's data set is unchanged
        return visit

    def _visit(self, household: Household, outcome: str) -> Visit:
        rng = self.rng
        visit = Visit(outcome)
        if outcome == "not_home":
            visit.note = rng.choice(names.NOTES_NOT_HOME) if rng.random() < 0.3 else ""
            return visit
        if outcome == "moved":
            for person in household.people:
                if person.presence != "moved":
                    person.presence = "moved"
                    visit.updates.append((person, {"presence": "moved"}))
            visit.note = rng.choice(names.NOTES_MOVED) if rng.random() < 0.6 else ""
            return visit
        if outcome == "refused":
            if household.consent == "unknown" and rng.random() < 0.5:
                self._decline(household, visit)
            visit.note = rng.choice(names.NOTES_REFUSED) if rng.random() < 0.5 else ""
            return visit
        # met
        if household.consent == "unknown":
            r = rng.random()
            if r < 0.035:
                self._decline(household, visit)
            elif r < 0.975:
                household.consent = visit.consent = "given"
        actions: set[str] = set()
        for person in household.people:
            changes, done = self.meet(person)
            if changes:
                visit.updates.append((person, changes))
            if done:
                actions |= done
                visit.helped.append(person.id)
        if rng.random() < 0.85 or actions:
            actions.add("explained")
        visit.actions = [code for code in v.ACTIONS.codes if code in actions]
        if rng.random() < 0.2:
            visit.note = rng.choice(names.NOTES_MET)
        return visit

    def _decline(self, household: Household, visit: Visit) -> None:
        household.consent = visit.consent = "declined"
        for n, person in enumerate(household.people, start=1):
            label = ev.generic_label(n)
            if person.label != label:
                person.label = label
                visit.relabel.append((person, label))

    def meet(self, person: Person) -> tuple[Changes, set[str]]:
        """What one person's status is found to be, and what the volunteer did about it."""
        before: Changes = {"presence": person.presence, "card": person.card, "vneid": person.vneid,
                           "blockers": list(person.blockers)}
        actions: set[str] = set()
        if not person.met:  # the first meeting: the family tells how things really are
            person.met = True
            person.presence = person.truth.presence
            if person.card == "unknown":
                person.card = person.truth.card
            if person.vneid == "unknown":
                person.vneid = person.truth.vneid
        if person.presence == "home":
            actions = self._help_adult(person) if person.age >= 14 else self._help_child(person)
        blockers = [code for code in v.BLOCKERS.codes if code in person.blockers]
        person.blockers = blockers
        after: Changes = {"presence": person.presence, "card": person.card, "vneid": person.vneid,
                          "blockers": blockers}
        changes = {k: after[k] for k in ("presence", "card", "vneid", "blockers") if after[k] != before[k]}
        return changes, actions

    def _help_adult(self, p: Person) -> set[str]:
        rng = self.rng
        acts: set[str] = set()
        blockers = set(p.blockers)
        # the card first: without a chip card there is no level 2
        if "capture" in p.followup:
            p.followup.discard("capture")
            p.card = "applied_waiting"
            blockers.discard("cannot_travel")
        elif p.card in ("none", "cmnd_only", "cccd_barcode"):
            if p.age >= 75 or rng.random() < 0.25:
                acts.add("booked_home_capture")
                blockers.add("cannot_travel")
                p.followup.add("capture")
            else:
                acts.add("referred_l2")
                p.followup.add("capture")
        if p.snag == "refused":
            blockers.add("refused")
            p.blockers = sorted(blockers)
            return set()
        state = p.vneid
        if state in ("l1_active", "l2_active"):
            if state == "l2_active" and (p.snag == "forgot_password" or rng.random() < 0.04):
                acts.add("password_reset")
                p.snag = ""
                blockers.discard("forgot_password")
            elif "l2" in p.followup:  # went to the police in between
                p.followup.discard("l2")
                if rng.random() < 0.6:
                    p.vneid = "l2_approved"
                    if rng.random() < 0.8:
                        p.vneid = "l2_active"
                        acts.add("activation_help")
            elif state == "l1_active" and p.card in v.CHIP_CARDS and rng.random() < 0.4:
                acts.add("referred_l2")
                p.followup.add("l2")
        elif state in ("l1_pending", "l2_pending", "l1_approved", "l2_approved"):
            level = state[:2]
            if state.endswith("pending"):
                if rng.random() < 0.35:  # still waiting for the police to approve
                    p.followup.add("activate")
                    p.blockers = sorted(blockers)
                    return acts
                state = p.vneid = f"{level}_approved"
            if p.snag in ("no_otp", "data_mismatch") or p.phone == "":
                blockers.add(p.snag or "no_smartphone")
                if p.snag == "no_otp" and p.sim_own is False:
                    blockers.add("sim_not_own")
                    acts.add("referred_phone_change")
                if p.snag == "data_mismatch":
                    acts.add("referred_l2")
            elif p.snag == "forgot_password":
                acts.add("password_reset")
                if p.sim_own and rng.random() < 0.7:
                    acts.add("activation_help")
                    p.vneid = f"{level}_active"
                    blockers.clear()
                else:  # the reset needs an OTP to a number they no longer hold
                    blockers.add("forgot_password")
                    acts.add("referred_phone_change")
            else:
                acts.add("activation_help")
                p.vneid = f"{level}_active"
                blockers.clear()
            p.followup.discard("activate")
        elif state == "no_app":
            if p.phone == "":
                blockers.add("no_smartphone")
                if p.age >= 80:
                    blockers.add("cannot_travel")
            elif p.phone == "old":
                blockers.add("old_device")
            elif not p.sim_own or p.snag == "number_taken":
                blockers.add("sim_not_own" if not p.sim_own else "number_taken")
                acts.add("referred_phone_change")
                # they go to the carrier: a later visit can go on
                p.sim_own, p.snag = True, ""
                p.followup.add("retry")
            elif "retry" not in p.followup and rng.random() < 0.3:
                pass  # "not today, my son will do it for me": explained, nothing more
            else:
                acts.update(("installed_app", "l1_help"))
                blockers -= {"sim_not_own", "number_taken", "no_smartphone"}
                p.followup.discard("retry")
                if p.phone == "no_nfc":
                    blockers.add("no_nfc")
                    if rng.random() < 0.5:
                        acts.add("referred_l2")
                else:
                    p.vneid = "l1_pending"
                    p.followup.add("activate")
                    if p.snag == "no_otp":
                        blockers.add("no_otp")
        if p.vneid in v.ACTIVE_VNEID:
            blockers -= {"no_smartphone", "sim_not_own", "number_taken", "no_otp", "old_device",
                         "forgot_password", "no_nfc"}
        p.blockers = sorted(blockers)
        return acts

    def _help_child(self, p: Person) -> set[str]:
        """Under 14: level 1 through a parent's account; never level 2 under 6."""
        rng = self.rng
        acts: set[str] = set()
        if p.vneid == "l1_pending" and ("activate" in p.followup or rng.random() < 0.6):
            p.vneid = "l1_active"
            p.followup.discard("activate")
            acts.add("activation_help")
        elif p.vneid in ("no_app", "not_eligible") and rng.random() < 0.15:
            p.vneid = "l1_pending"
            p.followup.add("activate")
            acts.add("l1_help")
        elif p.vneid == "l2_approved" and p.age >= 6:
            p.vneid = "l2_active"
            acts.add("activation_help")
        return acts
