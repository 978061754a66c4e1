"""Vietnam's official provinces and communes (in force since 1 July 2025).

The lists ship as CSV in campaign/data (see data/SOURCE.md); this module only
reads them. Stdlib only, because it runs on the phone as well as the server.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Literal

CommuneType = Literal["xa", "phuong", "dac_khu"]
ProvinceType = Literal["tinh", "thanh_pho"]

# How each type is written in front of a name ("Phường Hải Dương").
_COMMUNE_PREFIX: dict[str, str] = {"xa": "Xã", "phuong": "Phường", "dac_khu": "Đặc khu"}
# The CSV's type column, read as its type (an unknown value is a KeyError: the data is wrong).
_COMMUNE_TYPES: dict[str, CommuneType] = {"xa": "xa", "phuong": "phuong", "dac_khu": "dac_khu"}
_PROVINCE_TYPES: dict[str, ProvinceType] = {"tinh": "tinh", "thanh_pho": "thanh_pho"}


@dataclass(frozen=True, slots=True)
class Province:
    code: str  # 2 digits, e.g. "31"
    name: str  # full official form, e.g. "Thành phố Hải Phòng"
    type: ProvinceType


@dataclass(frozen=True, slots=True)
class Commune:
    code: str  # 5 digits, leading zeros kept, e.g. "00004"
    name: str  # without the type prefix, e.g. "Hải Dương"
    type: CommuneType
    province_code: str
    province: str  # full official province name, denormalised for display

    @property
    def full_name(self) -> str:
        return f"{_COMMUNE_PREFIX[self.type]} {self.name}"


def _rows(filename: str) -> list[dict[str, str]]:
    # importlib.resources rather than a filesystem path so this also works when
    # the package is imported from a zip (as in the packaged phone app).
    text = (files("campaign") / "data" / filename).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


@cache
def provinces() -> dict[str, Province]:
    """All 34 provinces by code. The dict is shared: do not mutate it."""
    return {r["code"]: Province(r["code"], r["name"], _PROVINCE_TYPES[r["type"]])
            for r in _rows("provinces.csv")}


@cache
def communes() -> dict[str, Commune]:
    """All 3,321 communes by code, in code order. The dict is shared: do not mutate it."""
    return {
        r["code"]: Commune(r["code"], r["name"], _COMMUNE_TYPES[r["type"]], r["province_code"], r["province"])
        for r in _rows("communes.csv")
    }


def commune(code: str) -> Commune:
    try:
        return communes()[code]
    except KeyError:
        raise KeyError(f"unknown commune code {code!r} (expected one of the 3,321 official 5-digit codes)") from None


def is_commune_code(code: object) -> bool:
    # Accepts anything so callers can validate untrusted input (ints, None, ...)
    # without a type check first; only exact 5-digit strings from the list match.
    return isinstance(code, str) and code in communes()


@cache
def _by_province() -> dict[str, tuple[Commune, ...]]:
    grouped: dict[str, list[Commune]] = {code: [] for code in provinces()}
    for c in communes().values():
        grouped[c.province_code].append(c)
    return {k: tuple(v) for k, v in grouped.items()}


def communes_of(province_code: str) -> list[Commune]:
    """Communes of one province in code order; KeyError for an unknown province,
    so a typo is not mistaken for an empty province."""
    try:
        return list(_by_province()[province_code])
    except KeyError:
        raise KeyError(f"unknown province code {province_code!r} (expected one of the 34 2-digit codes)") from None
