"""The wire's error codes are one list (campaign/wire.py): the server sends no code outside it,
and every code in it is one the server or the shared rules can really send. The app's sentence
for each code is checked over that same list (tests/ui/test_server_errors.py)."""
from __future__ import annotations

import ast
from pathlib import Path

import httpx

from campaign.wire import EVENT_ERRORS, RULES, SERVER_ERRORS, VALIDATION_ERROR

ROOT = Path(__file__).resolve().parents[2]
SERVICE_ERRORS = {"Invalid", "Unauthenticated", "Forbidden", "NotFound", "Conflict", "Gone", "TooLarge",
                  "Unsupported", "Refused", "ServiceError"}


def _calls(package: str, names: set[str]) -> tuple[set[str], list[str]]:
    """The literal codes given to these constructors, and the calls whose code is not a literal."""
    codes: set[str] = set()
    other: list[str] = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            f = node.func
            name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None
            if name not in names:
                continue
            at = 1 if name == "ApiError" else 0
            if len(node.args) <= at:
                continue
            arg = node.args[at]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                codes.add(arg.value)
            else:
                other.append(f"{path.relative_to(ROOT)}:{node.lineno} {ast.unparse(arg)}")
    return codes, other


def _literals(package: str) -> set[str]:
    return {node.value for path in (ROOT / package).rglob("*.py")
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.Constant) and isinstance(node.value, str)}


def test_every_code_the_server_raises_is_in_the_wire_list() -> None:
    codes, other = _calls("sync_server", SERVICE_ERRORS | {"ApiError", "error_body"})
    assert codes - SERVER_ERRORS - {VALIDATION_ERROR} == set()
    # the calls passing a code on: a refusal's own, a campaign rule's (EVENT_ERRORS), the validator's
    assert sorted(o.split(" ", 1)[1] for o in other) == ["VALIDATION_ERROR", "bad.code", "code", "exc.code", "refusal.code"], other


def test_every_code_of_the_shared_rules_is_in_the_wire_list() -> None:
    codes, other = _calls("campaign", {"InvalidEvent"})
    assert codes - EVENT_ERRORS == set()
    assert [o.split(" ", 1)[1] for o in other] == ["'unknown_' + type_"], other


def test_the_wire_list_holds_no_code_nobody_sends() -> None:
    server, rules = _literals("sync_server"), _literals("campaign")
    assert {c for c in SERVER_ERRORS if c not in server} == set()
    made = {c for c in EVENT_ERRORS if c.startswith("unknown_") and c[len("unknown_"):] in rules}
    assert {c for c in EVENT_ERRORS if c not in rules} - made == set()


def test_a_field_outside_its_rule_is_named_with_the_rule_and_its_limit(server) -> None:
    answer = httpx.post(server.url + "/api/v1/enroll", json={"code": "x" * 65}, timeout=30)
    assert answer.status_code == 400
    body = answer.json()
    assert (body["error"], body["field"], body["rule"], body["limit"]) == (VALIDATION_ERROR, "code", "too_long", 64)
    assert body["rule"] in RULES
    missing = httpx.post(server.url + "/api/v1/enroll", json={}, timeout=30).json()
    assert (missing["field"], missing["rule"]) == ("code", "missing") and "limit" not in missing
