"""The dashboard's logic, without Flet: which commune is shown, one snapshot of
the server's answers, and the figures and sentences drawn from it (headline
tiles, target and forecast, the breakdowns, the tables, the team's sync, the
follow-up lists and one list's pages). views/dashboard.py draws them.

Everything is the server's: nothing is counted on the device, so the figures
are the ones the workbook and the police's copy show. Words follow the UI's
language (the server's own `text_vi` / `text_en` would not follow a switch).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Protocol

from campaign import followup as followup_rules
from campaign import vocabulary as v
from campaign.areas import commune as official_commune
from campaign.areas import is_commune_code
from campaign.roles import Capability, can
from campaign.time import VIETNAM
from field_app.i18n import format_number, get_language, t, vocab_label
from field_app.net.errors import SyncError

from .come_back import come_back_lines
from .leader import sync_state
from .words import SMALL_WHOLE, day_text, failure_text, percent, relative_time, share_of, share_short, share_words

__all__ = [
    "DAYS_SHOWN", "LISTS", "PAGE_SIZE", "VNEID_GRID", "CountLine", "DashboardApi", "FollowupPager",
    "FollowupTile", "Snapshot", "SyncSummary", "Target", "Tile", "by_day", "commune_line", "commune_options",
    "count_lines", "figures", "followup_card", "followup_tiles", "forecast_sentence", "headline", "list_label",
    "load_snapshot", "pace_lines", "scope_commune", "sync_summary", "table_cells", "target", "updated_words",
]

#: The server's follow-up lists, in the order an officer works through them.
LISTS = ("card_capture", "level2", "activation", "home_capture", "revisit")
#: A list -> its need in campaign.followup (the same labels as the workbook's sheet).
NEED = {"level2": "l2"}
DAYS_SHOWN = 14  # the by-day table: the last two weeks (the chart shows the whole campaign)
PAGE_SIZE = 100  # follow-up rows a page (the server's default; it allows up to 1000)
VNEID_GRID = (("l1", ("l1_pending", "l1_approved", "l1_active")), ("l2", ("l2_pending", "l2_approved", "l2_active")))
FIGURES = ("households", "visited", "revisit", "people", "eid_active", "chip_card", "helped")

Answer = Mapping[str, Any]  # a JSON object as the server sent it


class DashboardApi(Protocol):
    """The server calls a snapshot needs (field_app/net/server_api.py `ServerApi`)."""

    def communes(self) -> list[dict[str, Any]]: ...
    def progress(self, commune: str) -> dict[str, Any]: ...
    def totals(self, commune: str, by: str = "hamlet") -> dict[str, Any]: ...
    def followup_counts(self, commune: str) -> dict[str, int]: ...
    def followup_overview(self, commune: str) -> tuple[dict[str, int], dict[str, dict[str, Any]],
                                                       dict[str, int]]: ...
    def team_devices(self, commune: str | None = None) -> list[dict[str, Any]]: ...


def list_label(name: str) -> str:
    return followup_rules.label(NEED.get(name, name), get_language())


# ---- which commune ---------------------------------------------------------------------------


def scope_commune(scope: object, role: str) -> str | None:
    """The commune the device was enrolled for (officers, leaders); None for an admin."""
    code = scope.get("commune") if isinstance(scope, dict) else None
    return code if not can(role, Capability.ANY_COMMUNE) and is_commune_code(code) else None


def commune_options(communes: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """The admin's picker: (code, what it shows). The name only: a phone shows the chosen one
    in 300 px and clips, not ellipsizes, what is longer; the province is on the line below."""
    return [(c["code"], c.get("name") or c["code"]) for c in communes if c.get("code")]


def commune_line(code: str) -> str:
    """The line under a commune's name: its province and code."""
    place = official_commune(code)
    return t("dashboard.commune_line", province=place.province, code=place.code)


# ---- one refresh -------------------------------------------------------------------------------


