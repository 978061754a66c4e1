"""The team leader's screens: review queue, conflicts, the team's devices.

    from field_app.views import leader
    leader.register(shell)        # store=shell.store, sync=shell.changed by default

| route | what |
| --- | --- |
| `/review` (tab body) | visits waiting for a decision, from the local store: works offline |
| `/review/conflicts` | open conflicts from the server, side by side; a tap settles one |
| `/review/team` | each member device's last sync, acknowledged seq, quarantined count |
| `/review/team/:device_id` | one device's quarantined events and the server's reasons |

`/conflicts`, `/team` and `/team/:device_id` are the same screens for links from
elsewhere (the shell stacks those on Home; under `/review` Back returns to the queue).

Decisions and resolutions are events in the local store (`Store.decide_review`,
`Store.resolve_conflict`): they reach the volunteer by pull after the next
sync, which `sync` (a non-blocking callable, e.g. `BackgroundSync.trigger`)
starts at once. Conflicts and the team list need the server: offline, the
screen says so and offers Retry. Server calls run in a worker thread, never
on the session's event loop. See docs/leader.md.
"""
from __future__ import annotations

import asyncio
import functools
import json
import logging
from datetime import datetime, timezone
from typing import Any, Callable, Optional

import flet as ft

from campaign import vocabulary as v
from campaign.events import InvalidEvent
from campaign.totals import VIETNAM
from field_app import i18n, theme
from field_app.app_state import server_api
from field_app.i18n import format_number, t, vocab_label
from field_app.net.errors import SyncError
from field_app.net.server_api import ServerApi
from field_app.store import ReviewItem, Store, StoreError

from .common import on_screen
from .shell import Shell

__all__ = ["LeaderScreens", "format_value", "register", "relative_time"]

log = logging.getLogger(__name__)

REVIEW = "/review"
CONFLICTS = "/review/conflicts"
TEAM = "/review/team"

#: A wire field -> the vocabulary its codes come from.
FIELD_VOCABULARY = {"card": v.CARD, "vneid": v.VNEID, "presence": v.PRESENCE, "consent": v.CONSENT,
                    "kind": v.HAMLET_KIND, "blockers": v.BLOCKERS}
#: A visit outcome -> the status whose icon shape marks it (the chip's words say the outcome).
OUTCOME_STATUS = {"met": "done", "not_home": "revisit", "refused": "problem", "moved": "problem"}
STALE_AFTER_HOURS = 24  # a member not synced for longer is flagged
QUEUE_SHOWN = 50  # visits drawn at once (oldest first); deciding them brings the next ones


def register(shell: Shell, *, store: Optional[Store] = None, sync: Optional[Callable[[], Any]] = None,
             api: Optional[ServerApi] = None) -> "LeaderScreens":
    """Plug the leader's screens into the shell (see the module docstring for routes).

    store: the device's Store (default `shell.store`).
    sync: called after each decision or resolution to send it now; it must return at
    once. Default `shell.changed` (the device's background sync); without either, the
    change goes with the next sync.
    api: the online calls (default: the device's `server_api`, or `ServerApi(store)`)."""
    store = store if store is not None else shell.store
    if store is None:
        raise ValueError("the leader's screens need the device's Store: pass store= or give the shell one")
    sync = sync if sync is not None else shell.changed
    screens = LeaderScreens(shell, store, api if api is not None else server_api(shell.device, store), sync)
    shell.screens[REVIEW] = screens.review
    # under /review the shell stacks them on the review tab (Back returns there);
    # the short routes are the same screens for links from elsewhere
    for route, builder in ((CONFLICTS, screens.conflicts), ("/conflicts", screens.conflicts),
                           (TEAM, screens.team), ("/team", screens.team),
                           (TEAM + "/:device_id", screens.quarantined), ("/team/:device_id", screens.quarantined)):
        shell.register_detail(route, functools.partial(builder, route=route))
    return screens


# ---- words for times, devices and values ---------------------------------------------


def _parse(value: Any) -> Optional[datetime]:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=timezone.utc)


