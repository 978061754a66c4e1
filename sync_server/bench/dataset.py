"""A province-scale campaign, generated fast and deterministically.

The event stream is what the devices of a province would push: an admin creates
each commune's hamlets, one volunteer per hamlet lists its households and their
people, visits them (nobody home, a revisit, help given) and updates people
whose VNeID moved on. A commune's events are interleaved in 500-event batches,
as the devices' pushes would arrive; communes follow one another.

`commune_rows` turns a commune's stream into the rows the push path stores
(events, entities, totals, devices), with the server's own code: the projection
(campaign.projection.apply) in cursor order, the canonical event form, the
entity body as store/events.py writes it, and the totals as the recount sums
them. `verify.py` proves that on a sample, against the real push path.
"""
from __future__ import annotations

import json
import random
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, Iterator

from campaign import areas, projection
from campaign import events as ev
from campaign import totals as rules

PROVINCE = "96"  # Tỉnh Cà Mau: 64 communes, the size the issue asks for
VN = timezone(timedelta(hours=7))
CAMPAIGN_START = date(2026, 3, 2)
CAMPAIGN_DAYS = 45
HAMLET_DAYS = 10  # a volunteer works their hamlet over about two weeks
BATCH = ev.MAX_BATCH

# People per household: mean ≈ 3.58 (1.9 M people / 530 k households).
SIZES = (1, 2, 3, 4, 5, 6, 7, 8)
SIZE_WEIGHTS = (10, 18, 22, 24, 14, 7, 3, 2)

FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ",
          "Hồ", "Ngô", "Dương", "Lý", "Đinh", "Đoàn", "Trương", "Lâm", "Tạ", "Châu", "Quách", "Thạch")
FAMILY_WEIGHTS = (36, 11, 9, 7, 4, 4, 3, 4, 3, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1)
MIDDLE = ("Văn", "Thị", "Minh", "Ngọc", "Thanh", "Hữu", "Quốc", "Thu", "Kim", "Hoàng", "Bảo", "Gia")
GIVEN = ("An", "Anh", "Bình", "Châu", "Cường", "Dũng", "Duyên", "Đạt", "Giang", "Hà", "Hải", "Hạnh",
         "Hiếu", "Hòa", "Hoa", "Hùng", "Hương", "Khang", "Lan", "Linh", "Long", "Mai", "Minh", "My",
         "Nam", "Nga", "Ngân", "Nhung", "Phúc", "Phương", "Quân", "Quyên", "Sơn", "Tâm", "Thảo",
         "Thắng", "Thủy", "Trang", "Trí", "Trung", "Tuấn", "Uyên", "Vân", "Việt", "Vy", "Yến")
STREETS = ("Lý Thường Kiệt", "Trần Hưng Đạo", "Nguyễn Trãi", "Hùng Vương", "Phan Ngọc Hiển",
           "Ngô Quyền", "Lê Lợi", "Quang Trung", "Nguyễn Tất Thành", "Hai Bà Trưng", "Đề Thám")
NOTES = ("Hẹn quay lại buổi tối", "Ông bà lớn tuổi, cần hỗ trợ tại nhà", "Con đi làm xa, về cuối tuần",
         "Điện thoại không nhận OTP", "Đã hướng dẫn cài VNeID", "Nhờ cán bộ công an xã hỗ trợ mức 2")
ACTIONS_MET = ("explained", "installed_app", "l1_help", "activation_help", "password_reset", "referred_l2",
               "booked_home_capture", "referred_phone_change")
ACTION_WEIGHTS = (30, 14, 14, 16, 6, 12, 4, 4)
BLOCKERS = ("no_smartphone", "sim_not_own", "number_taken", "no_otp", "old_device", "forgot_password",
            "no_nfc", "cannot_travel", "data_mismatch", "refused")


@dataclass(frozen=True)
class Scale:
    name: str
    communes: int
    hamlets_per_commune: int
    households_per_hamlet: int  # the mean; each hamlet varies ±25 %

    @property
    def households(self) -> int:
        return self.communes * self.hamlets_per_commune * self.households_per_hamlet


