"""The online-only calls of the leader's screens and the dashboard.

    api = ServerApi(store)            # the device's server and Bearer token
    api.conflicts("10525")            # [{"id", "entity", "type", "field", "values": [earlier, later], ...}]
    api.team_devices()                # [{"device_id", "role", "last_push_at", "quarantined", ...}]
    api.quarantined(device_id)        # [{"seq", "kind", "reason", "received_at"}]
    api.new_member("Nguyễn Thị Lan")  # {"code", "url", "expires_at", "team", "name"}: a named enrolment code
    api.audit("10525", before=None)   # newest first: {"entries": [{"id", "at", "role", "action", ...}], "next", "more"}
    api.progress("10525")             # households, visited, eid_active, target, forecast, days
    api.totals("10525", by="team")    # {"rows": [...], "total": {...}}
    api.communes()                    # [{"code", "name", "province", "households", "visited"}]
    api.followup("10525", "level2")   # one page: {"rows", "next", "more"}
    api.followup_counts("10525")      # {"card_capture": 12, "level2": 3, ...}
    api.totals_xlsx("10525")          # Download(data, filename, content_type); also totals_csv, followup_csv
    api.import_file("10525", data, dry_run=True)     # the check's report (every bad row)
    api.import_state(import_id)       # a running import: status, rows_done of rows_total
    api.campaign("10525")             # the settings, or None; api.put_campaign("10525", {...})
    api.relay(bundle_bytes)           # Relayed(device_id, acked_seq, quarantined, receipt): a carried bundle

Requests and failures go through the one HTTP client (net/http.py), so every
answer maps to the same errors as a sync (`Offline`, `ServerBusy`,
`NotEnrolled`, `Revoked`, `Purged` (the device's data already deleted), `Rejected`,
`BadAnswer`: see docs/device.md).
These calls block: screens run them off the event loop.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

import httpx

from campaign.followup import file_stem

from ..signout import forget_purged
from ..store import Store
from .errors import BadAnswer, Rejected
from .http import HttpClient, OnPurged, json_object

CONFLICTS = "/api/v1/conflicts"
TEAM_DEVICES = "/api/v1/team/devices"
TEAM_QUARANTINED = "/api/v1/team/quarantined"
TEAM_ENROLMENTS = "/api/v1/team/enrolments"
PROGRESS = "/api/v1/progress"
TOTALS = "/api/v1/totals"
COMMUNES = "/api/v1/communes"
FOLLOWUP = "/api/v1/followup"
TOTALS_XLSX = "/api/v1/exports/totals.xlsx"
WALKSHEET_PDF = "/api/v1/exports/walksheet.pdf"
PDF_TYPE = "application/pdf"
TOTALS_CSV = "/api/v1/exports/totals.csv"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CAMPAIGNS = "/api/v1/campaigns"
TEAM_SETTINGS = "/api/v1/team/settings"
IMPORTS = "/api/v1/imports"
RELAY = "/api/v1/sync/relay"
RELAY_DOWN = "/api/v1/sync/relay-down"
IMPORT_TIMEOUT = 180.0  # s: checking a 10 MB list takes the server a while; a person watches a spinner
FOLLOWUP_PAGE = 100  # the server's default page
DEFAULT_TIMEOUT = 15.0  # a person is waiting for the answer


@dataclass(frozen=True)
class Download:
    """A file the server sent: its bytes, the name it suggested, its type."""
    data: bytes
    filename: str
    content_type: str


@dataclass(frozen=True)
class Relayed:
    """The server's answer to a carried bundle: what it now holds of the origin phone, and the
    receipt (signed by the server) to carry back to that phone."""
    device_id: str
    acked_seq: int
    quarantined: list[tuple[int, str]]  # (seq, reason code) of the bundle's refused changes
    receipt: dict[str, Any]


def _filename(disposition: str) -> str | None:
    """The file name in a Content-Disposition header, without any path a server could slip in."""
    match = re.search(r'filename="?([^";]+)"?', disposition)
    name = match.group(1).strip().replace("\\", "/").rsplit("/", 1)[-1] if match else ""
    return name or None


class ServerApi:
    """on_purged: what a `410 purged` answer does (app_state.Device's, through `Device.server_api`);
    by default `signout.forget_purged` on this store."""

    def __init__(self, store: Store, client: httpx.Client | None = None, timeout: float | None = None, *,
                 on_purged: OnPurged | None = None) -> None:
        self.store = store
        self._http = HttpClient(store, on_purged or functools.partial(forget_purged, store), client, timeout,
                                default_timeout=DEFAULT_TIMEOUT)

    def close(self) -> None:
        self._http.close()

    def _list(self, path: str, key: str, **params: Any) -> list[dict[str, Any]]:
        body = self._http.get_json(path, **params)
        rows = body.get(key)
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise BadAnswer(f"the server's answer has no list {key!r}")
        return rows

    def conflicts(self, commune: str) -> list[dict[str, Any]]:
        """Open conflicts of a commune, in the caller's scope, oldest first."""
        return self._list(CONFLICTS, "conflicts", commune=commune)

    def team_devices(self, commune: str | None = None) -> list[dict[str, Any]]:
        """The devices this caller may see (a leader: the team's), with their sync bookkeeping."""
        return self._list(TEAM_DEVICES, "devices", **({"commune": commune} if commune else {}))

    def quarantined(self, device_id: str) -> list[dict[str, Any]]:
        """A member device's quarantined events: seq, kind, reason, received_at."""
        return self._list(TEAM_QUARANTINED, "quarantined", device_id=device_id)

    def new_member(self, name: str, team: str | None = None) -> dict[str, Any]:
        """POST /team/enrolments: a one-time enrolment code for a volunteer of the team (a leader's
        own, by default) held by `name`: {"code", "url", "expires_at", "team", "name"}."""
        answer = json_object(self._http.request("POST", TEAM_ENROLMENTS,
                                                json={"name": name, **({"team": team} if team else {})}))
        if not all(isinstance(answer.get(k), str) for k in ("code", "url", "expires_at", "name")):
            raise BadAnswer("the server's new member answer has no code, link or expiry")
        return answer

    def team_settings(self, team: str) -> dict[str, Any]:
        """GET /team/settings: {"team", "sample_every", "lapse_days"} (a leader's own team)."""
        return _settings_answer(json_object(self._http.request("GET", TEAM_SETTINGS, params={"team": team})))

    def put_team_settings(self, team: str, settings: dict[str, int]) -> dict[str, Any]:
        """PUT /team/settings: the server checks (`Rejected` with bad_sample_every or bad_lapse_days)
        and audits the change; the answer is the settings as saved."""
        return _settings_answer(json_object(self._http.request("PUT", TEAM_SETTINGS, params={"team": team},
                                                               json=settings)))

    def audit(self, commune: str | None = None, *, action: str | None = None, before: int | None = None,
              limit: int = 50) -> dict[str, Any]:
        """One page of the audit log, newest first (officers: their commune, required; admins: any or all):
        {"entries": [{"id", "at", "device_id", "role", "action", "commune", "scope", "detail"}], "next", "more"}.
        The next page: `before=answer["next"]`. `action` is one action or a family ("export").
        A server too old to page newest first ignores `order`: that is `Rejected` ("old_server"),
        not a silently oldest-first list."""
        params: dict[str, Any] = {"order": "newest", "limit": limit}
        for name, value in (("commune", commune), ("action", action), ("before", before)):
            if value is not None:
                params[name] = value
        body = self._http.get_json("/api/v1/audit", **params)
        entries, more, after = body.get("entries"), body.get("more"), body.get("next")
        if not isinstance(entries, list) or not all(isinstance(e, dict) and isinstance(e.get("id"), int)
                                                    for e in entries) \
                or not isinstance(more, bool) or isinstance(after, bool) or not isinstance(after, int):
            raise BadAnswer("the server's audit answer has no entries/next/more")
        if body.get("order") != "newest":
            raise Rejected("this server cannot list its audit log newest first: update the server",
                           code="old_server", status=200)
        return {"entries": entries, "next": after, "more": more}

    # ---- the dashboard (officers, leaders, admins) --------------------------------------

    def _object(self, path: str, **params: Any) -> dict[str, Any]:
        return self._http.get_json(path, **params)

    def progress(self, commune: str) -> dict[str, Any]:
        """GET /progress: households visited, e-IDs active, the target, the days, the pace forecast."""
        answer = self._object(PROGRESS, commune=commune)
        if not isinstance(answer.get("days"), list):
            raise BadAnswer("the server's progress answer has no list of days")
        return answer

    def totals(self, commune: str, by: str = "hamlet") -> dict[str, Any]:
        """GET /totals by hamlet, team or day: {"rows": [...], "total": {...}}."""
        answer = self._object(TOTALS, commune=commune, by=by)
        rows = answer.get("rows")
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise BadAnswer("the server's totals answer has no list 'rows'")
        return answer

    def communes(self) -> list[dict[str, Any]]:
        """GET /communes: the communes this caller may pick (code, name, province, households, visited)."""
        return self._list(COMMUNES, "communes")

    def followup(self, commune: str, list_name: str, after: str | None = None,
                 limit: int = FOLLOWUP_PAGE) -> dict[str, Any]:
        """One page of a follow-up list: {"rows", "next", "more"} (the server audits the view)."""
        params: dict[str, Any] = {"commune": commune, "list": list_name, "limit": limit}
        if after:
            params["after"] = after
        answer = self._object(FOLLOWUP, **params)
        if not isinstance(answer.get("rows"), list):
            raise BadAnswer("the server's follow-up answer has no list 'rows'")
        return answer

    def followup_counts(self, commune: str) -> dict[str, int]:
        """GET /followup/counts: each list's length in this caller's scope (no personal data)."""
        return self.followup_overview(commune)[0]

    def followup_overview(self, commune: str) -> tuple[dict[str, int], dict[str, dict[str, Any]], dict[str, int]]:
        """GET /followup/counts: each list's length, each blocker's progress ({code: {"open": n,
        "helped": {action: n}}}) and the children under 14 by status ({"now": n, ...}); the last two
        empty from a server older than them."""
        answer = self._object(FOLLOWUP + "/counts", commune=commune)
        counts = answer.get("counts")
        if not isinstance(counts, dict) or not all(isinstance(n, int) for n in counts.values()):
            raise BadAnswer("the server's follow-up counts are not numbers")
        blockers = answer.get("blockers") or {}
        if not isinstance(blockers, dict) or not all(
                isinstance(p, dict) and isinstance(p.get("open"), int) and isinstance(p.get("helped"), dict)
                for p in blockers.values()):
            raise BadAnswer("the server's blocker counts are not numbers")
        children = answer.get("children") or {}
        if not isinstance(children, dict) or not all(isinstance(n, int) for n in children.values()):
            raise BadAnswer("the server's children counts are not numbers")
        return counts, blockers, children

    def duplicates(self, commune: str) -> list[dict[str, Any]]:
        """GET /followup/duplicates: people likely recorded twice, in pairs (the server audits it)."""
        pairs = self._object(FOLLOWUP + "/duplicates", commune=commune).get("pairs")
        if not isinstance(pairs, list) or not all(
                isinstance(p, dict) and isinstance(p.get("people"), list) and len(p["people"]) == 2 for p in pairs):
            raise BadAnswer("the server's duplicates are not pairs of people")
        return pairs

    def followup_csv(self, commune: str, list_name: str) -> Download:
        """A whole follow-up list as the server's CSV (audited as a download)."""
        return self._download(FOLLOWUP, "text/csv", f"{file_stem(list_name)}-{commune}.csv",
                              commune=commune, list=list_name, format="csv")

    def totals_xlsx(self, commune: str) -> Download:
        """The totals workbook (sheets: totals by hamlet with charts, follow-up, information)."""
        return self._download(TOTALS_XLSX, XLSX_TYPE, f"gocua-tong-hop-{commune}.xlsx", commune=commune)

    def walksheet_pdf(self, hamlet: str, device: str | None = None) -> Download:
        """The A4 walk sheet of a hamlet (or of the households one device holds), audited."""
        params = {"hamlet": hamlet, **({"device": device} if device else {})}
        return self._download(WALKSHEET_PDF, PDF_TYPE, "gocua-phieu-di-tham.pdf", **params)

    def totals_csv(self, commune: str) -> Download:
        """The totals by hamlet as CSV."""
        return self._download(TOTALS_CSV, "text/csv", f"gocua-tong-hop-{commune}.csv", commune=commune)

    def _download(self, path: str, content_type: str, fallback_name: str, **params: Any) -> Download:
        """A file through the one HTTP client (the Bearer token is needed, so a browser
        link could not fetch it). A 200 that is not that file (a captive portal's page) is BadAnswer."""
        response = self._http.request("GET", path, params=params, headers={"Accept": content_type})
        got = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        data = response.content
        if got != content_type or (content_type == XLSX_TYPE and not data.startswith(b"PK")):
            raise BadAnswer(f"the server sent {got or 'something'} instead of {content_type}")
        return Download(data, _filename(response.headers.get("content-disposition", "")) or fallback_name,
                        content_type)

    # ---- the campaign's settings ---------------------------------------------------------

    def campaign(self, commune: str) -> dict[str, Any] | None:
        """GET /campaigns/{commune}: name, target, dates, retention; None when none is set yet."""
        response = self._http.request("GET", f"{CAMPAIGNS}/{commune}", allow=(404,))
        if response.status_code == 404:
            return None
        answer = json_object(response)
        if not isinstance(answer.get("target_kind"), str) or not isinstance(answer.get("start"), str):
            raise BadAnswer("the server's campaign answer has no target or start")
        return answer

    def put_campaign(self, commune: str, settings: dict[str, Any]) -> dict[str, Any]:
        """PUT /campaigns/{commune}: the server validates (`Rejected` with its code: bad_date,
        bad_target …) and audits the change."""
        return json_object(self._http.request("PUT", f"{CAMPAIGNS}/{commune}", json=settings))

    # ---- the target list (officers, admins) -------------------------------------------

    def import_template(self, commune: str) -> Download:
        """The import template workbook, listing the commune's hamlets."""
        return self._download(IMPORTS + "/template.xlsx", XLSX_TYPE, "gocua-mau-nhap-danh-sach.xlsx",
                              commune=commune)

    def import_file(self, commune: str, data: bytes, *, dry_run: bool) -> dict[str, Any]:
        """POST the list as it is (the server reads xlsx or CSV from the bytes). The answer is the
        report: `status` "checked" (a dry run), "running" (accepted: follow it with import_state)
        or "refused" (a bad row: nothing imported; the report lists every bad row)."""
        kind = XLSX_TYPE if data.startswith(b"PK") else "text/csv"
        response = self._http.request("POST", IMPORTS, allow=(422,), timeout=IMPORT_TIMEOUT,
                                      params={"commune": commune, "dry_run": "true" if dry_run else "false"},
                                      content=data, headers={"Content-Type": kind})
        report = json_object(response)
        if response.status_code == 422 and report.get("error") != "bad_rows":
            raise Rejected(f"the server refused the list: {report.get('detail') or report.get('error')}",
                           code=str(report.get("error") or "http_422"), status=422, answer=report)
        if not isinstance(report.get("errors"), list) or not isinstance(report.get("status"), str):
            raise BadAnswer("the server's import answer has no report")
        return report

    def import_state(self, import_id: str) -> dict[str, Any]:
        """A running import: {"status": running|done|failed, "rows_done", "rows_total", ...}."""
        answer = self._object(f"{IMPORTS}/{import_id}")
        if not isinstance(answer.get("status"), str):
            raise BadAnswer("the server's import state has no status")
        return answer

    # ---- the sealed relay (issue #15) ---------------------------------------------------

    def relay(self, bundle: bytes) -> Relayed:
        """POST another phone's sealed bundle with this device's own token (any enrolled role):
        the server applies it as that phone's push and answers with a receipt for it. A bundle
        refused (tampered, revoked origin, an earlier bundle missing) is `Rejected` with its code."""
        response = self._http.request("POST", RELAY, content=bundle,
                                      headers={"Content-Type": "application/octet-stream"})
        answer = json_object(response)
        device, acked, quarantined, receipt = (answer.get("device_id"), answer.get("acked_seq"),
                                               answer.get("quarantined"), answer.get("receipt"))
        if not isinstance(device, str) or not isinstance(acked, int) or not isinstance(receipt, dict) \
                or not isinstance(quarantined, list) \
                or not all(isinstance(q, dict) and isinstance(q.get("seq"), int) for q in quarantined):
            raise BadAnswer("the server's relay answer has no device, acked_seq, quarantined and receipt")
        return Relayed(device, acked, [(q["seq"], str(q.get("reason") or "")) for q in quarantined], receipt)

    def relay_down(self, device_id: str, after: int | None = None) -> DownMade:
        """A down bundle for a phone of the caller's team (docs/sync.md, "Down the same road"): the
        server's file, sealed to that phone, which this app carries and cannot read. Refusals
        (`forbidden`, `no_box_key`, `recipient_revoked`) are `Rejected` with their code."""
        params: dict[str, Any] = {"device": device_id, **({"after": after} if after is not None else {})}
        response = self._http.request("GET", RELAY_DOWN, params=params)
        try:
            events, more, reached = (int(response.headers["X-Gocua-Events"]), response.headers["X-Gocua-More"] == "1",
                                     int(response.headers["X-Gocua-Next"]))
        except (KeyError, ValueError):
            raise BadAnswer("the server's down bundle has no X-Gocua-Events, -More and -Next") from None
        return DownMade(response.content, events, more, reached)


@dataclass(frozen=True)
class DownMade:
    raw: bytes  # the file, as the server made it
    events: int  # the changes it holds (the server says; the file does not, to its carrier)
    more: bool  # the phone's pull has more: the next file starts after `next`
    next: int


def _settings_answer(answer: dict[str, Any]) -> dict[str, Any]:
    if not all(type(answer.get(k)) is int for k in ("sample_every", "lapse_days")):
        raise BadAnswer("the server's team settings answer has no sample_every or lapse_days")
    return answer
