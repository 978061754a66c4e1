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
on the session's event loop. What the screens show and what a tap decides is
`models/leader.py`; this module draws it. See docs/leader.md.
"""
from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import flet as ft

from field_app import theme
from field_app.app_state import server_api
from field_app.i18n import t
from field_app.net.errors import SyncError
from field_app.net.server_api import ServerApi
from field_app.store import Store

from .common import on_screen
from .models.leader import ConflictCard, LeaderApi, LeaderModel, Member, TeamApi, VisitCard, held_events
from .models.review_groups import Filters, VolunteerDay
from .models.words import refusal_of
from .relay_down import make_button
from .review_filters import filter_bar, filter_toggle
from .shell import Shell

__all__ = ["LeaderScreens", "TeamScreens", "register"]

log = logging.getLogger(__name__)

REVIEW = "/review"
CONFLICTS = "/review/conflicts"
TEAM = "/review/team"
WALK = "/review/walk"  # views/walk_lists.py
MEMBERS = "/review/members"  # views/members.py
SETTINGS = "/review/settings"  # views/team_settings.py


def register(shell: Shell, *, store: Store | None = None, sync: Callable[[], Any] | None = None,
             api: ServerApi | None = None) -> LeaderScreens:
    """Plug the leader's screens into the shell (see the module docstring for routes).

    store: the device's Store (default `shell.store`).
    sync: called after each decision or resolution to send it now; it must return at
    once. Default `shell.changed` (the device's background sync); without either, the
    change goes with the next sync.
    api: the online calls (default: the device's `server_api`, or `ServerApi(store)`)."""
    store = store if store is not None else shell.store
    sync = sync if sync is not None else shell.changed
    screens = LeaderScreens(shell, store, api if api is not None else server_api(shell.device, store), sync)
    shell.screens[REVIEW] = screens.review
    # under /review the shell stacks them on the review tab (Back returns there);
    # the short routes are the same screens for links from elsewhere
    team = screens.team_screens
    for route, builder in ((CONFLICTS, screens.conflicts), ("/conflicts", screens.conflicts),
                           (TEAM, team.team), ("/team", team.team),
                           (TEAM + "/:device_id", team.quarantined), ("/team/:device_id", team.quarantined)):
        shell.register_detail(route, functools.partial(builder, route=route))
    return screens


def _text(value: str, style: ft.TextThemeStyle = ft.TextThemeStyle.BODY_MEDIUM, **kw: Any) -> ft.Text:
    return ft.Text(value, theme_style=style, **kw)


def _small(value: str) -> ft.Text:
    return _text(value, ft.TextThemeStyle.BODY_SMALL, color=theme.COLORS.on_surface_variant)


def _panel(controls: list[ft.Control], key: str | None = None) -> ft.Container:
    return _box(ft.Column(controls, spacing=8), key)


def _box(content: ft.Column, key: str | None) -> ft.Container:
    return ft.Container(
        content=content,
        bgcolor=theme.COLORS.surface_container_low,
        border=ft.Border.all(1, theme.COLORS.outline_variant),
        border_radius=ft.BorderRadius.all(theme.RADIUS),
        padding=ft.Padding.all(16),
        key=key,
    )


def _go(shell: Shell, route: str, _e: Any) -> None:
    shell.go(route)


def _tool(words: str, icon: ft.IconData, key: str, on_click: Callable[[Any], None]) -> ft.TextButton:
    """A team tool of the review tab: its icon over its words (wrapped, never cut), a fifth of the row."""
    return ft.TextButton(
        content=ft.Column([ft.Icon(icon, size=24),
                           ft.Text(words, size=12, text_align=ft.TextAlign.CENTER, max_lines=3)],
                          spacing=2, tight=True, horizontal_alignment=ft.CrossAxisAlignment.CENTER),
        key=key, expand=True, on_click=on_click,
        style=ft.ButtonStyle(padding=ft.Padding.symmetric(horizontal=2, vertical=6),
                             shape=ft.RoundedRectangleBorder(radius=8)))


def _message(icon: ft.IconData, text: str) -> ft.Row:
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
            lines: list[ft.Control] = [_message(ft.Icons.CLOUD_OFF, t("leader.online.offline"))]
        else:
            lines = [_message(ft.Icons.ERROR_OUTLINE, t("leader.online.failed", reason=refusal_of(exc)))]
        return [_panel(lines), theme.big_button(t("common.retry"), icon=ft.Icons.REFRESH, filled=False,
                                                key=f"{self.key}:retry", on_click=lambda e: self.start())]


# ---- the screens ------------------------------------------------------------------------


class LeaderScreens:
    """The leader's screens of one shell (session). Builders are bound methods."""

    def __init__(self, shell: Shell, store: Store, api: LeaderApi, sync: Callable[[], Any] | None = None) -> None:
        self.shell = shell
        self.store = store
        self.api = api
        self.sync = sync
        self.model = LeaderModel(store)
        self.filters = Filters()  # the review queue's, kept while the session lasts (views/review_filters.py)
        self.filters_unfolded = False  # folded behind "Lọc" until the leader asks for them
        self.team_screens = TeamScreens(shell, self.model, api)
        self.names_learnt = False  # the team's names asked of the server this session (see _learn_names)

    @property
    def page(self) -> ft.Page:
        return self.shell.page

    def _sent(self) -> None:
        """A decision was recorded: send it now if the shell lets us."""
        if self.sync is not None:
            self.sync()

    # -- review queue (offline) -----------------------------------------------------------

    def review(self, shell: Shell) -> list[ft.Control]:
        queue = ft.Column(spacing=12, key="review:queue")
        self._fill_queue(queue)
        self._learn_names(queue)
        tools = ((t("leader.conflicts.open"), ft.Icons.COMPARE_ARROWS, "review:conflicts", CONFLICTS),
                 (t("leader.team.open"), ft.Icons.GROUPS, "review:team", TEAM),
                 (t("walk.open"), ft.Icons.ASSIGNMENT_IND, "review:walk", WALK),
                 (t("members.open"), ft.Icons.PERSON_ADD, "review:members", MEMBERS),
                 (t("team_settings.open"), ft.Icons.TUNE, "review:settings", SETTINGS))
        # one row of five, the icon over its words: as five buttons they wrapped to three rows at
        # 360 px and pushed the queue (the screen's work) below the fold
        return [
            ft.Row([_tool(words, icon, key, functools.partial(_go, shell, route)) for words, icon, key, route in tools],
                   spacing=2, vertical_alignment=ft.CrossAxisAlignment.START),
            _small(self.model.as_of()),
            queue,
        ]

    def _learn_names(self, queue: ft.Column) -> None:
        """The queue says who recorded each visit by name, but names come with the team list: a
        leader who never opened it would read "Máy 0190F2". Ask the server once a session, quietly
        (offline, the labels stay as they are, and the next visit to the tab asks again)."""
        if self.names_learnt:
            return

        async def learn() -> None:
            try:
                devices = await asyncio.to_thread(self.api.team_devices)
            except Exception as exc:  # offline, refused: the queue works without names
                log.info("review queue: the team's names not learnt (%s)", type(exc).__name__)
                return
            self.names_learnt = True
            before = dict(self.model.names)
            self.model.members(devices, datetime.now(UTC))
            if self.model.names != before and on_screen(queue, self.page):
                self._fill_queue(queue)
                queue.update()

        self.page.run_task(learn)

    def _fill_queue(self, queue: ft.Column) -> None:
        model = self.model.queue()
        head = _text(model.head, ft.TextThemeStyle.TITLE_MEDIUM)
        if not model.cards:
            queue.controls = [head, _message(ft.Icons.TASK_ALT, t("leader.review.empty"))]
            return
        groups = self.model.groups(self.filters)  # by volunteer and day, the sample first
        shown = sum(len(g.sample) + len(g.rest) for g, _h, _c in groups)
        toggle = filter_toggle(self.filters, self.filters_unfolded, functools.partial(self._fold_filters, queue))
        queue.controls = [ft.Row([ft.Container(head, expand=True), toggle],
                                 vertical_alignment=ft.CrossAxisAlignment.CENTER),
                          filter_bar(self.model.filter_choices(), self.filters, shown,
                                     functools.partial(self._filter, queue), unfolded=self.filters_unfolded)]
        if not groups:
            queue.controls.append(_message(ft.Icons.FILTER_ALT_OFF, t("leader.review.filter.none")))
        for group, heading, cards in groups:
            queue.controls.append(_text(heading, ft.TextThemeStyle.TITLE_SMALL, key=group.key))
            queue.controls += [self._visit_card(card, queue) for card in cards]
            if group.rest:
                queue.controls.append(ft.FilledTonalButton(
                    t("leader.review.approve_rest", count=len(group.rest)), icon=ft.Icons.DONE_ALL, height=48,
                    key=f"approve_rest:{group.device_id}:{group.day}",
                    on_click=lambda e, g=group: self._approve_rest(g, queue)))
        if model.more is not None:
            queue.controls.append(_message(ft.Icons.MORE_HORIZ, model.more))

    def _fold_filters(self, queue: ft.Column) -> None:
        self.filters_unfolded = not self.filters_unfolded
        self._fill_queue(queue)
        queue.update()

    def _filter(self, queue: ft.Column, filters: Filters) -> None:
        self.filters = filters
        self._fill_queue(queue)
        queue.update()

    def _visit_card(self, card: VisitCard, queue: ft.Column) -> ft.Control:
        lines: list[ft.Control] = [
            _text(card.title, ft.TextThemeStyle.TITLE_MEDIUM),
            ft.Row([theme.status_chip(*card.outcome), *([_sample_mark()] if card.sample else [])], wrap=True),
            _text(card.actions),
        ]
        if card.helped is not None:
            lines.append(_text(card.helped))
        if card.note is not None:
            lines.append(_text(card.note, italic=True))
        lines.append(_small(card.by))
        lines.append(ft.Row([
            ft.FilledButton(t("leader.review.approve"), icon=ft.Icons.CHECK, height=48, expand=True,
                            key=f"approve:{card.id}", on_click=lambda e: self._approve(card, queue)),
            ft.OutlinedButton(t("leader.review.return"), icon=ft.Icons.UNDO, height=48, expand=True,
                              key=f"return:{card.id}", on_click=lambda e: self._ask_return(card, queue)),
        ], spacing=8))
        return _panel(lines, key=f"visit:{card.id}")

    def _decide(self, card: VisitCard, queue: ft.Column, decision: str, comment: str = "") -> bool:
        failed = self.model.decide(card.id, decision, comment)
        if failed is not None:
            self.shell.snack(failed, error=True)
            return False
        self._fill_queue(queue)
        queue.update()
        self._sent()
        return True

    def _approve_rest(self, group: VolunteerDay, queue: ft.Column) -> None:
        failed = self.model.approve_rest(group)
        if failed is not None:
            self.shell.snack(failed, error=True)
            return
        self._fill_queue(queue)
        queue.update()
        self._sent()
        self.shell.snack(t("leader.review.approved_rest", count=len(group.rest)))

    def _approve(self, card: VisitCard, queue: ft.Column) -> None:
        if self._decide(card, queue, "approved"):
            self.shell.snack(t("leader.review.approved", address=card.address))

    def _ask_return(self, card: VisitCard, queue: ft.Column) -> None:
        comment = ft.TextField(label=t("leader.return.comment"), hint_text=t("leader.return.hint"),
                               multiline=True, min_lines=3, max_lines=6, max_length=280, autofocus=True,
                               key="return:comment")

        def cancel(e: ft.Event[Any]) -> None:
            self.page.pop_dialog()

        def confirm(e: ft.Event[Any]) -> None:
            text = (comment.value or "").strip()
            if not text:
                comment.error = t("leader.return.required")
                comment.update()
                return
            self.page.pop_dialog()
            if self._decide(card, queue, "returned", text):
                self.shell.snack(t("leader.review.returned", address=card.address))

        def typing(e: ft.Event[Any]) -> None:
            if comment.error and (comment.value or "").strip():
                comment.error = None
                comment.update()

        comment.on_change = typing
        self.page.show_dialog(ft.AlertDialog(
            modal=True,
            title=ft.Text(t("leader.return.title")),
            content=ft.Column([_text(card.address), _text(t("leader.return.explain")), comment],
                              tight=True, spacing=12, width=480),
            actions=[ft.TextButton(t("common.cancel"), height=48, key="return:cancel", on_click=cancel),
                     ft.FilledButton(t("leader.review.return"), icon=ft.Icons.UNDO, height=48,
                                     key="return:confirm", on_click=confirm)],
        ))

    # -- conflicts (online) -------------------------------------------------------------

    def conflicts(self, shell: Shell, params: dict[str, str], route: str = CONFLICTS) -> ft.View:
        remote = _Remote(self.page, lambda: self.model.fetch_conflicts(self.api), self._show_conflicts,
                         key="conflicts")
        return shell.pushed_view(route, t("leader.conflicts.title"), [
            _text(t("leader.conflicts.explain"), color=theme.COLORS.on_surface_variant),
            remote.start(),
        ])

    def _show_conflicts(self, rows: list[dict[str, Any]]) -> list[ft.Control]:
        found = self.model.conflicts(rows)
        if found is None:
            return [_message(ft.Icons.TASK_ALT, t("leader.conflicts.empty"))]
        head, cards = found
        return [_text(head, ft.TextThemeStyle.TITLE_MEDIUM), *(self._conflict_card(card) for card in cards)]

    def _conflict_card(self, card: ConflictCard) -> ft.Control:
        body = ft.Column([
            _text(card.field_label, ft.TextThemeStyle.LABEL_LARGE, color=theme.COLORS.primary),
            _text(card.about, ft.TextThemeStyle.TITLE_MEDIUM),
        ], spacing=8)
        panel = _box(body, card.key)
        if card.settled is not None:
            body.controls.append(_chosen(card.settled))
            return panel

        def choose(value: Any) -> None:
            failed = self.model.settle(card.entity, card.field, value)
            if failed is not None:
                self.shell.snack(failed, error=True)
                return
            self.shell.snack(t("leader.conflicts.settled") if self.sync else t("leader.conflicts.settled_later"))
            self._sent()
            body.controls[2:] = [_chosen(self.model.chosen(card.field, value))]
            body.update()

        choices: list[ft.Control] = []
        for n, option in enumerate(card.options):
            texts: list[ft.Control] = [
                _text(option.text, ft.TextThemeStyle.TITLE_MEDIUM, color=theme.COLORS.on_surface),
                _small(option.device),
                _small(option.when),
            ]
            if option.current:
                texts.append(ft.Row([ft.Icon(ft.Icons.VISIBILITY, size=18, color=theme.COLORS.primary),
                                     _text(t("leader.conflicts.current"), ft.TextThemeStyle.LABEL_MEDIUM,
                                           expand=True)], spacing=4))
            texts.append(_text(t("leader.conflicts.choose"), ft.TextThemeStyle.LABEL_LARGE,
                               color=theme.COLORS.primary))
            choices.append(ft.OutlinedButton(
                content=ft.Column(texts, spacing=4, tight=True, horizontal_alignment=ft.CrossAxisAlignment.START),
                key=f"{card.key}:choose:{n}",
                expand=True,
                style=ft.ButtonStyle(padding=ft.Padding.all(12), alignment=ft.Alignment.TOP_LEFT,
                                     shape=ft.RoundedRectangleBorder(radius=theme.RADIUS)),
                on_click=lambda e, chosen=option.value: choose(chosen),
            ))
        # START, not STRETCH: the view scrolls, so a stretched row would have no height to fill
        body.controls.append(ft.Row(choices, spacing=8, vertical_alignment=ft.CrossAxisAlignment.START,
                                    wrap=len(choices) > 2))
        return panel


class TeamScreens:
    """The team's devices and one device's quarantined events (online): the leader's, and
    the dashboard's for its commune (views/dashboard.py hands in an api that asks about it)."""

    def __init__(self, shell: Shell, model: LeaderModel, api: TeamApi) -> None:
        self.shell, self.model, self.api = shell, model, api

    @property
    def page(self) -> ft.Page:
        return self.shell.page

    def team(self, shell: Shell, params: dict[str, str], route: str = TEAM) -> ft.View:
        remote = _Remote(self.page, self.api.team_devices, lambda rows: self._show_team(rows, route), key="team")
        return shell.pushed_view(route, t("leader.team.title"), [
            _text(t("leader.team.explain"), color=theme.COLORS.on_surface_variant),
            remote.start(),
        ])

    def _show_team(self, devices: list[dict[str, Any]], route: str) -> list[ft.Control]:
        members = self.model.members(devices, datetime.now(UTC))
        if not members:
            return [_message(ft.Icons.GROUPS, t("leader.team.empty"))]
        return [self._member(member, route) for member in members]

    def _member(self, member: Member, route: str) -> ft.Control:
        lines: list[ft.Control] = [
            _text(member.label, ft.TextThemeStyle.TITLE_MEDIUM),
            ft.Row([theme.status_chip(*member.status)], wrap=True),
            _text(member.sent),
        ]
        if member.revoked:
            lines.append(ft.Row([ft.Icon(ft.Icons.BLOCK, color=theme.COLORS.error),
                                 _text(t("leader.team.revoked"), expand=True)]))
        if member.quarantined:
            lines.append(ft.OutlinedButton(
                member.quarantined_text, icon=ft.Icons.REPORT_PROBLEM, height=48,
                key=f"team:quarantined:{member.device_id}",
                on_click=lambda e: self.shell.go(f"{route}/{member.device_id}")))
        else:
            lines.append(ft.Row([ft.Icon(ft.Icons.CHECK_CIRCLE_OUTLINE, color=theme.STATUSES["done"].strong),
                                 _text(t("leader.team.no_quarantined"), expand=True)]))
        store = self.model.store
        if not member.revoked and member.device_id != store.device_id:  # the down road (views/relay_down.py)
            lines.append(make_button(self.shell, store, member.device_id, lambda: server_api(self.shell.device, store)))
        return _panel(lines, key=f"member:{member.device_id}")

    def quarantined(self, shell: Shell, params: dict[str, str], route: str = TEAM + "/:device_id") -> ft.View:
        device_id = params["device_id"]
        remote = _Remote(self.page, lambda: self.api.quarantined(device_id), self._show_quarantined,
                         key="quarantined")
        return shell.pushed_view(route.replace(":device_id", device_id), t("leader.quarantined.title"), [
            _text(self.model.device_label(device_id), ft.TextThemeStyle.TITLE_MEDIUM),
            _text(t("leader.quarantined.explain"), color=theme.COLORS.on_surface_variant),
            remote.start(),
        ])

    def _show_quarantined(self, events: list[dict[str, Any]]) -> list[ft.Control]:
        held = held_events(events)
        if not held:
            return [_message(ft.Icons.TASK_ALT, t("leader.team.no_quarantined"))]
        out: list[ft.Control] = []
        for event in held:
            lines: list[ft.Control] = [
                ft.Row([theme.status_icon("problem"), _text(event.kind, ft.TextThemeStyle.TITLE_MEDIUM, expand=True)]),
                _text(event.when),
            ]
            if event.reason is not None:
                lines.append(_text(event.reason))
            lines.append(_small(event.detail))
            out.append(_panel(lines, key=f"quarantined:{event.seq}"))
        return out


def _sample_mark() -> ft.Control:
    """"Xem kỹ" on a card of the sample: an icon and words, on the card's own background."""
    return ft.Container(ft.Row([ft.Icon(ft.Icons.MANAGE_SEARCH, color=theme.COLORS.primary, size=20),
                                _text(t("leader.review.sample_mark"), ft.TextThemeStyle.LABEL_LARGE,
                                      color=theme.COLORS.primary)], spacing=6, tight=True),
                        border=ft.Border.all(1, theme.COLORS.primary), border_radius=ft.BorderRadius.all(8),
                        padding=ft.Padding.symmetric(horizontal=10, vertical=4), key="review:sample_mark")


def _chosen(words: str) -> ft.Control:
    return ft.Row([theme.status_chip("done", words)], wrap=True)
