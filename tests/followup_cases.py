"""One set of cases for who a capture booking takes off the follow-up lists (campaign.followup:
`scheduled`), run on the server's lists (tests/server/test_followup_bookings.py) and on the
phone's (tests/test_store_followup_bookings.py): the same changes, the same answers."""
from __future__ import annotations

from dataclasses import dataclass

from campaign.ids import uuid7

from .support import hamlet_data, household_data, person_data

COMMUNE = "10525"


@dataclass(frozen=True)
class Case:
    name: str
    vneid: str
    booking: str | None  # the booking's status at the end (None: never booked)
    session_cancelled: bool
    needs: frozenset[str]  # what the person (card none, cannot travel) still needs, every list


CASES = (
    Case("never booked", "no_app", None, False, frozenset({"card_capture", "home_capture"})),
    Case("booked", "no_app", "booked", False, frozenset()),
    Case("attended", "no_app", "attended", False, frozenset()),
    Case("no-show", "no_app", "no_show", False, frozenset({"card_capture", "home_capture"})),
    Case("booking cancelled", "no_app", "cancelled", False, frozenset({"card_capture", "home_capture"})),
    Case("session cancelled", "no_app", "booked", True, frozenset({"card_capture", "home_capture"})),
    Case("booked, account to activate", "l1_approved", "booked", False, frozenset({"activation"})),
)


@dataclass(frozen=True)
class World:
    changes: list[tuple[str, str, dict[str, object]]]  # (kind, entity, data), in order
    hamlet: str
    people: dict[str, str]  # case name -> person id
    households: dict[str, str]  # case name -> household id


def world() -> World:
    """A hamlet with one household and one person per case, an open session and one to be
    cancelled, and each case's booking as it ends."""
    hamlet, open_session, cancelled = uuid7(), uuid7(), uuid7()
    session = {"commune": COMMUNE, "kind": "home_capture", "starts_at": "2026-12-05T08:00:00+07:00",
               "ends_at": "2026-12-05T11:00:00+07:00", "place": "Tại nhà", "capacity": 50}
    changes: list[tuple[str, str, dict[str, object]]] = [
        ("hamlet.created", hamlet, hamlet_data("Tổ theo dõi", COMMUNE)),
        ("session.created", open_session, session), ("session.created", cancelled, session)]
    people, households = {}, {}
    for n, case in enumerate(CASES, start=1):
        home, person = uuid7(), uuid7()
        people[case.name], households[case.name] = person, home
        changes += [("household.created", home, household_data(hamlet, f"Số {n}, phố Theo Dõi")),
                    ("person.added", person, person_data(home, f"Người số {n}", 1950, "none", case.vneid)),
                    ("person.updated", person, {"blockers": ["cannot_travel"]})]
        if case.booking is not None:
            booking = uuid7()
            changes.append(("booking.made", booking, {"session_id": cancelled if case.session_cancelled
                                                      else open_session, "person_id": person}))
            if case.booking != "booked":
                changes.append(("booking.updated", booking, {"status": case.booking}))
    changes.append(("session.updated", cancelled, {"cancelled": True}))
    return World(changes, hamlet, people, households)
