"""Who still needs the team: one definition for the phone's lists and the server's.

Pure (stdlib only): the field app filters its households with it and the server
builds the officers' follow-up lists and the export's "Cần theo dõi" sheet from
it, so a person is on the same list everywhere.

A person's needs (only people living here: at home, away for work or study,
abroad; moved and deceased people, and a duplicate merged into another, need nothing):
- card_capture: 14 or older, or age unknown, with no valid card: card `none`
  or the old 9-digit `cmnd_only`, or a card whose chip or QR code cannot be
  read (blocker `card_unreadable`, unless a new card is on its way: a card
  damaged so it cannot be used is re-issued at the police). A card status `unknown` is not a need yet: it is a
  question for the next visit.
- l2: 6 or older (or age unknown), no active account and none on its way at
  level 2 (not `l1_active`, `l2_active`, `l2_pending`, `l2_approved`,
  `not_eligible`), and a blocker that stops level-1 self-registration on a
  phone (SELF_SERVICE_BLOCKERS): refer for level 2 at the police.
- activation: an account approved but not activated (`l1_approved`,
  `l2_approved`): a short visit to activate it.
- home_capture: a card capture or level-2 registration (card_capture or l2
  above) for someone who cannot go to the police: blocker `cannot_travel`, or
  a visit that booked a home capture (`booked_home_capture`) listed them among
  the people helped.

A person holding a capture booking (booked or attended, in a session not cancelled:
`scheduled()`) is taken care of: they leave the card_capture, l2 and home_capture lists (a
capture session takes the card and the level-2 registration), on the server's lists and the
phone's alike; a no_show or a cancellation (of the booking or the session) puts them back.
Activation stays: it is a short visit of its own.

A household needs a revisit when its latest visit found nobody home
(`last_outcome == "not_home"`), as the totals' `revisit` counter counts.
"""
from __future__ import annotations

from typing import Any

from . import vocabulary as v
from .projection import COME_BACK as LAST_COME_BACK
from .projection import is_merged, is_voided
from .text import slug

COME_BACK_ORDER = v.COME_BACK.codes  # morning, midday, evening, weekend, any

FOLLOW_UP = ("card_capture", "l2", "activation")  # follow_up()'s codes, in display order
NEEDS = (*FOLLOW_UP, "home_capture")  # needs()'s codes, in display order
NEEDS_CARD = frozenset({"none", "cmnd_only"})
# Blockers that stop level-1 self-registration on a phone: level 2 at the police is the way.
SELF_SERVICE_BLOCKERS = frozenset({"no_smartphone", "sim_not_own", "number_taken", "no_otp", "old_device",
                                   "no_nfc", "data_mismatch", "otp_old_number", "face_match_failed",
                                   "os_too_old"})
# A card that cannot be read is a card to re-issue (Luật Căn cước 2023, Art. 24(2)(a)).
UNREADABLE_CARD = "card_unreadable"
NOT_L2_CANDIDATE = v.ACTIVE_VNEID | {"l2_pending", "l2_approved", "not_eligible"}
APPROVED_NOT_ACTIVE = frozenset({"l1_approved", "l2_approved"})
HOME_CAPTURE_ACTION = "booked_home_capture"

LABELS: dict[str, tuple[str, str]] = {  # need -> (vi, en)
    "card_capture": ("Thu nhận thẻ căn cước", "Card capture"),
    "l2": ("Đăng ký định danh mức 2", "Level-2 registration"),
    "activation": ("Hỗ trợ kích hoạt", "Activation help"),
    "home_capture": ("Thu nhận tại nhà", "Home capture visit"),
    "revisit": ("Đến lại (không có nhà)", "Revisit (nobody home)"),
}


def label(need: str, lang: str = "vi") -> str:
    vi, en = LABELS[need]
    return en if lang == "en" else vi


def file_stem(need: str) -> str:
    """The start of a downloaded list's file name, in Vietnamese words without marks
    ("gocua-thu-nhan-the-can-cuoc"): the server's and the app's downloads agree."""
    return f"gocua-{slug(label(need))}"


CAPTURED_AT_A_SESSION = frozenset({"card_capture", "l2"})  # what a capture session's booking takes care of


