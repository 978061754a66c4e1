"""The audit log's endpoint, and every role against every report endpoint."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from .reporting import RURAL, WARD, build_world, http, ok, put

SETTINGS = {"name": "Chiến dịch", "target_kind": "percent", "target_value": 90,
            "start": "2026-01-01", "deadline": "2026-06-30"}
TEMPLATE_CSV = "Thôn/Tổ,Địa chỉ\n".encode()


@pytest.fixture(scope="module")
def world(server):  # type: ignore[no-untyped-def]
    world = build_world(server, "au")
    ok(put(world.admin, f"/api/v1/campaigns/{WARD}", SETTINGS))
    world.import_id = ok(_import(world.officer))["import_id"]  # type: ignore[attr-defined]
    return world


def _import(device) -> httpx.Response:  # type: ignore[no-untyped-def]
    return http.post(device.server.url + "/api/v1/imports", params={"commune": WARD, "dry_run": "true"},
                     content=TEMPLATE_CSV, headers={**device.headers, "Content-Type": "text/csv"})


Call = Callable[[Any, Any], httpx.Response]
CALLS: dict[str, Call] = {
    "GET campaign": lambda w, d: d.get(f"/api/v1/campaigns/{WARD}"),
    "PUT campaign": lambda w, d: put(d, f"/api/v1/campaigns/{WARD}", SETTINGS),
    "GET progress": lambda w, d: d.get("/api/v1/progress", commune=WARD),
    "GET followup": lambda w, d: d.get("/api/v1/followup", commune=WARD, list="card_capture"),
    "GET followup csv": lambda w, d: d.get("/api/v1/followup", commune=WARD, list="revisit", format="csv"),
    "GET totals.xlsx": lambda w, d: d.get("/api/v1/exports/totals.xlsx", commune=WARD),
    "GET totals.csv": lambda w, d: d.get("/api/v1/exports/totals.csv", commune=WARD),
    "POST import": lambda w, d: _import(d),
    "GET import": lambda w, d: d.get(f"/api/v1/imports/{w.import_id}"),
    "GET template": lambda w, d: d.get("/api/v1/imports/template.xlsx", commune=WARD),
    "GET audit": lambda w, d: d.get("/api/v1/audit", commune=WARD),
}
ROLES = ("volunteer", "leader", "other_officer", "officer", "admin")
# 2 = allowed (200), 4 = refused (403), for the roles in ROLES' order
MATRIX = {
    "GET campaign": (4, 2, 4, 2, 2),
    "PUT campaign": (4, 4, 4, 2, 2),
    "GET progress": (4, 2, 4, 2, 2),
    "GET followup": (4, 2, 4, 2, 2),
    "GET followup csv": (4, 2, 4, 2, 2),
    "GET totals.xlsx": (4, 2, 4, 2, 2),
    "GET totals.csv": (4, 2, 4, 2, 2),
    "POST import": (4, 4, 4, 2, 2),
    "GET import": (4, 4, 4, 2, 2),
    "GET template": (4, 4, 4, 2, 2),
    "GET audit": (4, 4, 4, 2, 2),
}


def test_every_role_against_every_report_endpoint(world):
    failures = []
    for name, call in CALLS.items():
        for role, expected in zip(ROLES, MATRIX[name], strict=True):
            answer = call(world, getattr(world, role))
            want = 200 if expected == 2 else 403
            if answer.status_code != want:
                failures.append(f"{name} as {role}: {answer.status_code}, wanted {want}: {answer.text[:120]}")
            elif want == 403 and set(answer.json()) != {"error", "detail"}:
                failures.append(f"{name} as {role}: error body {answer.text[:120]}")
        anonymous = call(world, _Anonymous(world.server))
        if anonymous.status_code != 401 or anonymous.json()["error"] != "unauthenticated":
            failures.append(f"{name} without a token: {anonymous.status_code}")
    assert failures == []


class _Anonymous:
    def __init__(self, server) -> None:  # type: ignore[no-untyped-def]
        self.server, self.headers, self.id = server, {}, None

    def get(self, path: str, **params: Any) -> httpx.Response:
        return http.get(self.server.url + path, params=params)


def test_the_log_pages_and_keeps_communes_apart(world):
    world.other_officer.get("/api/v1/followup", commune=RURAL, list="card_capture")
    world.officer.get("/api/v1/followup", commune=WARD, list="card_capture")  # its own: not the role matrix's
    world.officer.get("/api/v1/exports/totals.csv", commune=WARD)
    everything = ok(world.admin.get("/api/v1/audit", limit=1000))["entries"]
    ward = ok(world.officer.get("/api/v1/audit", commune=WARD, limit=1000))["entries"]
    rural = ok(world.other_officer.get("/api/v1/audit", commune=RURAL))["entries"]
    assert {e["commune"] for e in ward} == {WARD} and {e["commune"] for e in rural} == {RURAL}
    assert len(everything) == len(ward) + len(rural)
    assert [e["action"] for e in rural] == ["followup.view"]
    assert rural[0]["device_id"] == world.other_officer.id and rural[0]["scope"] == {"commune": RURAL, "hamlets": None}
    actions = {e["action"] for e in ward}
    assert {"campaign.update", "import.check", "export.totals.csv", "followup.view"} <= actions
    paged, after = [], 0
    while True:
        page = ok(world.officer.get("/api/v1/audit", commune=WARD, after=after, limit=2))
        paged += page["entries"]
        after = page["next"]
        if not page["more"]:
            break
    assert paged == ward
    assert [e["id"] for e in ward] == sorted(e["id"] for e in ward)
    assert world.officer.get("/api/v1/audit").json()["error"] == "missing_commune"
    assert world.officer.get("/api/v1/audit", commune=RURAL).status_code == 403


def test_the_report_endpoints_are_in_the_openapi(world):
    paths = ok(http.get(world.server.url + "/openapi.json"))["paths"]
    for path, method in (("/api/v1/campaigns/{commune}", "get"), ("/api/v1/campaigns/{commune}", "put"),
                         ("/api/v1/progress", "get"), ("/api/v1/followup", "get"),
                         ("/api/v1/exports/totals.xlsx", "get"), ("/api/v1/exports/totals.csv", "get"),
                         ("/api/v1/imports", "post"), ("/api/v1/imports/{import_id}", "get"),
                         ("/api/v1/imports/template.xlsx", "get"), ("/api/v1/audit", "get")):
        assert {"200", "401", "403"} <= set(paths[path][method]["responses"]), (path, method)
    assert "multipart/form-data" in paths["/api/v1/imports"]["post"]["requestBody"]["content"]
