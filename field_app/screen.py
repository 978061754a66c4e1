"""`Screen`: what a screen builder may return besides a plain list of controls.

Its own module, for the shell and the views alike (a view never imports the
shell: views/shell.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import flet as ft


@dataclass
class Screen:
    """The body of a tab (or a pushed route) with what goes around it.

    scroll=False: the body scrolls itself (a `ListView(expand=True)`), so the
    view must not wrap it in a scrolling column. `bottom` is pinned under the
    body (e.g. the visit outcome buttons); `fab` is the view's floating button;
    `actions` go into the AppBar before the sync button.
    """

    controls: list[ft.Control]
    scroll: bool = True
    bottom: ft.Control | None = None
    fab: ft.FloatingActionButton | None = None
    actions: list[ft.Control] = field(default_factory=list)