def relative_time(value: Any, now: Optional[datetime] = None) -> str:
    """"vừa xong", "5 phút trước", "3 giờ trước", "hôm qua", "4 ngày trước", then the date."""
    moment = _parse(value)
    if moment is None:
        return t("leader.time.never")
    now = now or datetime.now(timezone.utc)
    seconds = (now - moment).total_seconds()
    if seconds < 60:  # also a clock a little ahead
        return t("leader.time.just_now")
    if seconds < 3600:
        return t("leader.time.minutes", n=int(seconds // 60))
    if seconds < 86400:
        return t("leader.time.hours", n=int(seconds // 3600))
    days = (now.astimezone(VIETNAM).date() - moment.astimezone(VIETNAM).date()).days
    if days <= 1:
        return t("leader.time.yesterday")
    if days < 30:
        return t("leader.time.days", n=days)
    return moment.astimezone(VIETNAM).strftime("%d/%m/%Y")


def format_value(field: str, value: Any) -> str:
    """A field's value as people read it: vocabulary labels, "(trống)" for nothing."""
    vocab = FIELD_VOCABULARY.get(field)
    if value is None or value == "":
        return t("leader.value.empty")
    if isinstance(value, list):
        return ", ".join(format_value(field, item) for item in value) or t("leader.value.none")
    if vocab is not None and isinstance(value, str) and value in vocab:
        return vocab_label(vocab, value)
    return str(value)


def _label(prefix: str, code: str) -> str:
    """A translated label for a wire code (field, event kind, reason), else the code itself."""
    key = f"{prefix}.{code.replace('.', '_')}"
    return t(key) if key in i18n.keys() else code


def _text(value: str, style: Any = ft.TextThemeStyle.BODY_MEDIUM, **kw: Any) -> ft.Text:
    return ft.Text(value, theme_style=style, **kw)


def _panel(controls: list[ft.Control], key: Any = None) -> ft.Container:
    return ft.Container(
        content=ft.Column(controls, spacing=8),
        bgcolor=theme.COLORS.surface_container_low,
        border=ft.Border.all(1, theme.COLORS.outline_variant),
        border_radius=ft.BorderRadius.all(theme.RADIUS),
        padding=ft.Padding.all(16),
        key=key,
    )


def _message(icon: Any, text: str) -> ft.Row:
    return ft.Row([ft.Icon(icon, color=theme.COLORS.on_surface_variant),
                   _text(text, ft.TextThemeStyle.BODY_LARGE, expand=True)],
                  vertical_alignment=ft.CrossAxisAlignment.START)


class _Remote:
    """A panel filled from the server: "loading", then the answer, or a plain sentence
    saying why not (offline first of all) and a Retry button."""

    def __init__(self, page: ft.Page, fetch: Callable[[], Any], show: Callable[[Any], list[ft.Control]],
                 key: str) -> None:
        self.page, self.fetch, self.show, self.key = page, fetch, show, key
        self.column = ft.Column(spacing=12, key=key)

    def start(self) -> ft.Column:
        self.column.controls = [ft.Row([ft.ProgressRing(width=24, height=24, stroke_width=3),
                                         _text(t("common.loading"))], spacing=12)]
        self.page.run_task(self._load)
        return self.column

    async def _load(self) -> None:
        try:
            answer = await asyncio.to_thread(self.fetch)
            controls = self.show(answer)
        except SyncError as exc:
            controls = self._failed(exc)
        except Exception as exc:  # a bug must not leave the screen on "loading" for ever
            log.exception("leader screen: loading %s failed", self.key)
            controls = self._failed(exc)
        if on_screen(self.column, self.page):
            self.column.controls = controls
            self.column.update()

    def _failed(self, exc: Exception) -> list[ft.Control]:
        if getattr(exc, "retryable", False):  # no network, server down or busy, a captive portal
            lines = [_message(ft.Icons.CLOUD_OFF, t("leader.online.offline"))]
        else:
            lines = [_message(ft.Icons.ERROR_OUTLINE, t("leader.online.failed", reason=str(exc)))]
        return [_panel(lines), theme.big_button(t("common.retry"), icon=ft.Icons.REFRESH, filled=False,
                                                key=f"{self.key}:retry", on_click=lambda e: self.start())]


# ---- the screens ------------------------------------------------------------------------


class LeaderScreens:
    """The leader's screens of one shell (session). Builders are bound methods."""

    def __init__(self, shell: Shell, store: Store, api: ServerApi,
                 sync: Optional[Callable[[], Any]] = None) -> None:
        self.shell = shell
        self.store = store
        self.api = api
        self.sync = sync
        self.roles: dict[str, str] = {}  # device id -> role, from the last team list
        self.settled: dict[tuple[str, str], Any] = {}  # (entity, field) -> value chosen, until the server agrees

    @property
    def page(self) -> ft.Page:
        return self.shell.page

    # -- shared -------------------------------------------------------------------------

    def _sent(self) -> None:
        """A decision was recorded: send it now if the shell lets us."""
        if self.sync is not None:
            self.sync()

    def device_label(self, device_id: Optional[str]) -> str:
        """"Máy 3F2A9C" (with the role when the team list told us), "Máy này" for this one."""
        if not device_id:
            return t("leader.device.unknown")
        if device_id == self.store.device_id:
            return t("leader.device.this")
        short = t("leader.device.short", id=device_id.replace("-", "")[:6].upper())
        role = self.roles.get(device_id)
        return f"{vocab_label(v.ROLES, role)} · {short}" if role in v.ROLES else short

    # -- review queue (offline) -----------------------------------------------------------

    def review(self, shell: Shell) -> list[ft.Control]:
        queue = ft.Column(spacing=12, key="review:queue")
        self._fill_queue(queue)
        last = self.store.last_sync_ok
        return [
            ft.Row([
                ft.OutlinedButton(t("leader.conflicts.open"), icon=ft.Icons.COMPARE_ARROWS, height=48,
                                  key="review:conflicts", on_click=lambda e: shell.go(CONFLICTS)),
                ft.OutlinedButton(t("leader.team.open"), icon=ft.Icons.GROUPS, height=48,
                                  key="review:team", on_click=lambda e: shell.go(TEAM)),
            ], wrap=True, spacing=8, run_spacing=8),
            _text(t("leader.review.as_of", when=relative_time(last)) if last else t("leader.review.never_synced"),
                  ft.TextThemeStyle.BODY_SMALL, color=theme.COLORS.on_surface_variant),
            queue,
        ]

    def _fill_queue(self, queue: ft.Column) -> None:
        visits = self.store.review_queue()
        head = _text(t("leader.review.count", count=format_number(len(visits))), ft.TextThemeStyle.TITLE_MEDIUM)
        if not visits:
            queue.controls = [head, _message(ft.Icons.TASK_ALT, t("leader.review.empty"))]
            return
        queue.controls = [head, *(self._visit_card(item, queue) for item in visits[:QUEUE_SHOWN])]
        if len(visits) > QUEUE_SHOWN:
            queue.controls.append(_message(ft.Icons.MORE_HORIZ, t("leader.review.more", shown=QUEUE_SHOWN,
                                                                  count=format_number(len(visits) - QUEUE_SHOWN))))

    def _visit_card(self, item: ReviewItem, queue: ft.Column) -> ft.Control:
        visit = item.visit
        vid = visit.id
        outcome = visit.outcome or "met"
        actions = [vocab_label(v.ACTIONS, a) for a in visit.actions if a in v.ACTIONS]
        helped = []
        for person_id in visit.people_helped:
            person = self.store.person(person_id)
            helped.append(person.label if person else t("leader.value.unknown_person"))
        lines: list[ft.Control] = [
            _text(item.address or t("leader.value.unknown_household"), ft.TextThemeStyle.TITLE_MEDIUM),
            ft.Row([theme.status_chip(OUTCOME_STATUS.get(outcome, "todo"), vocab_label(v.OUTCOME, outcome))],
                   wrap=True),
            _text(t("leader.review.actions", list=", ".join(actions)) if actions else t("leader.review.no_actions")),
        ]
        if helped:
            lines.append(_text(t("leader.review.helped", list=", ".join(helped))))
        if visit.note:
            lines.append(_text(t("leader.review.note", note=visit.note), italic=True))
        lines.append(_text(t("leader.review.by", who=self.device_label(visit.device_id),
                             when=relative_time(visit.at)),
                           ft.TextThemeStyle.BODY_SMALL, color=theme.COLORS.on_surface_variant))
        lines.append(ft.Row([
            ft.FilledButton(t("leader.review.approve"), icon=ft.Icons.CHECK, height=48, expand=True,
                            key=f"approve:{vid}", on_click=lambda e: self._approve(item, queue)),
            ft.OutlinedButton(t("leader.review.return"), icon=ft.Icons.UNDO, height=48, expand=True,
                              key=f"return:{vid}", on_click=lambda e: self._ask_return(item, queue)),
        ], spacing=8))
        return _panel(lines, key=f"visit:{vid}")

    def _decide(self, item: ReviewItem, queue: ft.Column, decision: str, comment: str = "") -> bool:
        try:
            self.store.decide_review(item.visit.id, decision, comment)
        except (InvalidEvent, StoreError) as exc:  # e.g. not enrolled: say why, keep the queue
            self.shell.snack(t("leader.review.failed", reason=getattr(exc, "detail", None) or str(exc)), error=True)
            return False
        self._fill_queue(queue)
        queue.update()
        self._sent()
        return True

    def _approve(self, item: ReviewItem, queue: ft.Column) -> None:
        if self._decide(item, queue, "approved"):
            self.shell.snack(t("leader.review.approved", address=item.address or ""))

    def _ask_return(self, item: ReviewItem, queue: ft.Column) -> None:
        comment = ft.TextField(label=t("leader.return.comment"), hint_text=t("leader.return.hint"),
                               multiline=True, min_lines=3, max_lines=6, max_length=280, autofocus=True,
                               key="return:comment")

        def cancel(e: Any) -> None:
            self.page.pop_dialog()

        def confirm(e: Any) -> None:
            text = (comment.value or "").strip()
            if not text:
                comment.error = t("leader.return.required")
                comment.update()
                return
            self.page.pop_dialog()
            if self._decide(item, queue, "returned", text):
                self.shell.snack(t("leader.review.returned", address=item.address or ""))

        def typing(e: Any) -> None:
            if comment.error and (comment.value or "").strip():
                comment.error = None
                comment.update()

        comment.on_change = typing
        self.page.show_dialog(ft.AlertDialog(
            modal=True,
            title=ft.Text(t("leader.return.title")),
            content=ft.Column([_text(item.address or ""), _text(t("leader.return.explain")), comment],
                              tight=True, spacing=12, width=480),
            actions=[ft.TextButton(t("common.cancel"), height=48, key="return:cancel", on_click=cancel),
                     ft.FilledButton(t("leader.review.return"), icon=ft.Icons.UNDO, height=48,
                                     key="return:confirm", on_click=confirm)],
        ))

    # -- conflicts (online) -------------------------------------------------------------

    def _communes(self) -> list[str]:
        scope = self.store.scope if isinstance(self.store.scope, dict) else {}
        if scope.get("commune"):
            return [scope["commune"]]
        return sorted({h.commune for h in self.store.hamlets() if h.commune})

    def _fetch_conflicts(self) -> list[dict[str, Any]]:
        rows = [row for commune in self._communes() for row in self.api.conflicts(commune)]
        self.roles = {d["device_id"]: d.get("role") for d in self.api.team_devices()}
        return rows

    def conflicts(self, shell: Shell, params: dict[str, str], route: str = CONFLICTS) -> ft.View:
        remote = _Remote(self.page, self._fetch_conflicts, self._show_conflicts, key="conflicts")
        return shell.pushed_view(route, t("leader.conflicts.title"), [
            _text(t("leader.conflicts.explain"), color=theme.COLORS.on_surface_variant),
            remote.start(),
        ])

    def _show_conflicts(self, rows: list[dict[str, Any]]) -> list[ft.Control]:
        grouped: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for row in rows:  # several devices on one field: one card with every value
            grouped.setdefault((row["entity"], row["field"]), []).append(row)
        for key in list(self.settled):
            if key not in grouped:
                del self.settled[key]  # the server has it: no longer ours to remember
        if not grouped:
            return [_message(ft.Icons.TASK_ALT, t("leader.conflicts.empty"))]
        cards = [_text(t("leader.conflicts.count", count=format_number(len(grouped))),
                       ft.TextThemeStyle.TITLE_MEDIUM)]
        times = self.store.event_times(value.get("event") for row in rows for value in row.get("values") or [])
        cards += [self._conflict_card(entity, field, same, times) for (entity, field), same in grouped.items()]
        return cards

    def _describe(self, entity: str, kind: Optional[str]) -> str:
        person = self.store.person(entity) if kind in (None, "person") else None
        if person is not None:
            household = self.store.household(person.household_id or "")
            where = household.address if household else None
            return t("leader.conflicts.person", label=person.label or "", address=where or "")
        household = self.store.household(entity) if kind in (None, "household") else None
        if household is not None:
            return household.address or ""
        hamlet = next((h for h in self.store.hamlets() if h.id == entity), None)
        return hamlet.name if hamlet else t("leader.conflicts.not_here")

    def _conflict_card(self, entity: str, field: str, rows: list[dict[str, Any]],
                       times: dict[str, str]) -> ft.Control:
        options: dict[str, dict[str, Any]] = {}  # one per distinct value, in the server's order
        for row in rows:
            for value in row.get("values") or []:
                options.setdefault(json.dumps(value.get("value"), sort_keys=True), value)
        key = f"conflict:{entity}:{field}"
        lines: list[ft.Control] = [
            _text(_label("leader.field", field), ft.TextThemeStyle.LABEL_LARGE, color=theme.COLORS.primary),
            _text(self._describe(entity, rows[0].get("type")), ft.TextThemeStyle.TITLE_MEDIUM),
        ]
        panel = _panel(lines, key=key)
        body: ft.Column = panel.content
        if (entity, field) in self.settled:
            body.controls.append(self._chosen(field, self.settled[(entity, field)]))
            return panel
        current = self._current(entity, field)

        def choose(value: Any) -> None:
            if self._settle(entity, field, value):
                body.controls[2:] = [self._chosen(field, value)]
                body.update()

        choices = []
        for n, value in enumerate(options.values()):
            when = times.get(value.get("event") or "")
            texts: list[ft.Control] = [
                _text(format_value(field, value.get("value")), ft.TextThemeStyle.TITLE_MEDIUM,
                      color=theme.COLORS.on_surface),
                _text(self.device_label(value.get("device_id")), ft.TextThemeStyle.BODY_SMALL,
                      color=theme.COLORS.on_surface_variant),
                _text(relative_time(when) if when else t("leader.conflicts.version", n=value.get("version")),
                      ft.TextThemeStyle.BODY_SMALL, color=theme.COLORS.on_surface_variant),
            ]
            if current is not None and value.get("value") == current:
                texts.append(ft.Row([ft.Icon(ft.Icons.VISIBILITY, size=18, color=theme.COLORS.primary),
                                     _text(t("leader.conflicts.current"), ft.TextThemeStyle.LABEL_MEDIUM,
                                           expand=True)], spacing=4))
            texts.append(_text(t("leader.conflicts.choose"), ft.TextThemeStyle.LABEL_LARGE,
                               color=theme.COLORS.primary))
            choices.append(ft.OutlinedButton(
                content=ft.Column(texts, spacing=4, tight=True, horizontal_alignment=ft.CrossAxisAlignment.START),
                key=f"{key}:choose:{n}",
                expand=True,
                style=ft.ButtonStyle(padding=ft.Padding.all(12), alignment=ft.Alignment.TOP_LEFT,
                                     shape=ft.RoundedRectangleBorder(radius=theme.RADIUS)),
                on_click=lambda e, chosen=value.get("value"): choose(chosen),
            ))
        # START, not STRETCH: the view scrolls, so a stretched row would have no height to fill
        body.controls.append(ft.Row(choices, spacing=8, vertical_alignment=ft.CrossAxisAlignment.START,
                                    wrap=len(choices) > 2))
        return panel

    @staticmethod
    def _chosen(field: str, value: Any) -> ft.Control:
        return ft.Row([theme.status_chip("done", t("leader.conflicts.chosen", value=format_value(field, value)))],
                      wrap=True)

    def _current(self, entity: str, field: str) -> Any:
        person = self.store.person(entity)
        if person is not None:
            return person.as_data().get(field)
        household = self.store.household(entity)
        return household.as_data().get(field) if household is not None else None

    def _settle(self, entity: str, field: str, value: Any) -> bool:
        try:
            self.store.resolve_conflict(entity, field, value)
        except (InvalidEvent, StoreError) as exc:  # e.g. a move between hamlets, not enrolled
            self.shell.snack(t("leader.conflicts.failed", reason=getattr(exc, "detail", None) or str(exc)), error=True)
            return False
        self.settled[(entity, field)] = value
        self.shell.snack(t("leader.conflicts.settled") if self.sync else t("leader.conflicts.settled_later"))
        self._sent()
        return True

    # -- team (online) -------------------------------------------------------------------

    def team(self, shell: Shell, params: dict[str, str], route: str = TEAM) -> ft.View:
        remote = _Remote(self.page, self.api.team_devices, lambda rows: self._show_team(rows, route), key="team")
        return shell.pushed_view(route, t("leader.team.title"), [
            _text(t("leader.team.explain"), color=theme.COLORS.on_surface_variant),
            remote.start(),
        ])

    def _show_team(self, devices: list[dict[str, Any]], route: str) -> list[ft.Control]:
        self.roles = {d["device_id"]: d.get("role") for d in devices}
        if not devices:
            return [_message(ft.Icons.GROUPS, t("leader.team.empty"))]
        now = datetime.now(timezone.utc)
        return [self._member(d, now, route) for d in devices]

    def _member(self, device: dict[str, Any], now: datetime, route: str) -> ft.Control:
        device_id = device["device_id"]
        times = [m for m in (_parse(device.get("last_push_at")), _parse(device.get("last_pull_at"))) if m]
        last = max(times) if times else None
        if last is None:
            status, words = "problem", t("leader.team.never")
        else:
            stale = (now - last).total_seconds() > STALE_AFTER_HOURS * 3600
            status = "revisit" if stale else "done"
            words = t("leader.team.last_sync", when=relative_time(last.isoformat(), now))
        lines: list[ft.Control] = [
            _text(self.device_label(device_id), ft.TextThemeStyle.TITLE_MEDIUM),
            ft.Row([theme.status_chip(status, words)], wrap=True),
            _text(t("leader.team.acked", seq=format_number(int(device.get("acked_seq") or 0)))),
        ]
        if device.get("revoked"):
            lines.append(ft.Row([ft.Icon(ft.Icons.BLOCK, color=theme.COLORS.error),
                                 _text(t("leader.team.revoked"), expand=True)]))
        count = int(device.get("quarantined") or 0)
        if count:
            lines.append(ft.OutlinedButton(
                t("leader.team.quarantined", count=format_number(count)), icon=ft.Icons.REPORT_PROBLEM, height=48,
                key=f"team:quarantined:{device_id}",
                on_click=lambda e: self.shell.go(f"{route}/{device_id}")))
        else:
            lines.append(ft.Row([ft.Icon(ft.Icons.CHECK_CIRCLE_OUTLINE, color=theme.STATUSES["done"].strong),
                                 _text(t("leader.team.no_quarantined"), expand=True)]))
        return _panel(lines, key=f"member:{device_id}")

    def quarantined(self, shell: Shell, params: dict[str, str], route: str = TEAM + "/:device_id") -> ft.View:
        device_id = params["device_id"]
        remote = _Remote(self.page, lambda: self.api.quarantined(device_id), self._show_quarantined,
                         key="quarantined")
        return shell.pushed_view(route.replace(":device_id", device_id), t("leader.quarantined.title"), [
            _text(self.device_label(device_id), ft.TextThemeStyle.TITLE_MEDIUM),
            _text(t("leader.quarantined.explain"), color=theme.COLORS.on_surface_variant),
            remote.start(),
        ])

    def _show_quarantined(self, events: list[dict[str, Any]]) -> list[ft.Control]:
        if not events:
            return [_message(ft.Icons.TASK_ALT, t("leader.team.no_quarantined"))]
        out = []
        for event in events:
            reason = str(event.get("reason") or "")
            code = reason.split(":", 1)[0].strip()
            lines: list[ft.Control] = [
                ft.Row([theme.status_icon("problem"),
                        _text(_label("leader.kind", str(event.get("kind") or "")), ft.TextThemeStyle.TITLE_MEDIUM,
                              expand=True)]),
                _text(t("leader.quarantined.seq", seq=event.get("seq"),
                        when=relative_time(event.get("received_at")))),
            ]
            if f"leader.reason.{code}" in i18n.keys():
                lines.append(_text(t(f"leader.reason.{code}")))
            lines.append(_text(reason, ft.TextThemeStyle.BODY_SMALL, color=theme.COLORS.on_surface_variant))
            out.append(_panel(lines, key=f"quarantined:{event.get('seq')}"))
        return out