FULL = Scale("province", 64, 20, 414)  # ≈ 530 k households, ≈ 1.9 M people, ≈ 3.0 M events
QUICK = Scale("quick", 2, 4, 150)


def communes(scale: Scale) -> list[areas.Commune]:
    return areas.communes_of(PROVINCE)[:scale.communes]


# ---- ids ---------------------------------------------------------------------------

def uuid7_at(rng: random.Random, at: datetime) -> str:
    """A UUIDv7 for a moment, with random bits from the generator: reproducible."""
    millis = int(at.timestamp() * 1000) + rng.randrange(1000)
    value = (millis & ((1 << 48) - 1)) << 80 | 0x7 << 76 | rng.getrandbits(12) << 64 \
        | 0b10 << 62 | rng.getrandbits(62)
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def uuid4_of(rng: random.Random) -> str:
    value = rng.getrandbits(128) & ~(0xF << 76) | 0x4 << 76
    value = value & ~(0b11 << 62) | 0b10 << 62
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _iso(at: datetime) -> str:
    return at.isoformat()


# ---- one device's log --------------------------------------------------------------

class DeviceLog:
    """Events of one device, seq by seq (what its outbox holds)."""

    def __init__(self, device_id: str, seq: int = 0) -> None:
        self.device_id = device_id
        self.seq = seq
        self.events: list[dict[str, Any]] = []

    def emit(self, rng: random.Random, at: datetime, kind: str, entity: str, data: dict[str, Any]) -> None:
        self.seq += 1
        self.events.append({"id": uuid7_at(rng, at), "device_id": self.device_id, "seq": self.seq,
                            "kind": kind, "entity": entity, "base": None, "at": _iso(at), "data": data,
                            "schema": ev.SCHEMA})


def hamlet_created(log: DeviceLog, rng: random.Random, commune: str, number: int, at: datetime) -> str:
    hamlet_id = uuid7_at(rng, at)
    kind = rng.choice(("ap", "ap", "thon", "to_dan_pho"))
    name = {"ap": f"Ấp {number}", "thon": f"Thôn {number}", "to_dan_pho": f"Khóm {number}"}[kind]
    log.emit(rng, at, "hamlet.created", hamlet_id, {"commune": commune, "name": name, "kind": kind,
                                                    "valid_from": "2025-07-01", "valid_to": None})
    return hamlet_id


def household_work(log: DeviceLog, rng: random.Random, hamlet_id: str, households: int,
                   first_day: date) -> None:
    """List `households` households of a hamlet with their people, visit them, follow up."""
    moments = sorted(rng.random() for _ in range(households))
    for n, moment in enumerate(moments):
        day = first_day + timedelta(days=int(moment * HAMLET_DAYS))
        at = datetime(day.year, day.month, day.day, 7, 30, tzinfo=VN) + timedelta(
            seconds=int((moment * HAMLET_DAYS % 1) * 11 * 3600))
        _household(log, rng, hamlet_id, n + 1, at)


