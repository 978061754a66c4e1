"""Names for the synthetic population: people, streets, hamlets, notes, review comments.

Invented data, shaped like the Red River delta (Hải Dương, now part of Thành
phố Hải Phòng): common family names in their rough shares, generation-typical
middle and given names, a ward's streets and a rural commune's villages. The
demo and both benchmarks draw from these tables (devtools/population.py). Every
string is NFC (normalised at import, to be sure).
"""
from __future__ import annotations

import unicodedata


def _nfc(items: list[str]) -> tuple[str, ...]:
    return tuple(unicodedata.normalize("NFC", s) for s in items)


def _nfc_weights(weights: dict[str, float]) -> dict[str, float]:
    return {unicodedata.normalize("NFC", k): v for k, v in weights.items()}


# Family name -> weight (per cent of the population, roughly; northern spellings:
# Hoàng rather than Huỳnh, Vũ rather than Võ, but both occur).
FAMILY_NAMES: dict[str, float] = _nfc_weights({
    "Nguyễn": 36.0, "Trần": 10.5, "Lê": 8.5, "Phạm": 7.5, "Hoàng": 4.5, "Huỳnh": 0.4,
    "Phan": 3.0, "Vũ": 4.5, "Võ": 0.4, "Đặng": 2.2, "Bùi": 2.6, "Đỗ": 2.0, "Hồ": 0.9,
    "Ngô": 1.4, "Dương": 1.1, "Lý": 0.5, "Đinh": 1.2, "Mạc": 0.8, "Đoàn": 1.0, "Trịnh": 0.9,
    "Lương": 0.7, "Cao": 0.6, "Tạ": 0.5, "Nghiêm": 0.3, "Phùng": 0.5, "Hà": 0.6, "Lưu": 0.5,
    "Tô": 0.4, "Vương": 0.3, "Trương": 0.6, "Đào": 0.9, "Nhữ": 0.2, "Khúc": 0.2, "Quách": 0.2,
})

# Middle names by sex and generation (born before 1975 / 1975–1999 / 2000 on).
MIDDLE_MALE = {
    "old": _nfc(["Văn", "Văn", "Văn", "Văn", "Đức", "Hữu", "Công", "Xuân", "Quang", "Đình", "Ngọc", "Bá"]),
    "mid": _nfc(["Văn", "Văn", "Đức", "Minh", "Quang", "Hữu", "Công", "Thành", "Tiến", "Xuân", "Duy", "Mạnh", "Ngọc"]),
    "young": _nfc(["Minh", "Đức", "Gia", "Quang", "Văn", "Hoàng", "Tuấn", "Bảo", "Anh", "Duy", "Đăng", "Khánh", "Trung"]),
}
MIDDLE_FEMALE = {
    "old": _nfc(["Thị", "Thị", "Thị", "Thị", "Thị", "Ngọc", "Thu", "Kim"]),
    "mid": _nfc(["Thị", "Thị", "Thị", "Thu", "Thanh", "Ngọc", "Minh", "Hồng", "Phương", "Kim"]),
    "young": _nfc(["Ngọc", "Thu", "Minh", "Phương", "Khánh", "Bảo", "Thảo", "Gia", "Thị", "Hà", "Quỳnh", "Diệu"]),
}
GIVEN_MALE = {
    "old": _nfc(["Tý", "Sửu", "Lộc", "Phúc", "Thịnh", "Bình", "Hòa", "Chiến", "Thắng", "Khoát", "Cừ", "Lợi",
                 "Toản", "Nhượng", "Đông", "Quý", "Tuyên", "Hưng", "Thanh", "Vượng", "Kỳ", "Bảng", "Sáu"]),
    "mid": _nfc(["Hùng", "Dũng", "Tuấn", "Hải", "Nam", "Long", "Thắng", "Cường", "Sơn", "Hoàng", "Trung",
                 "Hiếu", "Toàn", "Huy", "Thành", "Tùng", "Kiên", "Việt", "Hưng", "Phong", "Quyết", "Tâm", "Vinh"]),
    "young": _nfc(["Minh", "Khoa", "Huy", "Bảo", "An", "Đạt", "Phúc", "Khang", "Nam", "Quân", "Hiếu", "Long",
                   "Duy", "Lâm", "Khôi", "Nguyên", "Hải", "Đăng", "Tú", "Thịnh", "Việt", "Sơn", "Kiên"]),
}
GIVEN_FEMALE = {
    "old": _nfc(["Tẹo", "Nụ", "Bưởi", "Hồng", "Lý", "Mơ", "Gái", "Xuân", "Thơm", "Tâm", "Hảo", "Lựu", "Nhài",
                 "Đào", "Huệ", "Cúc", "Tuyết", "Sen", "Ngần", "Thìn", "Bé"]),
    "mid": _nfc(["Lan", "Hương", "Hoa", "Mai", "Hằng", "Thảo", "Trang", "Nga", "Phương", "Thủy", "Yến",
                 "Huyền", "Dung", "Loan", "Hạnh", "Nhung", "Vân", "Oanh", "Hiền", "Liên", "Thu", "Hà"]),
    "young": _nfc(["Linh", "Ngọc", "Anh", "Vy", "Nhi", "Ngân", "Thư", "My", "Trâm", "Quỳnh", "Diệp", "Chi",
                   "Hân", "Trang", "Thảo", "Uyên", "Hà", "Mai", "Phương", "Khánh", "An", "Yến", "Nhung"]),
}

