"""The domain's closed vocabularies: wire codes and their labels.

Codes on the wire are the English snake_case names of DESIGN.md and never
change; labels are for people, Vietnamese first. The app's own strings live in
assets/i18n; these live here because the server (exports) needs them too.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Vocabulary:
    name: str
    labels: dict[str, tuple[str, str]]  # code -> (vi, en)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(self.labels)

    def __contains__(self, code: object) -> bool:
        return code in self.labels

    def label(self, code: str, lang: str = "vi") -> str:
        vi, en = self.labels[code]
        return en if lang == "en" else vi


CONSENT = Vocabulary("consent", {
    "unknown": ("Chưa hỏi", "Not asked"),
    "given": ("Đồng ý", "Given"),
    "declined": ("Từ chối", "Declined"),
})

PRESENCE = Vocabulary("presence", {
    "home": ("Ở nhà", "At home"),
    "away_work_study": ("Đi làm, đi học xa", "Away for work or study"),
    "abroad": ("Ở nước ngoài", "Abroad"),
    "moved": ("Đã chuyển đi", "Moved away"),
    "deceased": ("Đã mất", "Deceased"),
})

CARD = Vocabulary("card", {
    "unknown": ("Chưa rõ", "Unknown"),
    "none": ("Chưa có thẻ", "No card"),
    "cmnd_only": ("Chỉ có CMND 9 số", "Old 9-digit CMND only"),
    "cccd_barcode": ("CCCD mã vạch", "Barcode CCCD"),
    "cccd_chip": ("CCCD gắn chip", "Chip CCCD"),
    "can_cuoc": ("Thẻ căn cước", "Căn cước card"),
    "applied_waiting": ("Đã làm, chờ nhận", "Applied, waiting"),
})

VNEID = Vocabulary("vneid", {
    "unknown": ("Chưa rõ", "Unknown"),
    "not_eligible": ("Chưa đủ điều kiện", "Not eligible"),
    "no_app": ("Chưa cài VNeID", "No VNeID app"),
    "l1_pending": ("Mức 1: chờ duyệt", "Level 1: pending"),
    "l1_approved": ("Mức 1: đã duyệt, chưa kích hoạt", "Level 1: approved, not activated"),
    "l1_active": ("Mức 1: đã kích hoạt", "Level 1: active"),
    "l2_pending": ("Mức 2: chờ duyệt", "Level 2: pending"),
    "l2_approved": ("Mức 2: đã duyệt, chưa kích hoạt", "Level 2: approved, not activated"),
    "l2_active": ("Mức 2: đã kích hoạt", "Level 2: active"),
})

BLOCKERS = Vocabulary("blockers", {
    "no_smartphone": ("Không có điện thoại thông minh", "No smartphone"),
    "sim_not_own": ("SIM không chính chủ", "SIM not in own name"),
    "number_taken": ("Số đã dùng cho tài khoản khác", "Number used by another account"),
    "no_otp": ("Không nhận được OTP", "No OTP"),
    "old_device": ("Máy cũ", "Old device"),
    "forgot_password": ("Quên mật khẩu", "Forgot password"),
    "no_nfc": ("Máy không có NFC", "No NFC"),
    "cannot_travel": ("Không đi lại được", "Cannot travel"),
    "data_mismatch": ("Sai lệch dữ liệu", "Data mismatch"),
    "refused": ("Không muốn làm", "Refused"),
    "otp_old_number": ("Mã OTP gửi về số cũ", "Code goes to an old number"),
    "face_match_failed": ("Không xác thực được khuôn mặt", "Face match fails"),
    "card_unreadable": ("Thẻ không đọc được chip, mã QR", "Card chip or QR unreadable"),
    "os_too_old": ("Hệ điều hành quá cũ", "Phone system too old"),
})

OUTCOME = Vocabulary("outcome", {
    "met": ("Đã gặp", "Met"),
    "not_home": ("Không có nhà", "Nobody home"),
    "refused": ("Từ chối", "Refused"),
    "moved": ("Đã chuyển đi", "Moved"),
})

# When to come back to a household found nobody home (visit.recorded's `come_back`), in the
# order a day's come-backs are walked; `any` last.
COME_BACK = Vocabulary("come_back", {
    "morning": ("Sáng", "Morning"),
    "midday": ("Trưa", "Midday"),
    "evening": ("Tối", "Evening"),
    "weekend": ("Cuối tuần", "Weekend"),
    "any": ("Bất kỳ lúc nào", "Any time"),
})

ACTIONS = Vocabulary("actions", {
    "explained": ("Đã hướng dẫn", "Explained"),
    "installed_app": ("Cài ứng dụng VNeID", "Installed the app"),
    "l1_help": ("Hỗ trợ đăng ký mức 1", "Level-1 help"),
    "activation_help": ("Hỗ trợ kích hoạt", "Activation help"),
    "password_reset": ("Đặt lại mật khẩu", "Password reset"),
    "referred_l2": ("Hướng dẫn đăng ký mức 2", "Referred for level 2"),
    "booked_home_capture": ("Hẹn thu nhận tại nhà", "Booked a home capture visit"),
    "referred_phone_change": ("Hướng dẫn đổi số điện thoại", "Referred for a phone change"),
    "reissue_request": ("Hỗ trợ đổi thẻ theo địa chỉ mới", "Card re-issue for the new address"),
    "wallet_health_insurance": ("Thêm thẻ BHYT vào ví VNeID", "Health-insurance card added to the wallet"),
    "wallet_driving_licence": ("Thêm giấy phép lái xe vào ví VNeID", "Driving licence added to the wallet"),
    "child_registration": ("Đăng ký cho trẻ dưới 14 tuổi", "Registered a child under 14"),
})

DECISION = Vocabulary("decision", {
    "approved": ("Đã duyệt", "Approved"),
    "returned": ("Trả lại", "Returned"),
})

HAMLET_KIND = Vocabulary("hamlet_kind", {
    "thon": ("Thôn", "Village"),
    "to_dan_pho": ("Tổ dân phố", "Residential group"),
    "ap": ("Ấp", "Hamlet (ấp)"),
    "ban": ("Bản", "Village (bản)"),
    "other": ("Khác", "Other"),
})

SESSION_KIND = Vocabulary("session_kind", {
    "mobile_capture": ("Thu nhận lưu động", "Mobile capture"),  # at a hall, on a date
    "home_capture": ("Thu nhận tại nhà", "Home capture"),  # a round of people's homes
})

BOOKING_STATUS = Vocabulary("booking_status", {
    "booked": ("Đã hẹn", "Booked"),
    "attended": ("Đã đến", "Attended"),
    "no_show": ("Không đến", "No-show"),
    "cancelled": ("Đã huỷ", "Cancelled"),
})

ROLES = Vocabulary("role", {
    "volunteer": ("Tình nguyện viên", "Volunteer"),
    "leader": ("Tổ trưởng", "Team leader"),
    "officer": ("Công an cấp xã", "Commune police"),  # the app says "Công an phường" … by the commune's kind
    "admin": ("Quản trị", "Admin"),
})

# The report's words (the exports' headers), as the app's dashboard says them (docs/glossary.md).
TERMS = Vocabulary("term", {
    "households": ("Số hộ", "Households"),
    "visited": ("Hộ đã thăm", "Households visited"),
    "revisit": ("Hộ cần quay lại", "Households to revisit"),
    "people": ("Số người", "People"),
    "visits": ("Lượt thăm", "Visits"),
    "helped": ("Người được hỗ trợ", "People helped"),
    "hamlet": ("Thôn/Tổ dân phố", "Hamlet"),
    "total": ("Tổng cộng", "Total"),
})

ALL = {v.name: v for v in (CONSENT, PRESENCE, CARD, VNEID, BLOCKERS, OUTCOME, COME_BACK, ACTIONS,
                           DECISION, HAMLET_KIND, SESSION_KIND, BOOKING_STATUS, ROLES, TERMS)}

# Domain rules that the validators and totals share.
CARD_COMPULSORY_AGE = 14
VNEID_L2_MIN_AGE = 6
CHIP_CARDS = frozenset({"cccd_chip", "can_cuoc"})
ACTIVE_VNEID = frozenset({"l1_active", "l2_active"})
LIVING_HERE = frozenset({"home", "away_work_study", "abroad"})