def _household(log: DeviceLog, rng: random.Random, hamlet_id: str, number: int, at: datetime) -> None:
    household = uuid7_at(rng, at)
    consent = rng.choices(("given", "unknown", "declined"), (85, 10, 5))[0]
    address = f"Số {number}, hẻm {rng.randint(1, 60)}, đường {rng.choice(STREETS)}"
    log.emit(rng, at, "household.created", household, {"hamlet_id": hamlet_id, "address": address,
                                                       "consent": consent})
    family = rng.choice(FAMILY) if consent != "declined" else ""
    people: list[tuple[str, int, str, str]] = []  # id, birth year, presence, vneid
    size = rng.choices(SIZES, SIZE_WEIGHTS)[0]
    for i in range(size):
        at += timedelta(seconds=rng.randint(20, 90))
        person = uuid7_at(rng, at)
        age = rng.randint(18, 85) if i < 2 else rng.randint(0, 60)
        birth_year = at.year - age
        presence = rng.choices(("home", "away_work_study", "abroad", "moved", "deceased"), (78, 14, 3, 3, 2))[0]
        card = _card(rng, age)
        vneid = _vneid(rng, age)
        label = ev.generic_label(i + 1) if consent == "declined" else \
            f"{family} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
        log.emit(rng, at, "person.added", person, {"household_id": household, "label": label,
                                                   "birth_year": birth_year, "presence": presence,
                                                   "card": card, "vneid": vneid})
        people.append((person, age, presence, vneid))
    if rng.random() < 0.08:
        return  # listed from the target list, not visited yet
    at += timedelta(seconds=rng.randint(60, 600))
    outcome = rng.choices(("met", "not_home", "refused", "moved"), (78, 17, 3, 2))[0]
    if outcome == "not_home":
        _visit(log, rng, household, at, "not_home", [])
        if rng.random() > 0.7:
            return
        at += timedelta(days=rng.randint(1, 4), seconds=rng.randint(0, 3600))
        outcome = "met"
    if outcome != "met":
        _visit(log, rng, household, at, outcome, [])
        return
    living = [p for p in people if p[2] in ("home", "away_work_study", "abroad")]
    _visit(log, rng, household, at, "met", living)


def _visit(log: DeviceLog, rng: random.Random, household: str, at: datetime, outcome: str,
           living: list[tuple[str, int, str, str]]) -> None:
    visit = uuid7_at(rng, at)
    actions: list[str] = []
    helped: list[str] = []
    if outcome == "met":
        k = rng.choices((0, 1, 2, 3), (15, 40, 30, 15))[0]
        actions = list(dict.fromkeys(rng.choices(ACTIONS_MET, ACTION_WEIGHTS, k=k)))
        if actions:
            helped = [p[0] for p in living if p[3] not in ("l1_active", "l2_active") and rng.random() < 0.6]
    note = rng.choice(NOTES) if rng.random() < 0.15 else ""
    log.emit(rng, at, "visit.recorded", visit, {"household_id": household, "outcome": outcome,
                                                "actions": actions, "people_helped": helped, "note": note})
    ages = {p[0]: p[1] for p in living}
    for person in helped:  # what the help achieved
        at += timedelta(seconds=rng.randint(30, 300))
        if rng.random() < 0.55:
            data: dict[str, Any] = {"vneid": "l2_active" if ages[person] >= 14 and rng.random() < 0.6 else "l1_active"}
        else:
            data = {"blockers": sorted(set(rng.choices(BLOCKERS, k=rng.randint(1, 2))))}
        log.emit(rng, at, "person.updated", person, data)


def _card(rng: random.Random, age: int) -> str:
    if age < 14:
        return rng.choices(("none", "can_cuoc", "unknown"), (60, 30, 10))[0]
    return rng.choices(("cccd_chip", "can_cuoc", "cccd_barcode", "cmnd_only", "applied_waiting", "none", "unknown"),
                       (58, 14, 8, 5, 5, 5, 5))[0]


def _vneid(rng: random.Random, age: int) -> str:
    if age < 6:
        return rng.choices(("not_eligible", "l1_active", "unknown"), (70, 20, 10))[0]
    return rng.choices(("l2_active", "l1_active", "l2_pending", "l2_approved", "l1_pending", "no_app", "unknown"),
                       (34, 14, 10, 8, 5, 17, 12))[0]


def interleave(logs: list[list[dict[str, Any]]], batch: int = BATCH) -> Iterator[dict[str, Any]]:
    """Devices' batches as they arrive: one batch of each device in turn."""
    position = [0] * len(logs)
    while True:
        progressed = False
        for i, log in enumerate(logs):
            if position[i] < len(log):
                yield from log[position[i]:position[i] + batch]
                position[i] += batch
                progressed = True
        if not progressed:
            return


# ---- a commune ---------------------------------------------------------------------

