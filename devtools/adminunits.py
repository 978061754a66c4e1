"""The `vietnamadminunits` package's data folder, for the two scripts that regenerate
campaign/data/ from it (make_communes.py, make_old_communes.py). Run by hand in a throwaway
venv: the package is never a project dependency."""
from __future__ import annotations

import sys
from importlib.metadata import version
from importlib.util import find_spec
from pathlib import Path

EXPECTED_VERSION = "1.0.4"
CAMPAIGN_DATA = Path(__file__).resolve().parent.parent / "campaign" / "data"


def data_dir() -> Path:
    """The installed package's `data/`, after checking it is the version the files came from."""
    got = version("vietnamadminunits")
    if got != EXPECTED_VERSION:
        sys.exit(f"need vietnamadminunits=={EXPECTED_VERSION}, found {got}")
    spec = find_spec("vietnamadminunits")
    assert spec and spec.origin
    return Path(spec.origin).parent / "data"