@dataclass
class Snapshot:
    """The server's answers for one commune, fetched together."""

    commune: str | None
    communes: list[dict[str, Any]] = field(default_factory=list)  # the admin's choices
    progress: dict[str, Any] | None = None
    hamlets: dict[str, Any] | None = None  # /totals by hamlet: rows and total
    teams: dict[str, Any] | None = None  # /totals by team (officers, admins)
    devices: list[dict[str, Any]] | None = None
    devices_error: str | None = None
    followup_counts: dict[str, int] | None = None  # officers, admins: each list's length
    blockers: dict[str, dict[str, Any]] | None = None  # officers, admins: each blocker's progress (resolving.py)
    children: dict[str, int] | None = None  # officers, admins: children under 14 by status (resolving.py)
    at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def total(self) -> dict[str, Any]:
        return (self.hamlets or {}).get("total") or {}

    def shows(self, commune: str | None) -> bool:
        """Still the answer to draw for the commune wanted (None: whatever it holds)."""
        return commune is None or self.commune == commune


def load_snapshot(api: DashboardApi, role: str, commune: str | None) -> Snapshot:
    """Every answer the dashboard draws (blocking: run it in a worker thread). An admin, or
    anyone whose scope names no commune, gets the communes to pick from, and the first one
    if the one asked for is not among them."""
    communes: list[dict[str, Any]] = []
    if can(role, Capability.ANY_COMMUNE) or commune is None:
        communes = api.communes()
        codes = [c.get("code") for c in communes]
        if commune not in codes:
            commune = codes[0] if codes else None
    if commune is None:
        return Snapshot(None, communes)
    snapshot = Snapshot(commune, communes, progress=api.progress(commune), hamlets=api.totals(commune, "hamlet"))
    if can(role, Capability.COMMUNE_DASHBOARD):  # the teams' table and the follow-up lists
        snapshot.teams = api.totals(commune, "team")
        snapshot.followup_counts, snapshot.blockers, snapshot.children = api.followup_overview(commune)
    try:  # the figures stand without it
        snapshot.devices = api.team_devices(None if role == "leader" else commune)
    except SyncError as exc:
        snapshot.devices_error = failure_text(exc)
    return snapshot


def updated_words(snapshot: Snapshot) -> str:
    """"Cập nhật 5 phút trước (14:05)"."""
    return t("dashboard.updated", ago=relative_time(snapshot.at.isoformat()),
             time=snapshot.at.astimezone(VIETNAM).strftime("%H:%M"))


# ---- the headline -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tile:
    """A headline figure: its words, the figure, the line under it, and a share for its bar."""

    label: str
    value: str
    detail: str
    key: str
    share: float | None = None


def headline(total: Answer) -> list[Tile]:
    households, visited = int(total.get("households") or 0), int(total.get("visited") or 0)
    people = int(total.get("people") or 0)
    eid, chip = int(total.get("eid_active") or 0), int(total.get("chip_card") or 0)
    return [
        Tile(t("dashboard.tile.visited"), format_number(visited),
             t("dashboard.tile.visited_detail", share=share_words(visited, households, "households"),
               revisit=format_number(int(total.get("revisit") or 0))),
             "dashboard:visited", share_of(visited, households)),
        Tile(t("dashboard.tile.eid"), format_number(eid), share_words(eid, people, "people"),
             "dashboard:eid", share_of(eid, people)),
        Tile(t("dashboard.tile.chip"), format_number(chip), share_words(chip, people, "people"),
             "dashboard:chip", share_of(chip, people)),
        Tile(t("dashboard.tile.helped"), format_number(int(total.get("helped") or 0)),
             t("dashboard.tile.visits", visits=format_number(int(total.get("visits") or 0))), "dashboard:helped"),
    ]


# ---- target and pace ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """The target panel: the campaign, the aim, how far, the pace and what it forecasts."""

    name: str
    aim: str
    share: float  # of the goal reached (the bar)
    reached: str
    pace: tuple[str, str]  # a status (theme.STATUSES) and its words: about the target only
    residents: str  # the same people against all the people living here (not the target)
    forecast: str
    lines: list[str]  # the forecast's basis and details, smaller


