"""Times, numbers and failures in words, for the screens' models (no Flet)."""
from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from campaign import vocabulary as v
from campaign.time import VIETNAM
from field_app import i18n
from field_app.i18n import format_number, get_language, refusal_text, t, vocab_label

__all__ = ["ERROR_KINDS", "FIELD_VOCABULARY", "changes_text", "code_label", "day_text", "error_text",
           "failure_text", "format_value", "parse_time", "percent", "refusal_of", "relative_time", "share_of",
           "share_short", "share_words", "work_text"]

#: The sync client's failures that have their own sentence (`sync.error.<kind>`); others are "other".
ERROR_KINDS = ("Offline", "ServerBusy", "BadAnswer", "NotEnrolled", "Revoked", "Purged", "Rejected",
               "SeqConflict")

#: A wire field -> the vocabulary its codes come from.
FIELD_VOCABULARY = {"card": v.CARD, "vneid": v.VNEID, "presence": v.PRESENCE, "consent": v.CONSENT,
                    "kind": v.HAMLET_KIND, "blockers": v.BLOCKERS}


def refusal_of(exc: Exception, *, lang: str | None = None) -> str:
    """What the server refused, as the app's sentence for its code (i18n.refusal_text); an
    exception that is no answer of the server (a bug, a broken file) is named by its kind only."""
    code = getattr(exc, "code", None)
    if code is None and not hasattr(exc, "answer"):
        return t("error.app", lang=lang, kind=type(exc).__name__)
    return refusal_text(code, getattr(exc, "answer", None), status=getattr(exc, "status", None), lang=lang)


def error_text(exc: Exception, *, lang: str | None = None) -> str:
    """A failed sync call in words, by the kind of failure (`sync.error.*`); a refusal with the
    sentence of its code, never the server's own words."""
    kind = type(exc).__name__
    if kind == "Rejected":
        return t("sync.error.Rejected", lang=lang, detail=refusal_of(exc, lang=lang))
    return t(f"sync.error.{kind if kind in ERROR_KINDS else 'other'}", lang=lang, detail=str(exc))


def failure_text(exc: Exception) -> str:
    """A failed server call in words: no network first of all, else the sentence of the refusal."""
    if getattr(exc, "retryable", False):  # no network, server down or busy, a captive portal
        return t("dashboard.offline")
    return t("dashboard.refused", reason=refusal_of(exc))


def work_text(work: Any, *, lang: str | None = None) -> str:
    """A device's events as people speak of them (store.Work): "1 lượt thăm, 2 người";
    "1 visit, 2 people". Never "events"; nothing at all is said by the caller."""
    parts = [i18n.plural(f"work.{name}", n, lang=lang)
             for name in ("visits", "reviews", "households", "people", "other") if (n := getattr(work, name))]
    return ", ".join(parts)


def changes_text(n: int, *, lang: str | None = None) -> str:
    """A count of single changes (a quarantined one is one event, not a whole visit): "3 thay đổi"."""
    return i18n.plural("work.changes", n, lang=lang)


def percent(share: float | None) -> str:
    """0.8345 -> "83,5 %" (vi) or "83.5 %" (en)."""
    return f"{format_number((share or 0.0) * 100, decimals=1)} %"


def share_of(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


#: below this many, a share is said as a count ("0 trên 11 người"): "0,0 %" of a handful says nothing
SMALL_WHOLE = 20


def share_words(part: int, whole: int, unit: str) -> str:
    """A part of a whole in words: "63,9 % của 1.722 người", or "3 trên 11 người" for a small
    whole; `unit`: "people", "households" or "visits"."""
    unit_word = t(f"words.unit.{unit}")
    if whole < SMALL_WHOLE:
        return t("words.share.few", n=format_number(part), whole=format_number(whole), unit=unit_word)
    return t("words.share.of", share=percent(share_of(part, whole)), whole=format_number(whole), unit=unit_word)


def share_short(part: int, whole: int) -> str:
    """The same for a narrow column: "63,9 %", or "3/11" for a small whole."""
    if whole < SMALL_WHOLE:
        return f"{format_number(part)}/{format_number(whole)}"
    return percent(share_of(part, whole))


def day_text(iso: str | None) -> str:
    """A date as people write it: "28/01/2027"; "28 Jan 2027" in English."""
    if not iso:
        return ""
    day = date.fromisoformat(iso[:10])
    if get_language() == "en":
        return f"{day.day} {day.strftime('%b')} {day.year}"
    return day.strftime("%d/%m/%Y")


def parse_time(value: Any) -> datetime | None:
    """An ISO instant from the server or the store (a naive one is UTC); None if it is none."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def relative_time(value: Any, now: datetime | None = None) -> str:
    """"vừa xong", "5 phút trước", "3 giờ trước", "hôm qua", "4 ngày trước", then the date."""
    moment = parse_time(value)
    if moment is None:
        return t("leader.time.never")
    now = now or datetime.now(UTC)
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


def code_label(prefix: str, code: str) -> str:
    """A translated label for a wire code (field, event kind, reason), else the code itself."""
    key = f"{prefix}.{code.replace('.', '_')}"
    known = i18n.keys()  # every key of the language table (a frozenset, not a dict's view)
    return t(key) if key in known else code
