"""Regenerate campaign/data/old_communes.csv: every pre-merger commune (before 1 July 2025)
and the post-2025 commune(s) it went into, from `vietnamadminunits` 1.0.4 (MIT).

Run by hand, from the repository root, in a throwaway venv (the package is not a project
dependency, and nothing fetches it at run time):

    python3 -m venv /tmp/vau && /tmp/vau/bin/pip install vietnamadminunits==1.0.4
    /tmp/vau/bin/python -m devtools.make_old_communes

It reads the package's `data/converter_2025.json` (old unit keys -> new commune keys: whole
communes in DICT_PROVINCE_WARD_NO_DIVIDED, split ones in DICT_PROVINCE_WARD_DIVIDED) and
`data/dataset.db` (the new communes' official codes in `admin_units`, the old units' names
in `admin_units_legacy`). Keys are the package's: the full name folded (no marks, đ -> d,
lower case) without spaces, "province_district_ward".

Columns: province_key, district_key, ward_key (the old unit), province, district, ward (its
names, when the legacy table has them), codes (the new communes' 5-digit codes, space
separated: one for a commune merged whole, several for one that was split).
"""
from __future__ import annotations

import csv
import json
import sqlite3
import unicodedata

from .adminunits import CAMPAIGN_DATA, data_dir

OUT = CAMPAIGN_DATA / "old_communes.csv"


def key(name: str) -> str:
    s = name.replace("đ", "d").replace("Đ", "d")
    s = "".join(ch for ch in unicodedata.normalize("NFD", s) if not unicodedata.combining(ch))
    return "".join(s.lower().split())


def main() -> int:
    data = data_dir()
    converter = json.loads((data / "converter_2025.json").read_text(encoding="utf-8"))
    with sqlite3.connect(f"file:{data / 'dataset.db'}?mode=ro", uri=True) as conn:
        new = {(pk, wk): code for pk, wk, code in
               conn.execute("SELECT provinceKey, wardKey, wardCode FROM admin_units")}
        legacy = {}
        for p, d, w in conn.execute("SELECT province, district, ward FROM admin_units_legacy"):
            legacy[f"{key(p)}_{key(d)}_{key(w or '')}"] = (p, d, w or "")
    targets: dict[str, list[str]] = {}
    for pk, wards in converter["DICT_PROVINCE_WARD_NO_DIVIDED"].items():
        for wk, olds in wards.items():
            for old in olds:
                targets.setdefault(old, []).append(new[(pk, wk)])
    for pk, olds in converter["DICT_PROVINCE_WARD_DIVIDED"].items():
        for old, candidates in olds.items():
            for c in candidates:
                targets.setdefault(old, []).append(new[(pk, c["newWardKey"])])
    rows = []
    for old, codes in sorted(targets.items()):
        parts = old.split("_")
        if len(parts) != 3 or not parts[2]:
            continue  # a district with no communes (Hoàng Sa): nothing to resolve
        p, d, w = (unicodedata.normalize("NFC", x) for x in legacy.get(old, ("", "", "")))
        rows.append([*parts, p, d, w, " ".join(sorted(set(codes)))])
    with OUT.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(["province_key", "district_key", "ward_key", "province", "district", "ward", "codes"])
        out.writerows(rows)
    split = sum(1 for r in rows if " " in r[-1])
    print(f"{len(rows)} old communes, {split} split between several new ones -> {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