def target(progress: Answer) -> Target | None:
    """None when the commune has no campaign (or no target) yet."""
    goal_, forecast, campaign = progress.get("target"), progress.get("forecast"), progress.get("campaign")
    if not goal_ or not forecast or not campaign:
        return None
    goal, eid = int(goal_.get("people") or 0), int(progress.get("eid_active") or 0)
    if goal_.get("kind") == "percent":
        aim = t("dashboard.target.percent", n=format_number(goal), value=goal_.get("value"),
                deadline=day_text(goal_.get("deadline")))
    else:
        aim = t("dashboard.target.people", n=format_number(goal), deadline=day_text(goal_.get("deadline")))
    return Target(
        name=campaign.get("name") or "",
        aim=aim,
        share=min(1.0, share_of(eid, goal)),
        reached=t("dashboard.target.reached", eid=format_number(eid), goal=format_number(goal),
                  share=percent(share_of(eid, goal))),
        pace=pace(forecast),
        residents=t("dashboard.target.residents", eid=format_number(eid),
                    people=format_number(int(progress.get("people") or 0)),
                    share=share_short(eid, int(progress.get("people") or 0))),
        forecast=forecast_sentence(forecast, goal_),
        lines=pace_lines(progress, forecast),
    )


def pace(forecast: Answer) -> tuple[str, str]:
    if not forecast.get("short_of_target"):
        return "done", t("dashboard.pace.reached")
    if forecast.get("needed_a_day") is None:
        return "problem", t("dashboard.pace.late")
    if forecast.get("on_track"):
        return "done", t("dashboard.pace.on_track")
    return "revisit", t("dashboard.pace.behind")


def forecast_sentence(forecast: Answer, target: Answer) -> str:
    """The server's forecast, said from its numbers in the UI's language (the server's
    own `text_vi` / `text_en` would not follow a language switch, nor our number format)."""
    deadline = day_text(target.get("deadline"))
    short = int(forecast.get("short_of_target") or 0)
    at_deadline = percent(forecast.get("share_at_deadline"))
    if short == 0:
        return t("dashboard.forecast.reached", percent=at_deadline, date=deadline)
    if forecast.get("needed_a_day") is None:
        return t("dashboard.forecast.late", date=deadline, short=format_number(short))
    return t("dashboard.forecast.pace", percent=at_deadline, date=deadline,
             needed=format_number(int(forecast["needed_a_day"])))


def pace_lines(progress: Answer, forecast: Answer) -> list[str]:
    lines = []
    if forecast.get("days_left"):
        lines.append(t("dashboard.forecast.days_left", n=format_number(int(forecast["days_left"]))))
    rates = {name: format_number(float(forecast.get(f"{name}_a_day") or 0), decimals=1)
             for name in ("activated", "helped", "visited")}
    # a server that counts activations by day projects them; an older one projects people helped
    exact = "activated_a_day" in forecast
    lines.append(t("dashboard.forecast.basis_active" if exact else "dashboard.forecast.basis",
                   days=forecast.get("window_days") or 0, **rates))
    households = int(progress.get("households") or 0)
    if households and forecast.get("days_left"):
        lines.append(t("dashboard.forecast.visits", percent=percent(forecast.get("visited_share_at_deadline")),
                       n=format_number(int(forecast.get("visited_at_deadline") or 0)),
                       households=format_number(households)))
    days_to_all = forecast.get("days_to_visit_all")
    if days_to_all == 0:
        lines.append(t("dashboard.forecast.all_visited"))
    elif days_to_all:
        lines.append(t("dashboard.forecast.visit_all", n=format_number(int(days_to_all))))
    if not exact:
        lines.append(t("dashboard.forecast.upper_bound"))
    return lines


# ---- people by status, help, blockers -------------------------------------------------------------


@dataclass(frozen=True)
class CountLine:
    """One code's count and its share of the whole (a line and a thin bar)."""

    label: str
    count: str
    percent: str
    share: float
    key: str


def count_line(label: str, n: int, whole: int, key: str) -> CountLine:
    return CountLine(label, format_number(n), share_short(n, whole), share_of(n, whole), key)


def count_lines(vocab: v.Vocabulary, counts: Answer, whole: int, key: str,
                codes: tuple[str, ...] | None = None) -> list[CountLine]:
    return [count_line(vocab_label(vocab, code), int(counts.get(code) or 0), whole, f"{key}:{code}")
            for code in (codes or vocab.codes)]


