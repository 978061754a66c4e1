"""Every refusal the server can send is a whole sentence in Vietnamese and English (issue #11,
item 2): checked over the whole wire list (campaign/wire.py, itself checked against the server's
source in tests/server/test_error_codes.py); the server's English detail never reaches a screen."""
from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from campaign.wire import EVENT_ERRORS, RULES, SERVER_ERRORS, VALIDATION_ERROR
from field_app import i18n
from field_app.app_state import EnrolFailed, enrol
from field_app.i18n import FORM_LABELS, field_label, refusal_text, t
from field_app.net.errors import Offline, Rejected
from field_app.net.sync import SyncStatus
from field_app.views.models.words import error_text, failure_text, refusal_of
from field_app.views.sync import error_sentence

from .volunteer import device_store

ENGLISH = "name: String should have at most 64 characters"
LANGS = ("vi", "en")


def _sentence(text: str) -> bool:
    return text[:1].isupper() and text.rstrip().endswith((".", "?")) and "{" not in text


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("code", sorted(SERVER_ERRORS | EVENT_ERRORS))
def test_every_code_the_server_can_send_has_a_sentence(code: str, lang: str) -> None:
    text = refusal_text(code, lang=lang)
    assert text != t("error.server.unknown", lang=lang, code=code), f"{code} has no sentence in {lang}"
    assert _sentence(text), text
    assert "_" not in text, "a code, not words"


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("rule", sorted(RULES))
def test_every_rule_of_a_field_has_a_sentence(rule: str, lang: str) -> None:
    text = refusal_text(VALIDATION_ERROR, {"field": "retention_days", "rule": rule, "limit": 3650}, lang=lang)
    assert _sentence(text) and field_label("retention_days", lang=lang) in text


def test_every_field_a_request_can_carry_has_a_label(tmp_path: Path) -> None:
    from sync_server.app import create_app
    from sync_server.config import Settings

    spec = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'spec.db'}")).openapi()
    names: set[str] = set()
    for ops in spec["paths"].values():
        for op in ops.values():
            names |= {p["name"] for p in op.get("parameters", []) if p["in"] == "query"}
            for content in op.get("requestBody", {}).get("content", {}).values():
                schema = content.get("schema", {})
                if "$ref" in schema:
                    schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
                names |= set(schema.get("properties", {}))
    assert "retention_days" in names and "code" in names
    for lang in LANGS:
        unlabelled = {n for n in names if n not in FORM_LABELS and not i18n.has(f"field.{n}", lang)}
        assert unlabelled == set(), lang


def test_a_field_is_named_by_its_forms_label_with_the_limit_in_words() -> None:
    assert refusal_text(VALIDATION_ERROR, {"field": "retention_days", "rule": "too_big", "limit": 3650}) == \
        "Dữ liệu không hợp lệ: “Số ngày lưu dữ liệu cá nhân sau khi kết thúc” không được lớn hơn 3.650."
    assert refusal_text(VALIDATION_ERROR, {"field": "name", "rule": "too_short", "limit": 1}) == \
        "Dữ liệu không hợp lệ: “Tên chiến dịch” phải có ít nhất 1 ký tự."
    assert refusal_text(VALIDATION_ERROR, {}) == "Dữ liệu gửi lên không hợp lệ."
    assert refusal_text("no_such_code") == "Máy chủ từ chối yêu cầu (mã lỗi: no_such_code)."


def _no_server_words(text: str) -> None:
    assert "String should" not in text and "bad_request" not in text and "400" not in text, text


def test_the_screens_strings_never_pass_the_servers_words_through() -> None:
    refused = Rejected(f"the server refused the request (400 bad_request): {ENGLISH}", code=VALIDATION_ERROR,
                       status=400, answer={"error": VALIDATION_ERROR, "detail": ENGLISH, "field": "name",
                                           "rule": "too_long", "limit": 64})
    expected = "Dữ liệu không hợp lệ: “Tên chiến dịch” dài quá 64 ký tự."
    for text in (error_text(refused), failure_text(refused), refusal_of(refused),
                 t("leader.online.failed", reason=refusal_of(refused)),
                 t("imports.failed", reason=refusal_of(refused))):
        _no_server_words(text)
        assert expected in text
    status = SyncStatus("error", 0.0, None, str(refused), "Rejected", 1, 60.0, error_code=VALIDATION_ERROR,
                        error_answer=refused.answer)
    assert error_sentence(status) == f"Máy chủ từ chối: {expected}"
    assert failure_text(Offline("no connection")) == t("dashboard.offline")
    no_header = Rejected("the server refused the list: no header row …", code="no_header", status=400)
    assert failure_text(no_header) == "Máy chủ từ chối: " + t("error.server.no_header")
    # not the server's: the app's own failure, named by its kind only
    assert refusal_of(ValueError("some python text")) == t("error.app", kind="ValueError")


def test_enrolment_says_the_sentence_of_the_servers_code(tmp_path: Path) -> None:
    def answer(code: str, status: int, **extra):
        return httpx.Client(transport=httpx.MockTransport(
            lambda request: httpx.Response(status, json={"error": code, "detail": ENGLISH, **extra})))

    with device_store(tmp_path / "d") as store:
        with pytest.raises(EnrolFailed) as failed:
            enrol(store, "http://127.0.0.1:1", "ABC", http=answer("rate_limited", 429))
        assert failed.value.kind == "rejected"
        text = t("enrol.error.rejected", detail=refusal_text(failed.value.code, failed.value.answer))
        assert text == "Máy chủ từ chối đăng ký: " + t("error.server.rate_limited")
        # a code too long for the server's rule is a wrong code, said as such
        with pytest.raises(EnrolFailed) as failed:
            enrol(store, "http://127.0.0.1:1", "A" * 80,
                  http=answer(VALIDATION_ERROR, 400, field="code", rule="too_long", limit=64))
        assert failed.value.kind == "unknown_code"


def test_no_string_puts_a_servers_detail_in_a_refusal() -> None:
    """The five strings that used to carry the server's text now carry the app's sentence: their
    placeholders are only ever filled by refusal_text (checked above); none reads "{detail}" from
    an exception's str() in the code any more."""
    root = Path(__file__).resolve().parents[2] / "field_app"
    pattern = re.compile(r"""t\("(enrol\.error\.rejected|sync\.error\.Rejected|dashboard\.refused|"""
                         r"""leader\.online\.failed|imports\.failed)"[^)]*str\((exc|failed|e)\)""")
    offenders = [f"{p}: {m.group(0)}" for p in root.rglob("*.py") for m in pattern.finditer(p.read_text())]
    assert offenders == []
