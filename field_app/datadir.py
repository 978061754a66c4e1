"""Where the device's data lives: one answer for the app, its command line and its tools."""
from __future__ import annotations

import os
import sys
from pathlib import Path


def data_dir(data: str | os.PathLike[str] | None = None) -> Path:
    """$FLET_APP_STORAGE_DATA (Flet's app-private storage on a phone) if set, else `data`
    (--data), else the user's data dir: XDG on Linux (~/.local/share/gocua),
    %LOCALAPPDATA%/GoCua on Windows, ~/Library/Application Support/GoCua on macOS."""
    env = os.environ.get("FLET_APP_STORAGE_DATA")
    if env:
        return Path(env)
    if data:
        return Path(data)
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA", Path.home())) / "GoCua"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "GoCua"
    return Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "gocua"