# ---- tables -----------------------------------------------------------------------------------------


def figures(row: Answer) -> dict[str, int]:
    return {name: int(row.get(name) or 0) for name in FIGURES}


def row_name(row: Answer) -> str:
    return row.get("name") or row.get("key") or ""


def table_cells(row: Answer, name: str | None = None) -> list[str]:
    """A table's line on a laptop: the name, then each figure (visited and e-IDs with their share)."""
    f = figures(row)
    return [name or row_name(row),
            format_number(f["households"]),
            _with_share(f["visited"], f["households"]),
            format_number(f["revisit"]), format_number(f["people"]),
            _with_share(f["eid_active"], f["people"]),
            format_number(f["chip_card"]), format_number(f["helped"])]


def _with_share(part: int, whole: int) -> str:
    """"12 (54,5 %)"; a small whole says its count already: "3/11"."""
    if whole < SMALL_WHOLE:
        return share_short(part, whole)
    return f"{format_number(part)} ({percent(share_of(part, whole))})"


def _share_after(part: int, whole: int) -> str:
    """" (54,5 %)" after "12/22 hộ"; nothing for a small whole (the count says it)."""
    return "" if whole < SMALL_WHOLE else f" ({percent(share_of(part, whole))})"


def card_lines(row: Answer) -> tuple[str, str, str]:
    """A table's line on a phone, as a card: visited, e-IDs, and the rest (smaller)."""
    f = figures(row)
    return (t("dashboard.card_row.visited", visited=format_number(f["visited"]),
              households=format_number(f["households"]), share=_share_after(f["visited"], f["households"]),
              revisit=format_number(f["revisit"])),
            t("dashboard.card_row.eid", eid=format_number(f["eid_active"]), people=format_number(f["people"]),
              share=_share_after(f["eid_active"], f["people"])),
            t("dashboard.card_row.more", chip=format_number(f["chip_card"]), helped=format_number(f["helped"])))


def table_total(answer: Answer) -> dict[str, Any] | None:
    """The total line: a team's hamlets may overlap another's, so only the by-hamlet total is a sum of its rows."""
    total = answer.get("total") if answer.get("by") == "hamlet" else None
    return total or None


DAY_FIGURES = ("visited", "visits", "helped", "activated")


def by_day(progress: Answer) -> list[dict[str, Any]]:
    """The work of each day, newest first (the last DAYS_SHOWN): what the by-day counters
    hold (first visits, visits, people helped, e-IDs activated). State counters (cards,
    statuses) have no day, so they are by hamlet and team only."""
    return [d for d in reversed(progress.get("days") or []) if isinstance(d, dict)][:DAYS_SHOWN]


def day_cells(day: Answer) -> list[str]:
    return [day_text(day.get("day"))] + [format_number(int(day.get(n) or 0)) for n in DAY_FIGURES]


def day_line(day: Answer) -> str:
    return t("dashboard.day.line", day=day_text(day.get("day")),
             **{n: format_number(int(day.get(n) or 0)) for n in DAY_FIGURES})


# ---- the team's sync -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SyncSummary:
    """The team's devices by how recently they synced, and the events the server holds back."""

    fresh: int
    stale: int
    never: int
    held: int  # quarantined events
    held_devices: int  # devices with any

    @property
    def active(self) -> int:
        return self.fresh + self.stale + self.never

    def chips(self) -> list[tuple[str, str]]:
        """(status, words) for each group that has devices (the fresh one always)."""
        chips = [("done", t("dashboard.sync.fresh", n=self.fresh))]
        if self.stale:
            chips.append(("revisit", t("dashboard.sync.stale", n=self.stale)))
        if self.never:
            chips.append(("problem", t("dashboard.sync.never", n=self.never)))
        return chips

    def devices_line(self) -> str:
        return t("dashboard.sync.devices", n=format_number(self.active))

    def held_line(self) -> str:
        if self.held:
            return t("dashboard.sync.held", n=format_number(self.held), devices=format_number(self.held_devices))
        return t("dashboard.sync.none_held")


