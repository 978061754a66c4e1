"""The app lock's flow, without Flet: what covers the app, what the lock screen
shows, what each key and each answer does, the sign-out steps, and the PIN
tasks of Settings (set, change, remove).

field_app/lock.py holds the rules (the PIN, wrong tries and their waits, the
idle timer); views/lock.py draws what this module decides and hooks it into
the shell. Every text is said in the language passed in (`lang`): timers and
lifecycle handlers run outside the handler that set the page's language.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from field_app.i18n import t
from field_app.lock import FREE_ATTEMPTS, MAX_ATTEMPTS, PIN_MAX, PIN_MIN, AppLock, Attempt, PinError, attempts_left

from .words import error_text

__all__ = ["MODES", "NOT_A_PERSON", "PERSON_PAGE_EVENTS", "Cover", "LockFace", "LockFlow", "Note", "PinOutcome",
           "PinTask", "Submit", "attempt_text", "counts_as_person", "keypad_key", "pin_mode", "wait_text"]

MODES = ("set", "change", "remove")

#: page events a person causes (the rest — connect, resize, lifecycle … — are not a sign of one)
PERSON_PAGE_EVENTS = frozenset({"route_change", "view_pop", "keyboard_event"})
#: control events no person causes
NOT_A_PERSON = frozenset({"animation_end", "load", "error", "image_error", "size_change", "visible"})


def counts_as_person(is_page: bool, event_name: str | None) -> bool:
    """Whether a client message is a sign of a person using the app (the idle time starts again).
    `event_name` None: a property update, such as a field's value as it is typed."""
    if is_page:
        return event_name in PERSON_PAGE_EVENTS
    return event_name not in NOT_A_PERSON


def keypad_key(key: str | None) -> str | None:
    """A physical keyboard's key on the lock screen (a laptop in web mode): a digit
    (the number row or the numpad), "back" (Backspace), "ok" (Enter), else None."""
    key = key or ""
    if key.startswith("Numpad "):
        key = key[len("Numpad "):]
    if len(key) == 1 and key.isdigit():
        return key
    return {"Backspace": "back", "Enter": "ok"}.get(key)


# ---------------------------------------------------------------------------
# Words
# ---------------------------------------------------------------------------


def wait_text(seconds: float) -> str:
    """A countdown as m:ss ("0:30", "8:00")."""
    whole = int(seconds + 0.999)
    return f"{whole // 60}:{whole % 60:02d}"


def attempt_text(attempt: Attempt, *, lang: str | None = None) -> str:
    """What a wrong try says: wrong, how many tries are left, and from the
    waits on, what happens when they run out."""
    if attempt.refused:
        return t("lock.waiting", lang=lang)
    if attempt.failures >= FREE_ATTEMPTS:
        return t("lock.wrong_last" if attempt.left == 1 else "lock.wrong_warn", lang=lang, left=attempt.left)
    return t("lock.wrong", lang=lang, left=attempt.left)


# ---------------------------------------------------------------------------
# The lock screen
# ---------------------------------------------------------------------------


class Cover(StrEnum):
    """What a render shows instead of (or as) the app."""

    OUT = "out"  # not signed in: the enrol screen (or a preview's forced role), nothing to lock
    RELEASED = "released"  # the lock lets go (signed out elsewhere, the PIN removed elsewhere): the app
    APP = "app"  # the app itself (signed in, not locked)
    LOCK = "lock"  # the lock screen
    SETUP = "setup"  # a required PIN to set before anything else
    FINISH_SIGN_OUT = "finish_sign_out"  # the 10th wrong PIN (maybe before a kill): the lock screen, signing out


class Submit(StrEnum):
    """What OK on the keypad does."""

    IGNORED = "ignored"  # busy, or not locked
    TOO_SHORT = "too_short"  # the note says so
    UNLOCK = "unlock"  # no PIN any more: nothing to check
    CHECK = "check"  # check `LockFlow.checking` off the session's loop, then `checked()`


@dataclass(frozen=True)
class Note:
    """The line under the PIN: a status style (theme.STATUSES) and its words."""

    style: str
    text: str


@dataclass(frozen=True)
class LockFace:
    """The lock screen's live parts."""

    dots: str  # "••••", or "—" when nothing is typed
    dots_label: str  # what a screen reader says instead of the dots
    typed: bool  # something is typed (the dots in full colour)
    note: Note | None  # the message under the PIN (None: keep it hidden)
    waiting: float  # seconds before the next try is accepted
    wait: str  # "Thử lại sau 0:30"
    keys_disabled: bool
    signing_out: bool  # the progress line shows, the "forgot" link hides
    forgot_disabled: bool


