import unicodedata

import pytest

from campaign import areas


def test_counts():
    assert len(areas.provinces()) == 34
    assert len(areas.communes()) == 3321
    types = [c.type for c in areas.communes().values()]
    assert (types.count("xa"), types.count("phuong"), types.count("dac_khu")) == (2621, 687, 13)


def test_codes_are_unique_five_digit_strings():
    codes = [c.code for c in areas.communes().values()]
    assert len(set(codes)) == len(codes)
    assert all(isinstance(c, str) and len(c) == 5 and c.isdigit() for c in codes)
    assert codes == sorted(codes)
    assert all(k == v.code for k, v in areas.communes().items())
    assert all(len(p) == 2 and p.isdigit() for p in areas.provinces())


def test_demo_communes():
    hd = areas.commune("10525")
    assert (hd.name, hd.type, hd.full_name) == ("Hải Dương", "phuong", "Phường Hải Dương")
    th = areas.commune("10813")
    assert (th.name, th.type, th.full_name) == ("Thanh Hà", "xa", "Xã Thanh Hà")
    for c in (hd, th):
        assert c.province_code == "31"
        assert c.province == "Thành phố Hải Phòng"
    assert areas.provinces()["31"].type == "thanh_pho"
    assert areas.commune("06994").full_name == "Đặc khu Vân Đồn"


def test_source_type_corrections():
    # The source's type column was wrong for these; see campaign/data/SOURCE.md.
    assert areas.commune("10543").full_name == "Phường Việt Hòa"
    assert areas.commune("11848").full_name == "Xã Vĩnh Hòa"
    assert areas.commune("31213").full_name == "Phường Tân Lộc"
    assert areas.commune("31299").full_name == "Xã Phong Điền"


def test_every_commune_province_exists():
    provinces = areas.provinces()
    for c in areas.communes().values():
        assert provinces[c.province_code].name == c.province
    assert sum(len(areas.communes_of(p)) for p in provinces) == 3321
    assert all(areas.communes_of(p) for p in provinces)


def test_communes_of():
    hp = areas.communes_of("31")
    assert len(hp) == 114  # 45 phường, 67 xã, 2 đặc khu per 1669/NQ-UBTVQH15
    assert all(c.province_code == "31" for c in hp)
    hp.clear()  # a copy: must not damage the cache
    assert len(areas.communes_of("31")) == 114
    with pytest.raises(KeyError, match="'99'"):
        areas.communes_of("99")


def test_all_text_is_nfc():
    texts = [t for c in areas.communes().values() for t in (c.name, c.province, c.full_name)]
    texts += [p.name for p in areas.provinces().values()]
    assert all(unicodedata.normalize("NFC", t) == t for t in texts)
    assert all(t == t.strip() and t for t in texts)


def test_unknown_code_raises_key_error():
    for bad in ("99999", "10525 ", "1052", ""):
        with pytest.raises(KeyError, match="unknown commune code"):
            areas.commune(bad)


def test_is_commune_code():
    assert areas.is_commune_code("10525")
    assert areas.is_commune_code("00004")
    for bad in ("99999", "4", 10525, None, b"10525", ["10525"]):
        assert not areas.is_commune_code(bad)


def test_type_values():
    assert {c.type for c in areas.communes().values()} <= {"xa", "phuong", "dac_khu"}
    assert {p.type for p in areas.provinces().values()} == {"tinh", "thanh_pho"}
    for p in areas.provinces().values():
        assert p.name.startswith("Thành phố " if p.type == "thanh_pho" else "Tỉnh ")


def test_frozen():
    with pytest.raises(AttributeError):
        areas.commune("10525").name = "x"  # type: ignore[misc]