@dataclass
class Commune:
    index: int
    code: str
    admin_seq0: int
    hamlets: list[str]
    volunteers: list[str]  # one per hamlet, same order
    events: list[dict[str, Any]]  # in cursor order


def commune_events(scale: Scale, index: int, admin_id: str, seed: int = 1) -> Commune:
    code = communes(scale)[index].code
    rng = random.Random(f"gocua-bench:{seed}:{scale.name}:{code}")
    admin = DeviceLog(admin_id, seq=index * scale.hamlets_per_commune)
    seq0 = admin.seq
    start = datetime(CAMPAIGN_START.year, CAMPAIGN_START.month, CAMPAIGN_START.day, 7, 0, tzinfo=VN)
    hamlets = [hamlet_created(admin, rng, code, n + 1, start + timedelta(minutes=index))
               for n in range(scale.hamlets_per_commune)]
    volunteers, logs = [], []
    for hamlet_id in hamlets:
        volunteer = DeviceLog(uuid4_of(rng))
        households = max(1, round(scale.households_per_hamlet * rng.uniform(0.75, 1.25)))
        first = CAMPAIGN_START + timedelta(days=rng.randrange(CAMPAIGN_DAYS - HAMLET_DAYS))
        household_work(volunteer, rng, hamlet_id, households, first)
        volunteers.append(volunteer.device_id)
        logs.append(volunteer.events)
    return Commune(index, code, seq0, hamlets, volunteers, admin.events + list(interleave(logs)))


def admin_device_id(seed: int = 1) -> str:
    return uuid4_of(random.Random(f"gocua-bench-admin:{seed}"))


# ---- rows as the push path stores them ----------------------------------------------

def canonical(event: dict[str, Any]) -> str:
    """ev.canonical, without re-normalising text that is NFC already (the generator's is)."""
    body = json.dumps({key: event[key] for key in ev.ENVELOPE if key in event}, sort_keys=True,
                      separators=(",", ":"), ensure_ascii=False)
    return body if unicodedata.is_normalized("NFC", body) else ev.canonical(event)


EVENT_COLUMNS = ("cursor", "device_id", "seq", "kind", "entity", "hamlet_id", "commune", "status", "reason",
                 "received_at", "body")
ENTITY_COLUMNS = ("id", "type", "hamlet_id", "parent_id", "commune", "version", "body")
TOTAL_COLUMNS = ("hamlet_id", "day", "metric", "commune", "n")


@dataclass
class Rows:
    events: list[tuple[Any, ...]]
    entities: list[tuple[Any, ...]]
    totals: list[tuple[Any, ...]]


def commune_rows(events: list[dict[str, Any]], cursor0: int, received_at: str,
                 known_hamlets: dict[str, str] | None = None) -> Rows:
    """Apply `events` from cursor0 + 1 on with the server's projection; every event
    must apply (the generator makes none that would be quarantined)."""
    state: dict[str, projection.Entity] = {}
    communes_of: dict[str, str] = dict(known_hamlets or {})
    event_rows = []
    cursor = cursor0
    get = state.get
    for event in events:
        cursor += 1
        outcome = projection.apply(event, cursor, get)
        if event["kind"] == "hamlet.created":
            communes_of[event["entity"]] = event["data"]["commune"]
        if outcome.moved:
            raise ValueError("the generator makes no moves")
        state.update(outcome.changed)
        event_rows.append((cursor, event["device_id"], event["seq"], event["kind"], event["entity"],
                           outcome.hamlet_id, communes_of.get(outcome.hamlet_id or ""), "applied", None,
                           received_at, canonical(event)))
    entity_rows = [(e.id, e.type, e.hamlet_id, e.parent_id, communes_of.get(e.hamlet_id or ""), e.version,
                    json.dumps(e.to_json(), ensure_ascii=False, separators=(",", ":")))
                   for e in state.values()]
    total_rows = [(h, d, m, communes_of.get(h, ""), n) for (h, d, m), n in rules.recount(state.values()).items()]
    return Rows(event_rows, entity_rows, total_rows)
