"""Regenerate communes.csv and provinces.csv from `vietnamadminunits` 1.0.4 (MIT).

Run by hand, once, from the repository root; it is never imported at run time and
the package must not become a project dependency, hence the throwaway venv:

    python3 -m venv /tmp/vau && /tmp/vau/bin/pip install vietnamadminunits==1.0.4
    /tmp/vau/bin/python -m devtools.make_communes

It reads the package's SQLite table `admin_units` (the 34-province structure in
force since 1 July 2025) and writes the two CSV files into campaign/data/.

Source quirk handled here: in 4 rows the package's `wardType` column contradicts
the unit's own full name (`ward`), e.g. "Phường Việt Hòa" typed "Xã". The
resolutions of the National Assembly Standing Committee (1669/NQ-UBTVQH15 for
Hải Phòng, 1668/NQ-UBTVQH15 for Cần Thơ) agree with the name, so the type is
taken from the name's prefix and each disagreement is printed.
"""

from __future__ import annotations

import csv
import sqlite3
import sys
import unicodedata

from .adminunits import CAMPAIGN_DATA, data_dir

OUT = CAMPAIGN_DATA

# Longest prefixes first is not needed (no prefix is a prefix of another), but
# keep the mapping explicit so an unknown type fails loudly.
COMMUNE_TYPES = {"Xã": "xa", "Phường": "phuong", "Đặc khu": "dac_khu"}
PROVINCE_TYPES = {"Tỉnh": "tinh", "Thành phố": "thanh_pho"}


def nfc(s: str) -> str:
    return unicodedata.normalize("NFC", s.strip())


def split_prefix(full: str, types: dict[str, str]) -> tuple[str, str]:
    """'Phường Hải Dương' -> ('phuong', 'Hải Dương')."""
    for prefix, code in types.items():
        if full.startswith(prefix + " "):
            return code, full[len(prefix) + 1 :]
    raise ValueError(f"unknown administrative type in {full!r}")


def main() -> int:
    db = data_dir() / "dataset.db"

    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        rows = conn.execute(
            "SELECT wardCode, ward, wardShort, wardType, provinceCode, province, provinceShort"
            " FROM admin_units"
        ).fetchall()

    communes: dict[str, dict[str, str]] = {}
    provinces: dict[str, dict[str, str]] = {}
    for code, ward, short, ward_type, pcode, province, pshort in rows:
        code, ward, short, ward_type = nfc(code), nfc(ward), nfc(short), nfc(ward_type)
        pcode, province, pshort = nfc(pcode), nfc(province), nfc(pshort)
        assert len(code) == 5 and code.isdigit(), code
        assert len(pcode) == 2 and pcode.isdigit(), pcode
        assert code not in communes, f"duplicate commune code {code}"

        ctype, name = split_prefix(ward, COMMUNE_TYPES)
        assert name == short, (ward, short)
        if COMMUNE_TYPES.get(ward_type) != ctype:
            print(f"note: {code} {ward!r} has wardType {ward_type!r}; using the name's prefix",
                  file=sys.stderr)

        ptype, pname = split_prefix(province, PROVINCE_TYPES)
        assert pname == pshort, (province, pshort)
        prev = provinces.setdefault(pcode, {"code": pcode, "name": province, "type": ptype})
        assert prev["name"] == province, (pcode, prev["name"], province)

        communes[code] = {
            "code": code,
            "name": name,
            "type": ctype,
            "province_code": pcode,
            "province": province,
        }

    assert len(provinces) == 34, len(provinces)
    assert len(communes) == 3321, len(communes)
    for code, full, pcode in (("10525", "Phường Hải Dương", "31"), ("10813", "Xã Thanh Hà", "31")):
        c = communes[code]
        assert (c["type"], c["name"], c["province_code"]) == (
            *split_prefix(full, COMMUNE_TYPES), pcode), c

    with open(OUT / "communes.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, ["code", "name", "type", "province_code", "province"],
                           lineterminator="\n")
        w.writeheader()
        w.writerows(communes[k] for k in sorted(communes))
    with open(OUT / "provinces.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, ["code", "name", "type"], lineterminator="\n")
        w.writeheader()
        w.writerows(provinces[k] for k in sorted(provinces))

    by_type: dict[str, int] = {}
    for c in communes.values():
        by_type[c["type"]] = by_type.get(c["type"], 0) + 1
    print(f"wrote {len(provinces)} provinces, {len(communes)} communes {by_type}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