class LockFlow:
    """One session's lock state: covered or not, the digits typed, the note, a
    PIN being checked, a sign-out under way. The PIN itself and its wrong
    tries belong to the device (`pin`, in the store)."""

    def __init__(self, pin: AppLock, enrolling: bool) -> None:
        self.pin = pin
        self.locked = False
        self.digits = ""
        self.note: Note | None = None
        self.busy = False  # a PIN being checked, or the sign-out running
        self.signing_out = False
        self.enrolling = enrolling  # the enrol screen shows: a PIN may be due once it is done
        self.offer_due = False  # a volunteer just enrolled: offer a PIN (the view shows the offer once)
        self.checking = ""  # the digits sent to be checked (the keypad is cleared meanwhile)

    def active(self, signed_in: bool) -> bool:
        """A PIN protects this device (so it may lock)."""
        return signed_in and self.pin.has_pin

    # -- what covers the app ---------------------------------------------------------

    def cover(self, *, signed_in: bool, needs_enrolment: bool, covered: bool) -> Cover:
        """Asked at each render (`covered`: the lock's own view shows). Moves the state
        along: a sign-out elsewhere ends any lock here; a new enrolment may demand a PIN
        (or offer one: `offer_due`); the 10th wrong PIN locks and keeps every key off
        until the sign-out is done."""
        if not signed_in:
            # the enrol screen (or a preview's forced role): nothing to lock; a
            # sign-out elsewhere (another tab, a revocation) ends any lock here
            self.enrolling = needs_enrolment
            return Cover.RELEASED if covered or self.locked else Cover.OUT
        if self.enrolling:
            self.enrolling = False
            self.offer_due = self._just_enrolled()
        if self.pin.wipe_due:
            self.locked = True
            self.busy = True  # no key works meanwhile
            return Cover.FINISH_SIGN_OUT
        if self.locked:
            if not self.pin.has_pin:  # removed in another session by someone who knew it
                return Cover.RELEASED
            return Cover.LOCK
        if self.pin.required and not self.pin.has_pin:
            return Cover.SETUP
        return Cover.APP

    def _just_enrolled(self) -> bool:
        """Enrolled in this session: leaders, officers and admins must set a PIN
        before anything else (`require`: the cover is SETUP); a volunteer is asked
        and may say later (True: offer it)."""
        if self.pin.has_pin:
            return False
        if self.pin.role_requires_pin:
            self.pin.require()
            return False
        return True

    def lock(self) -> None:
        self.locked = True
        self.digits = ""
        self.note = None

    def release(self) -> None:
        """Unlocked, or nothing left to lock."""
        self.locked = False
        self.digits = ""
        self.note = None
        self.busy = False

    # -- the keypad ----------------------------------------------------------------------

    def press(self, digit: str) -> bool:
        """A digit key; False when it does nothing (busy, or the PIN is as long as a PIN gets)."""
        if self.busy or len(self.digits) >= PIN_MAX:
            return False
        self.digits += digit
        return True

    def backspace(self) -> bool:
        if self.busy:
            return False
        self.digits = self.digits[:-1]
        return True

    def submit(self, lang: str | None) -> Submit:
        if self.busy or not self.locked:
            return Submit.IGNORED
        if len(self.digits) < PIN_MIN:
            self.note = Note("problem", t("lock.too_short", lang=lang, min=PIN_MIN, max=PIN_MAX))
            return Submit.TOO_SHORT
        if not self.pin.has_pin:
            return Submit.UNLOCK
        self.checking, self.digits = self.digits, ""
        self.busy = True
        return Submit.CHECK

    def check(self) -> Attempt:
        """Check the digits OK sent (blocking: ~0.1-0.5 s of scrypt). PinError when the
        PIN went away meanwhile (another tab removed it, a sign-out)."""
        try:
            return self.pin.check(self.checking)
        finally:
            self.checking = ""

    def pin_gone(self) -> None:
        self.busy = False

    def checked(self, attempt: Attempt, lang: str | None) -> None:
        """The answer to a check: right (unlock), the last wrong one (`attempt.wipe`: sign
        out), or wrong (the note says how many tries are left; a wait may start)."""
        self.busy = False
        if not attempt.ok and not attempt.wipe:
            self.note = Note("problem", attempt_text(attempt, lang=lang))

    def face(self, lang: str | None) -> LockFace:
        """The lock screen's live parts from the state."""
        n = len(self.digits)
        pin = self.pin
        # no countdown while signing out: there is nothing left to wait for
        waiting = pin.wait_remaining() if pin.has_pin and not self.signing_out and not pin.wipe_due else 0.0
        note = self.note
        if note is None and waiting > 0:  # a new session (a restart) during a wait: say why
            failures = pin.failures
            note = Note("problem", attempt_text(Attempt(False, failures, attempts_left(failures), waiting),
                                                lang=lang))
        return LockFace(
            dots="•" * n if n else "—",
            dots_label=t("lock.typed", lang=lang, count=n),
            typed=bool(n),
            note=note,
            waiting=waiting,
            wait=t("lock.wait", lang=lang, time=wait_text(waiting)),
            keys_disabled=self.busy or waiting > 0 or self.signing_out,
            signing_out=self.signing_out,
            forgot_disabled=self.busy or self.signing_out,
        )

    def counting_down(self) -> bool:
        """A wait runs that the screen should count down."""
        return self.pin.wait_remaining() > 0 and not self.signing_out and not self.pin.wipe_due

    # -- signing out: a forgotten PIN, or the last wrong one -------------------------------

    def may_ask_forgot(self) -> bool:
        return not (self.busy or self.signing_out)

    def start_sign_out(self, why: str) -> bool | None:
        """why="limit" (the last wrong PIN): purge even if sending fails — the person holding
        the phone is presumed not its volunteer. why="forgot": if events could not be sent,
        say how many and ask again; why="discard": the answer to that, yes.
        Returns `force` for the sign-out, or None when one is already under way."""
        if self.signing_out:
            return None
        self.locked = True
        self.signing_out = True
        self.busy = True
        self.note = None  # the progress line says what happens now
        return why != "forgot"

    def sign_out_refused(self, exc: Exception, lang: str | None) -> str:
        """The sign-out could not send (and, not forced, did not purge): the note says why.
        Returns the reason, for the question that offers to drop the unsent events."""
        self.signing_out = False
        self.busy = False
        reason = error_text(exc, lang=lang)
        self.note = Note("problem", reason)
        return reason

    def sign_out_failed(self, lang: str | None) -> None:
        self.signing_out = False
        self.busy = False
        self.note = Note("problem", t("lock.sign_out_failed", lang=lang))

    def signed_out(self, why: str, lang: str | None) -> str:
        """Done: the PIN goes with the enrolment. Returns what the snack bar says."""
        self.pin.forget()
        self.signing_out = False
        self.release()
        if why == "limit":
            return t("lock.wiped", lang=lang, attempts=MAX_ATTEMPTS)
        return t("settings.signed_out", lang=lang)