def follow_up(person: dict[str, Any], year: int, scheduled: bool = False) -> list[str]:
    """What someone living here still needs from the team in a second contact:
    card_capture, l2, activation (see the module docstring). `year` is this year;
    `scheduled`: the person holds a capture booking (`scheduled()`), which takes care of
    card_capture and l2."""
    if presence_needs_nothing(person):
        return []
    out = _follow_up(person, year)
    return [n for n in out if n not in CAPTURED_AT_A_SESSION] if scheduled else out


def presence_needs_nothing(person: dict[str, Any]) -> bool:
    """Moved, deceased or merged into another: nobody the team follows up."""
    return person.get("presence") not in v.LIVING_HERE or is_merged(person)


def _follow_up(person: dict[str, Any], year: int) -> list[str]:
    if presence_needs_nothing(person):
        return []
    birth_year = person.get("birth_year")
    age = None if birth_year is None else year - birth_year
    out = []
    blockers = person.get("blockers") or []
    unreadable = UNREADABLE_CARD in blockers and person.get("card") != "applied_waiting"
    if ((person.get("card") in NEEDS_CARD or unreadable)
            and (age is None or age >= v.CARD_COMPULSORY_AGE)):
        out.append("card_capture")
    if (person.get("vneid") not in NOT_L2_CANDIDATE and (age is None or age >= v.VNEID_L2_MIN_AGE)
            and SELF_SERVICE_BLOCKERS.intersection(blockers)):
        out.append("l2")
    if person.get("vneid") in APPROVED_NOT_ACTIVE:
        out.append("activation")
    return out


def needs(person: dict[str, Any], year: int, booked_home_capture: bool = False,
          scheduled: bool = False) -> list[str]:
    """follow_up() plus home_capture. `booked_home_capture`: a visit with the action
    booked_home_capture listed this person among the people helped. `scheduled`: the person
    holds a booking of a capture session (`scheduled()`): they leave the card-capture, level-2
    and home-capture lists until it ends in a no-show or is cancelled, which puts them back."""
    out = follow_up(person, year, scheduled)
    if (("card_capture" in out or "l2" in out)
            and (booked_home_capture or "cannot_travel" in (person.get("blockers") or []))):
        out.append("home_capture")
    return out


SCHEDULED = frozenset({"booked", "attended"})  # a booking's statuses that take a person off the list


def scheduled(booking: dict[str, Any], session: dict[str, Any] | None) -> bool:
    """Whether a booking (its data as projected) keeps its person off the home-capture list: booked
    or attended, in a session that is not cancelled. A no_show or a cancelled booking does not."""
    return booking.get("status") in SCHEDULED and session is not None and not session.get("cancelled")


def needs_revisit(household: dict[str, Any]) -> bool:
    """The latest visit found nobody home."""
    return household.get("last_outcome") == "not_home"


def come_back_of(household: dict[str, Any]) -> dict[str, Any] | None:
    """When to come back to a household to revisit ({"window", "on"}), as its latest
    (not-home) visit said; None when it said nothing or the household needs no revisit."""
    come_back = household.get(LAST_COME_BACK) if needs_revisit(household) else None
    return come_back if isinstance(come_back, dict) else None


def revisit_order(household: dict[str, Any]) -> tuple[int, str, int]:
    """The revisit list's order: dated come-backs first (soonest first), then by window
    (morning, midday, evening, weekend, any: vocabulary.COME_BACK's order), then those
    that said nothing."""
    come_back = come_back_of(household)
    if come_back is None:
        return (2, "", 0)
    window = come_back["window"]
    rank = COME_BACK_ORDER.index(window) if window in COME_BACK_ORDER else len(COME_BACK_ORDER)
    return (0, come_back["on"], rank) if come_back.get("on") else (1, "", rank)


def booked_people(visit: dict[str, Any]) -> list[str]:
    """The people a visit booked a home capture for (its data as projected); none if voided."""
    if is_voided(visit):
        return []
    if HOME_CAPTURE_ACTION in (visit.get("actions") or []):
        return list(visit.get("people_helped") or [])
    return []
