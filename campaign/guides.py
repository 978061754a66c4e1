"""A next step for every blocker: a short guide the volunteer reads out at the door.

Pure data (stdlib only), shipped with the app so it shows offline. Each guide is
3-6 plain steps in Vietnamese and in English: where to go, what to bring, which
hotline. docs/rules.md section 7 gives the source of every step.

`RESOLVED_BY` names the help (visit actions) that works on each blocker: the
follow-up lists and the dashboard use it to show which blockers are being
resolved, and by which help.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from . import vocabulary as v
from .projection import is_merged, is_voided

HOTLINE = "1900 0368"  # the ministry's hotline for population data, ID cards and e-ID (S18)


@dataclass(frozen=True)
class Guide:
    blocker: str
    vi: tuple[str, ...]
    en: tuple[str, ...]

    def steps(self, lang: str = "vi") -> tuple[str, ...]:
        return self.en if lang == "en" else self.vi


_POLICE_L2_VI = "Nếu vẫn không được: mang thẻ căn cước gắn chip đến công an xã, phường để đăng ký định danh mức 2."
_POLICE_L2_EN = "If it still fails: take the chip card to the commune police to register level 2 there."

GUIDES: dict[str, Guide] = {g.blocker: g for g in (
    Guide("no_smartphone", (
        "Không cần điện thoại thông minh để đăng ký mức 2: mang thẻ căn cước gắn chip đến công an xã, phường.",
        "Mang theo một số điện thoại đứng tên mình (máy thường vẫn nhận được tin nhắn mã).",
        "Kích hoạt tài khoản trên máy tính tại vneid.gov.vn, hoặc nhờ cán bộ công an hướng dẫn.",
        "Nếu không đi lại được: báo tổ để hẹn thu nhận tại nhà.",
    ), (
        "Level 2 needs no smartphone: take the chip card to the commune police.",
        "Bring a phone number in your own name (a basic phone still receives the code).",
        "Activate the account on a computer at vneid.gov.vn, or ask the police officer to help.",
        "If you cannot travel: tell the team to book a home capture visit.",
    )),
    Guide("sim_not_own", (
        "Kiểm tra SIM đứng tên ai: nhắn TTTB gửi 1414.",
        "Nếu SIM không đứng tên mình: mang thẻ căn cước đến cửa hàng của nhà mạng để chuẩn hoá thông tin thuê bao.",
        "Hoặc dùng một số khác đã đứng tên mình.",
        "Sau đó đăng ký lại VNeID với số đó, hoặc đăng ký mức 2 tại công an xã.",
    ), (
        "Check whose name the SIM is in: text TTTB to 1414.",
        "If it is not yours: take the card to the carrier's shop to put the subscription in your name.",
        "Or use another number already in your name.",
        "Then register VNeID again with that number, or register level 2 at the commune police.",
    )),
    Guide("number_taken", (
        "Số này đã dùng cho tài khoản của người khác (thường là người nhà).",
        "Người đó đổi sang số của chính họ trong VNeID (mục đổi số điện thoại).",
        "Hoặc dùng một số khác đứng tên mình để đăng ký.",
        f"Cần hỗ trợ: đến công an xã hoặc gọi {HOTLINE}.",
    ), (
        "This number is already used by someone else's account (often a relative).",
        "That person changes to their own number in VNeID (change phone number).",
        "Or register with another number in your own name.",
        f"For help: go to the commune police or call {HOTLINE}.",
    )),
    Guide("no_otp", (
        "Kiểm tra sóng điện thoại và hộp tin nhắn (xoá bớt nếu đầy).",
        "Đợi vài phút rồi bấm gửi lại mã; mã chỉ dùng được trong ít phút.",
        "Số điện thoại phải đứng tên mình (nhắn TTTB gửi 1414 để kiểm tra).",
        f"Vẫn không nhận được: gọi {HOTLINE} hoặc đến công an xã.",
    ), (
        "Check the signal and the message inbox (delete some if it is full).",
        "Wait a few minutes and ask for the code again; a code only works for a few minutes.",
        "The number must be in your own name (text TTTB to 1414 to check).",
        f"Still no code: call {HOTLINE} or go to the commune police.",
    )),
    Guide("old_device", (
        "Cập nhật VNeID lên bản mới nhất từ CH Play hoặc App Store.",
        "Tài khoản còn gắn với máy cũ: đăng nhập trên máy mới và làm theo hướng dẫn xác nhận.",
        f"Máy cũ không còn: gọi {HOTLINE} hoặc đến công an xã để được hỗ trợ.",
    ), (
        "Update VNeID to the latest version from Google Play or the App Store.",
        "Account still tied to an old phone: log in on the new phone and follow the confirmation steps.",
        f"Old phone gone: call {HOTLINE} or go to the commune police for help.",
    )),
    Guide("forgot_password", (
        "Ở màn hình đăng nhập VNeID, bấm \"Quên mật khẩu\".",
        "Nhập số căn cước và số điện thoại đã đăng ký, rồi họ tên, ngày sinh, ngày cấp thẻ.",
        "Nhập mã gửi về điện thoại, đặt mật khẩu mới (8–20 ký tự, có chữ hoa, chữ thường, số, ký tự đặc biệt).",
        f"Không còn số cũ: xem hướng dẫn \"mã gửi về số cũ\" (công an xã hoặc {HOTLINE}).",
    ), (
        "On the VNeID login screen, tap \"Forgot password\".",
        "Enter the card number and the registered phone number, then name, birth date and card issue date.",
        "Enter the code sent to the phone and set a new password (8-20 characters, upper and lower case, "
        "a digit, a symbol).",
        f"Number no longer held: see the \"code goes to an old number\" guide (commune police or {HOTLINE}).",
    )),
    Guide("no_nfc", (
        "Máy không có NFC thì không đọc được chip của thẻ.",
        "Nhờ người nhà có máy có NFC để quét chip (đăng nhập lại trên máy mình sau).",
        _POLICE_L2_VI,
    ), (
        "A phone without NFC cannot read the card's chip.",
        "Ask a relative with an NFC phone to scan the chip (then log in on your own phone).",
        _POLICE_L2_EN,
    )),
    Guide("cannot_travel", (
        "Người già, người ốm, người khuyết tật không cần đến công an.",
        "Báo tổ trưởng để hẹn thu nhận tại nhà (chọn \"Hẹn thu nhận tại nhà\").",
        "Chuẩn bị sẵn thẻ cũ hoặc giấy tờ tuỳ thân, và số điện thoại của người nhà.",
        "Công an xã đến nhà chụp ảnh, lấy vân tay theo lịch hẹn.",
    ), (
        "Old, sick or disabled people need not go to the police.",
        "Tell the team leader to book a home capture (choose \"Booked a home capture visit\").",
        "Have the old card or an ID paper ready, and a relative's phone number.",
        "The commune police come to take the photo and fingerprints at the booked time.",
    )),
    Guide("data_mismatch", (
        "Ghi lại thông tin sai (họ tên, ngày sinh, nơi cư trú…).",
        "Trong VNeID: Cài đặt → Phản ánh khó khăn, vướng mắc → Tạo phản ánh.",
        "Hoặc đến công an xã, phường nơi cư trú, mang giấy tờ chứng minh (giấy khai sinh, thẻ cũ).",
        "Sau khi dữ liệu được sửa, đăng ký lại.",
    ), (
        "Write down what is wrong (name, birth date, residence…).",
        "In VNeID: Settings → Report a difficulty → Create a report.",
        "Or go to the commune police where you live with papers that prove it (birth certificate, old card).",
        "Register again once the data is corrected.",
    )),
    Guide("refused", (
        "Đây là lựa chọn của người dân: không ép.",
        "Nói ngắn gọn lợi ích (khám bệnh, thủ tục hành chính không cần giấy tờ).",
        "Để lại số của tổ nếu họ đổi ý.",
    ), (
        "This is the person's choice: do not press.",
        "Say briefly what it is good for (clinics, paperwork without papers).",
        "Leave the team's number in case they change their mind.",
    )),
    Guide("otp_old_number", (
        "Mã gửi về số cũ không còn dùng: phải đổi số trong hệ thống.",
        f"Đến công an xã, phường mang thẻ căn cước, hoặc gọi {HOTLINE}.",
        "Số mới phải đứng tên mình (nhắn TTTB gửi 1414 để kiểm tra).",
        "Sau khi đổi số, đăng nhập hoặc kích hoạt lại VNeID.",
    ), (
        "The code goes to an old number no longer held: the number must be changed.",
        f"Go to the commune police with the card, or call {HOTLINE}.",
        "The new number must be in your own name (text TTTB to 1414 to check).",
        "Once changed, log in or activate VNeID again.",
    )),
    Guide("face_match_failed", (
        "Thử lại nơi đủ sáng, bỏ kính, khẩu trang, mũ; giữ máy ngang mặt.",
        "Cập nhật VNeID lên bản mới nhất.",
        "Vẫn không được: đến công an xã, phường đăng ký mức 2; cán bộ chụp ảnh, lấy vân tay tại chỗ.",
    ), (
        "Try again in good light, without glasses, mask or hat; hold the phone level with the face.",
        "Update VNeID to the latest version.",
        "Still failing: register level 2 at the commune police, who take the photo and fingerprints.",
    )),
    Guide("card_unreadable", (
        "Mã QR không quét được: lau thẻ, thử nơi sáng hơn, hoặc nhập thông tin bằng tay.",
        "Chip không đọc được: áp thẻ sát mặt sau máy và giữ yên; thử máy khác có NFC.",
        "Thẻ hỏng không dùng được: đến công an xã làm thủ tục cấp lại thẻ, mang thẻ cũ theo.",
    ), (
        "QR code will not scan: wipe the card, try in better light, or type the data in.",
        "Chip will not read: hold the card flat on the back of the phone and keep still; try another NFC phone.",
        "A card too damaged to use: ask the commune police for a re-issue, bringing the old card.",
    )),
    Guide("os_too_old", (
        "Máy quá cũ không cài được VNeID: trang ứng dụng trên CH Play hoặc App Store ghi phiên bản cần có.",
        "Thử cập nhật hệ điều hành của máy nếu máy cho phép.",
        "Không cần máy mới để đăng ký mức 2: đến công an xã, phường mang thẻ căn cước gắn chip.",
        "Có thể kích hoạt trên máy tính tại vneid.gov.vn.",
    ), (
        "Phone too old to install VNeID: the app's page on Google Play or the App Store says what it needs.",
        "Update the phone's system if it allows.",
        "Level 2 needs no new phone: go to the commune police with the chip card.",
        "The account can be activated on a computer at vneid.gov.vn.",
    )),
)}

#: blocker -> the help (visit actions) that works on it, in the order to try.
RESOLVED_BY: dict[str, tuple[str, ...]] = {
    "no_smartphone": ("referred_l2", "booked_home_capture"),
    "sim_not_own": ("referred_phone_change", "referred_l2"),
    "number_taken": ("referred_phone_change", "referred_l2"),
    "no_otp": ("activation_help", "referred_phone_change", "referred_l2"),
    "old_device": ("installed_app", "activation_help", "referred_l2"),
    "forgot_password": ("password_reset",),
    "no_nfc": ("l1_help", "referred_l2"),
    "cannot_travel": ("booked_home_capture",),
    "data_mismatch": ("explained", "referred_l2"),
    "refused": ("explained",),
    "otp_old_number": ("referred_phone_change", "referred_l2"),
    "face_match_failed": ("referred_l2", "booked_home_capture"),
    "card_unreadable": ("l1_help", "referred_l2"),
    "os_too_old": ("referred_l2", "activation_help"),
}

MIN_STEPS, MAX_STEPS = 3, 6


def guide(blocker: str) -> Guide:
    """The guide for a blocker code (KeyError for a code outside the vocabulary)."""
    if blocker not in v.BLOCKERS:
        raise KeyError(blocker)
    return GUIDES[blocker]


def steps(blocker: str, lang: str = "vi") -> tuple[str, ...]:
    return guide(blocker).steps(lang)


@dataclass
class BlockerProgress:
    """One blocker across a place: the people living here who still have it, and the help
    they were given so far (action -> people helped with it, in visits not taken back)."""

    open: int = 0
    helped: dict[str, int] = field(default_factory=dict)

    def wire(self) -> dict[str, Any]:
        """The most given help first (ties in vocabulary order)."""
        return {"open": self.open, "helped": dict(sorted(self.helped.items(),
                                                          key=lambda kv: (-kv[1], _help_order(kv[0]))))}


def help_given(visits: Iterable[dict[str, Any]]) -> dict[str, set[str]]:
    """person id -> the actions visits (not taken back) gave them."""
    out: dict[str, set[str]] = {}
    for visit in visits:
        if is_voided(visit):
            continue
        for person_id in visit.get("people_helped") or []:
            out.setdefault(person_id, set()).update(visit.get("actions") or [])
    return out


def progress(people: Iterable[tuple[str, dict[str, Any]]],
             helped: Mapping[str, Iterable[str]]) -> dict[str, BlockerProgress]:
    """Every blocker (in vocabulary order, zeros included): who still has it and the help
    they had. `people` are (id, data) pairs; moved and deceased people count nowhere."""
    out = {code: BlockerProgress() for code in v.BLOCKERS.codes}
    for person_id, data in people:
        if data.get("presence") not in v.LIVING_HERE or is_merged(data):
            continue
        given = set(helped.get(person_id, ()))
        for code in data.get("blockers") or []:
            if code not in out:
                continue
            entry = out[code]
            entry.open += 1
            for action in given:
                entry.helped[action] = entry.helped.get(action, 0) + 1
    return out


def _help_order(action: str) -> int:
    codes = v.ACTIONS.codes
    return codes.index(action) if action in codes else len(codes)


def merge(parts: Iterable[Mapping[str, BlockerProgress]]) -> dict[str, BlockerProgress]:
    """Several places' progress added up (a commune from its hamlets)."""
    out = {code: BlockerProgress() for code in v.BLOCKERS.codes}
    for part in parts:
        for code, entry in part.items():
            total = out.setdefault(code, BlockerProgress())
            total.open += entry.open
            for action, n in entry.helped.items():
                total.helped[action] = total.helped.get(action, 0) + n
    return out