def sync_summary(devices: list[dict[str, Any]], now: datetime | None = None) -> SyncSummary:
    """Revoked devices are left out."""
    now = now or datetime.now(UTC)
    counts = {"done": 0, "revisit": 0, "problem": 0}
    held = held_devices = 0
    for device in devices:
        if device.get("revoked"):
            continue
        counts[sync_state(device, now)[0]] += 1
        count = int(device.get("quarantined") or 0)
        held += count
        held_devices += 1 if count else 0
    return SyncSummary(counts["done"], counts["revisit"], counts["problem"], held, held_devices)


# ---- the follow-up lists ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FollowupTile:
    name: str
    label: str
    subtitle: str  # who is on it, and how many
    download: str  # the download button's tooltip


def followup_tiles(counts: Mapping[str, int] | None) -> list[FollowupTile]:
    tiles = []
    for name in LISTS:
        count = (counts or {}).get(name)
        unit = "households" if name == "revisit" else "people"
        detail = (t(f"dashboard.followup.count_{unit}", n=format_number(count)) if count is not None
                  else t("dashboard.followup.count_open"))
        tiles.append(FollowupTile(name, list_label(name), f"{t(f'dashboard.followup.who.{name}')} · {detail}",
                                  t("dashboard.download.csv_of", name=list_label(name))))
    return tiles


class FollowupPager:
    """A follow-up list as the server pages it: the rows so far, and whether there are more."""

    def __init__(self, name: str, total: int | None = None) -> None:
        self.name = name
        self.total = total  # the list's length by the dashboard's counts, when known
        self.rows: list[dict[str, Any]] = []
        self.after: str | None = None
        self.more = False

    def add(self, answer: Answer) -> None:
        """One page of the server's answer ({"rows", "next", "more"})."""
        self.rows += answer.get("rows") or []
        self.after, self.more = answer.get("next"), bool(answer.get("more"))

    def head(self) -> str:
        n = format_number(len(self.rows))
        if not self.rows:
            return t("dashboard.followup.empty")
        if self.more:
            left = (self.total or 0) - len(self.rows)
            if left > 0:
                unit = "households" if self.name == "revisit" else "people"
                return t("dashboard.followup.shown_more_left", n=n, left=format_number(left),
                         unit=t(f"words.unit.{unit}"))
            return t("dashboard.followup.shown_more", n=n)
        if self.name == "revisit":
            return t("dashboard.followup.shown_households", n=n)
        return t("dashboard.followup.shown_people", n=n)


@dataclass(frozen=True)
class FollowupCard:
    """One row of a list: its title, the line under it, then its details."""

    key: str
    title: str
    subtitle: str
    lines: list[str]  # a revisit: the visits; a person: the blockers
    needs: str | None = None  # a person: what the team still has to do (in the primary colour)
    card: str | None = None  # a person's card and VNeID statuses (pills)
    vneid: str | None = None


def followup_card(name: str, row: Answer, today: date | None = None) -> FollowupCard:
    """`today` (Vietnam's; default: now): a revisit's come-back date in words ("Ngày mai")."""
    if name == "revisit":
        lines = [t("dashboard.followup.visits", n=int(row.get("visits") or 0),
                   when=relative_time(row.get("last_visit_at")))]
        lines += come_back_lines(row.get("come_back"), today)
        return FollowupCard(f"followup:row:{row.get('household_id')}", row.get("address") or "",
                            row.get("hamlet") or "", lines)
    where = " · ".join(x for x in (row.get("hamlet"), row.get("address")) if x)
    year = row.get("birth_year")
    born = t("dashboard.followup.born", year=year) if year else t("dashboard.followup.born_unknown")
    blockers = [vocab_label(v.BLOCKERS, b) for b in row.get("blockers") or [] if b in v.BLOCKERS]
    needs = [followup_rules.label(n, get_language()) for n in row.get("needs") or [] if n in followup_rules.LABELS]
    return FollowupCard(
        f"followup:row:{row.get('person_id')}", row.get("label") or "",
        " · ".join(x for x in (born, where) if x),
        [t("dashboard.followup.blockers", list=", ".join(blockers))] if blockers else [],
        needs=t("dashboard.followup.needs", list=", ".join(needs)) if needs else None,
        card=row.get("card") or "unknown", vneid=row.get("vneid") or "unknown",
    )
