"""The leader's team settings (Flet-free): the review's "one visit in N" looked at closely and
the days after which a household given and not visited returns to the pool. views/team_settings.py
draws it; the rule is campaign/team_settings.py (the server checks it again: one rule).

The settings are read and saved online (GET/PUT /api/v1/team/settings); what the server
answers is kept in the store at once, so the review and the walk lists use it before the
next sync brings it on the pull (docs/leader.md, "Team settings").
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from campaign.team_settings import BadSetting, TeamSettings, checked
from field_app.i18n import t
from field_app.store import Store

__all__ = ["Form", "TeamSettingsApi", "load", "parse", "save", "team_of"]


class TeamSettingsApi(Protocol):
    """The server calls of the screen (field_app/net/server_api.py `ServerApi`)."""

    def team_settings(self, team: str) -> dict[str, Any]: ...
    def put_team_settings(self, team: str, settings: dict[str, int]) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Form:
    """What the boxes hold, or why not, each under its box (None when right)."""
    settings: TeamSettings | None
    sample_error: str | None = None
    lapse_error: str | None = None


def team_of(store: Store) -> str | None:
    """The team this leader's device was enrolled for (its scope's `team`)."""
    scope = store.scope if isinstance(store.scope, dict) else {}
    team = scope.get("team")
    return team if isinstance(team, str) and team else None


def _number(text: str | None) -> int | None:
    text = (text or "").strip()
    return int(text) if text.isascii() and text.isdigit() else None


def parse(sample_text: str | None, lapse_text: str | None) -> Form:
    """The two boxes checked with campaign's rule before anything is sent: each wrong box gets
    the same sentence the server's refusal would show."""
    sample, lapse = _number(sample_text), _number(lapse_text)
    sample_error = lapse_error = None
    try:
        checked({"sample_every": sample if sample is not None else -1})
    except BadSetting:
        sample_error = t("error.server.bad_sample_every")
    try:
        checked({"lapse_days": lapse if lapse is not None else -1})
    except BadSetting:
        lapse_error = t("error.server.bad_lapse_days")
    if sample_error or lapse_error or sample is None or lapse is None:
        return Form(None, sample_error, lapse_error)
    return Form(TeamSettings(sample, lapse))


def _kept(store: Store, answer: dict[str, Any]) -> TeamSettings:
    store.keep_team_settings(answer)
    return store.team_settings()


def load(api: TeamSettingsApi, store: Store, team: str) -> TeamSettings:
    """The team's settings from the server, kept here too (blocking: off the event loop)."""
    return _kept(store, api.team_settings(team))


def save(api: TeamSettingsApi, store: Store, team: str, settings: TeamSettings) -> TeamSettings:
    """Save on the server (which checks and audits), then keep what it answered. Raises the
    net errors of server_api (Offline, Rejected with its code) for the screen to say."""
    return _kept(store, api.put_team_settings(team, settings.as_wire()))