# ---------------------------------------------------------------------------
# Setting, changing and removing the PIN (Settings)
# ---------------------------------------------------------------------------


def pin_mode(requested: str | None, *, has_pin: bool, role_requires_pin: bool) -> str:
    """The task a /settings/pin/<mode> route opens: "set" when there is no PIN,
    "change" instead of a second "set", never "remove" for a role that needs one."""
    mode = requested if requested in MODES else "set"
    if mode == "set" and has_pin:
        mode = "change"
    elif mode != "set" and not has_pin:
        mode = "set"
    if mode == "remove" and role_requires_pin:
        mode = "change"
    return mode


@dataclass(frozen=True)
class PinOutcome:
    """What saving a PIN task did."""

    ok: bool
    wipe: bool = False  # a wrong current PIN was the last try: sign out now
    field: str | None = None  # "current", "new" or "again": the field the error is about (None: under the form)
    error: str | None = None  # what to say (None when ok)


class PinTask:
    """One PIN task: "set" (new, twice), "change" (current, then new twice),
    "remove" (current). A wrong current PIN counts as a wrong try on the lock
    screen: otherwise an unlocked app would let anyone guess the PIN here
    without limit, then open the app at will."""

    def __init__(self, pin: AppLock, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown PIN task {mode!r}")
        self.pin = pin
        self.mode = mode

    @property
    def fields(self) -> tuple[str, ...]:
        """The fields the task asks for, in order."""
        return {"set": ("new", "again"), "change": ("current", "new", "again"), "remove": ("current",)}[self.mode]

    @staticmethod
    def field_for(code: str) -> str | None:
        """The field a refusal (`PinError.code`) is about; None: the form as a whole."""
        if code == "mismatch":
            return "again"
        if code in ("not_digits", "too_short", "too_long", "too_simple"):
            return "new"
        return None

    def save(self, current: str, new: str, again: str, *, lang: str | None = None) -> PinOutcome:
        """Do the task (blocking: scrypt). Empty strings for the fields the task has not."""
        save: Callable[[], Attempt | None] = {
            "set": lambda: self.pin.set_pin(new, again),
            "change": lambda: self.pin.change_pin(current, new, again),
            "remove": lambda: self.pin.remove_pin(current),
        }[self.mode]
        try:
            attempt = save()
        except PinError as exc:
            return PinOutcome(False, field=self.field_for(exc.code),
                              error=t(f"lock.pin_error.{exc.code}", lang=lang, min=PIN_MIN, max=PIN_MAX))
        if attempt is None or attempt.ok:
            return PinOutcome(True)
        if attempt.wipe:
            return PinOutcome(False, wipe=True, field="current")
        error = attempt_text(attempt, lang=lang)
        if attempt.wait > 0:
            error += " " + t("lock.wait", lang=lang, time=wait_text(attempt.wait))
        return PinOutcome(False, field="current", error=error)