# Phường Hải Dương: the old city centre's streets. A hamlet (tổ dân phố) spans a
# few of them and their lanes (ngõ).
WARD_STREETS = _nfc([
    "Trần Hưng Đạo", "Quang Trung", "Nguyễn Du", "Hồng Quang", "Bạch Đằng", "Phạm Ngũ Lão",
    "Nguyễn Thị Duệ", "Trần Phú", "Lê Thanh Nghị", "Nguyễn Lương Bằng", "Chi Lăng", "Tuy An",
    "Xuân Đài", "Đỗ Ngọc Du", "Lý Thường Kiệt", "Hoàng Văn Thụ", "Điện Biên Phủ", "Nguyễn Trãi",
    "Đội Cấn", "Tam Giang", "Phan Bội Châu", "Hai Bà Trưng", "Lê Lợi", "Thống Nhất", "Mạc Thị Bưởi",
    "Nguyễn Văn Tố", "Bùi Thị Xuân", "Ngô Quyền", "Cao Bá Quát", "Tuệ Tĩnh", "Lê Quý Đôn",
    "Phạm Hồng Thái", "Đinh Văn Tả", "Ngô Gia Tự", "Bình Lộc", "Yết Kiêu", "Hào Thành", "Nguyễn Hới",
    "Lê Hồng Phong", "Phạm Sư Mạnh", "Vũ Hựu", "Đoàn Kết", "Minh Khai", "Hưng Đạo",
])

# Named residential areas of the ward, after its numbered tổ dân phố.
WARD_KHU = _nfc(["Khu Bình Minh", "Khu Hào Thành", "Khu Tuệ Tĩnh", "Khu Văn Miếu", "Khu Phú Lương"])

# Xã Thanh Hà: villages of the lychee country (thôn), each with a few xóm.
COMMUNE_THON = _nfc([
    "Đông", "Đoài", "Thúy Lâm", "Văn Tảo", "Hạ Vĩnh", "An Lại", "Phú Lương", "Thanh Xá", "Lại Xá",
    "Hà Tây", "Phượng Hoàng", "Kim Xuyên", "Tiền Tiến", "Hưng Thịnh", "Đông Phan", "Bá Nha",
    "Vạn Tuế", "Cẩm Khê", "Đồng Ngọ", "Thượng Đạt", "Tào Khê", "Mỹ Xá", "Lâm Xá", "Nhân Lư",
    "Xuân An", "Văn Khê", "Hòa Bình",
])

# Short notes a volunteer might type (most visits have none). No personal details.
NOTES_MET = _nfc([
    "Đã hướng dẫn cả nhà cách đăng nhập VNeID.",
    "Ông bà lớn tuổi, cần hỗ trợ thu nhận tại nhà.",
    "Con trai đi làm ở Bắc Ninh, cuối tuần mới về.",
    "Cháu đi học ở Hà Nội, gia đình sẽ nhắn cháu tự kích hoạt.",
    "Đã cài VNeID, chờ duyệt mức 1.",
    "Hẹn chủ nhật quay lại kích hoạt cho bà.",
    "Điện thoại cũ, không cài được ứng dụng, đã hướng dẫn đổi máy.",
    "SIM đứng tên con dâu, cần ra nhà mạng chuẩn hóa thông tin.",
    "Gia đình đã tự làm xong, chỉ kiểm tra lại.",
    "Đã nhắc không cung cấp mã OTP cho người lạ, cảnh giác cuộc gọi giả danh công an.",
    "Hướng dẫn ra công an xã đăng ký mức 2 vào sáng thứ Bảy.",
])
NOTES_NOT_HOME = _nfc([
    "Cửa khóa, hàng xóm nói cả nhà đi làm đến tối.",
    "Không có ai ở nhà, hẹn quay lại buổi tối.",
    "Nhà đi ăn cỗ, hẹn hôm khác.",
    "Gọi cửa không ai trả lời.",
])
NOTES_REFUSED = _nfc([
    "Gia đình không muốn tiếp, đã để lại tờ hướng dẫn.",
    "Chủ hộ bận, từ chối làm việc.",
])
NOTES_MOVED = _nfc([
    "Cả nhà đã chuyển vào Thành phố Hồ Chí Minh làm ăn.",
    "Nhà đã bán, gia đình chuyển đi nơi khác.",
    "Hàng xóm cho biết gia đình đã chuyển đi từ đầu năm.",
])

# What a team leader writes when returning a visit to the volunteer.
RETURN_COMMENTS = _nfc([
    "Kiểm tra lại năm sinh của các cháu trong hộ.",
    "Ghi rõ lý do chưa kích hoạt được tài khoản.",
    "Đã hẹn thu nhận tại nhà chưa? Bổ sung ngày hẹn vào ghi chú.",
    "Tình trạng thẻ của ông bà chưa khớp với danh sách công an xã, xác minh lại.",
    "Hộ này trong danh sách đã chuyển đi, đề nghị kiểm tra lại.",
    "Thiếu thông tin người đi làm xa, đề nghị bổ sung.",
])
APPROVE_COMMENTS = _nfc(["", "", "", "", "", "", "Tốt.", "Đã kiểm tra.", "Ok, cảm ơn em."])
