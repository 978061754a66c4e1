"""GET /api/v1/audit newest first (`order=newest`, paged with `before`) and by action family.

The app's audit screen shows the latest rows first and loads older ones on demand; oldest first
(the default, unchanged) would make it walk the whole log to reach today. Both backends.
"""
from __future__ import annotations

from typing import Any

from ..support import Server
from .reporting import RURAL, WARD, ok


def _got(answer: Any) -> None:
    assert answer.status_code == 200, answer.text


def _rows(server: Server) -> dict[str, Any]:
    """Five audited reads by an officer of each commune, in a known order."""
    ward, rural = server.enroll("officer", commune=WARD), server.enroll("officer", commune=RURAL)
    _got(ward.get("/api/v1/exports/totals.csv", commune=WARD))
    _got(rural.get("/api/v1/exports/totals.csv", commune=RURAL))
    ok(ward.get("/api/v1/followup", commune=WARD, list="card_capture"))
    ok(ward.get("/api/v1/followup", commune=WARD, list="revisit"))
    _got(ward.get("/api/v1/exports/totals.csv", commune=WARD))
    return {"ward": ward, "rural": rural, "admin": server.enroll("admin")}


def test_newest_first_paged_with_before(server: Server) -> None:
    who = _rows(server)
    oldest = ok(who["ward"].get("/api/v1/audit", commune=WARD, limit=1000))
    assert oldest["order"] == "oldest"
    ids = [e["id"] for e in oldest["entries"]]
    first = ok(who["ward"].get("/api/v1/audit", commune=WARD, order="newest", limit=2))
    assert first["order"] == "newest" and first["more"] is True
    assert [e["id"] for e in first["entries"]] == ids[::-1][:2]
    assert first["entries"][0]["action"] == "export.totals.csv"  # the last thing done
    assert first["next"] == first["entries"][-1]["id"]
    seen = [e["id"] for e in first["entries"]]
    page = first
    while page["more"]:
        page = ok(who["ward"].get("/api/v1/audit", commune=WARD, order="newest", limit=2, before=page["next"]))
        seen += [e["id"] for e in page["entries"]]
    assert seen == ids[::-1]  # every row once, newest first, this commune's only
    assert all(e["commune"] == WARD for e in oldest["entries"])


def test_by_action_family(server: Server) -> None:
    who = _rows(server)
    exports = ok(who["admin"].get("/api/v1/audit", order="newest", action="export"))["entries"]
    assert exports and {e["action"] for e in exports} == {"export.totals.csv"}
    assert {e["commune"] for e in exports} == {WARD, RURAL}  # an admin: every commune
    views = ok(who["ward"].get("/api/v1/audit", commune=WARD, action="followup.view"))["entries"]
    assert [e["detail"]["list"] for e in views][-2:] == ["card_capture", "revisit"]
    assert ok(who["ward"].get("/api/v1/audit", commune=WARD, action="follow"))["entries"] == []  # whole words
    assert ok(who["ward"].get("/api/v1/audit", commune=WARD, action="export_totals"))["entries"] == []


def test_bad_parameters_are_400_and_scope_still_holds(server: Server) -> None:
    who = _rows(server)
    for params in ({"order": "sideways"}, {"before": 0}, {"action": "EXPORT"}, {"action": "export%"},
                   {"action": "x" * 65}):
        answer = who["ward"].get("/api/v1/audit", commune=WARD, **params)
        assert answer.status_code == 400, (params, answer.text)
    assert who["ward"].get("/api/v1/audit", commune=RURAL, order="newest").status_code == 403
    assert who["ward"].get("/api/v1/audit", order="newest").status_code == 400  # officers: their commune
