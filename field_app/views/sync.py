"""Sync: what is waiting, when it last worked, a progress bar while it runs,
"Đồng bộ ngay", what the server quarantined and why, the receipt check
("Máy chủ đã nhận đủ mọi việc bạn đã gửi"), and the sealed relay's cards (views/relay.py:
"Gửi nhờ", a receipt carried back, another phone's file carried to the server).

Everything here reads the store and `Device.status` (the BackgroundSync's
last `SyncStatus`); the screen repaints in place when the sync thread reports.
"""
from __future__ import annotations

from typing import Any

import flet as ft

from field_app import theme
from field_app.i18n import refusal_text, t
from field_app.net.sync import SyncStatus

from .common import C, card, heading, kind_label, note, number, reason_text, relative_time
from .models.words import ERROR_KINDS, changes_text, error_text, work_text
from .relay import relay_cards
from .relay_down import open_card
from .shell import Shell


def error_sentence(status: SyncStatus) -> str:
    """The last failure in words; a refusal by the sentence of its code, never the server's words."""
    kind = status.error_kind if status.error_kind in ERROR_KINDS else "other"
    if kind == "Rejected":
        return t("sync.error.Rejected", detail=refusal_text(status.error_code, status.error_answer))
    return t(f"sync.error.{kind}", detail=status.error or "")


def receipt_lines(check: Any) -> list[str]:
    """The receipt check's differences, in words."""
    lines = []
    local, server = check.local, check.server
    if server.get("acked_seq") != local.acked_seq:
        lines.append(t("sync.receipt.acked", device=local.acked_seq, server=server.get("acked_seq")))
    server_counts = server.get("counts") if isinstance(server.get("counts"), dict) else {}
    for kind in sorted(set(server_counts) | set(local.counts)):
        mine, theirs = local.counts.get(kind, 0), server_counts.get(kind, 0)
        if mine != theirs:
            lines.append(t("sync.receipt.count", kind=kind_label(kind), device=mine, server=theirs))
    if server.get("digest") != local.digest and not lines:
        lines.append(t("sync.receipt.digest"))
    return lines


def sync_screen(shell: Shell) -> list[ft.Control]:
    store = shell.store
    device = shell.device

    state_icon = ft.Icon(ft.Icons.CLOUD_DONE_OUTLINED, size=30, color=C.primary)
    state_text = ft.Text("", theme_style=ft.TextThemeStyle.TITLE_MEDIUM, key="sync.state", expand=True)
    progress = ft.ProgressBar(visible=False, key="sync.progress", bar_height=8)
    pages = ft.Text("", theme_style=ft.TextThemeStyle.BODY_MEDIUM, key="sync.pages", visible=False)
    pending = ft.Text("", theme_style=ft.TextThemeStyle.BODY_LARGE, key="sync.pending")
    last = ft.Text("", theme_style=ft.TextThemeStyle.BODY_LARGE, key="sync.last")
    error = ft.Text("", theme_style=ft.TextThemeStyle.BODY_MEDIUM, key="sync.error", visible=False,
                    color=theme.STATUSES["problem"].on_container, expand=True)
    error_box = ft.Container(
        ft.Row([ft.Icon(ft.Icons.CLOUD_OFF, color=theme.STATUSES["problem"].strong), error],
               spacing=10, vertical_alignment=ft.CrossAxisAlignment.START),
        bgcolor=theme.STATUSES["problem"].container,
        border_radius=ft.BorderRadius.all(theme.RADIUS),
        padding=ft.Padding.all(12),
        visible=False,
    )
    button = theme.big_button(t("sync.now"), icon=ft.Icons.SYNC, key="sync.now")

    def paint(status: SyncStatus | None) -> None:
        work = store.work()
        n = work.total
        pending.value = t("sync.pending", work=work_text(work)) if n else t("home.all_sent")
        last.value = t("sync.last_ok", when=relative_time(store.last_sync_ok))
        syncing = status is not None and status.state == "syncing"
        failed = status is not None and status.state == "error"
        progress.visible = syncing
        progress.value = (status.progress or None) if status is not None and syncing else None
        pages.visible = status is not None and syncing and status.pages > 0  # a first sync takes a while
        if status is not None and pages.visible:
            pages.value = t("sync.pages", pages=number(status.pages), changes=number(status.pulled))
        button.disabled = syncing
        if syncing:
            state_icon.icon, state_text.value = ft.Icons.SYNC, t("sync.state.syncing")
            state_icon.color = C.primary
        elif failed:
            state_icon.icon, state_text.value = ft.Icons.CLOUD_OFF, t("sync.state.failed")
            state_icon.color = theme.STATUSES["problem"].strong
        elif n:
            state_icon.icon, state_text.value = ft.Icons.CLOUD_UPLOAD_OUTLINED, t("sync.state.waiting",
                                                                                 work=work_text(work))
            state_icon.color = theme.STATUSES["revisit"].strong
        elif store.last_sync_ok:
            state_icon.icon, state_text.value = ft.Icons.CLOUD_DONE_OUTLINED, t("sync.state.done")
            state_icon.color = theme.STATUSES["done"].strong
        else:
            state_icon.icon, state_text.value = ft.Icons.CLOUD_QUEUE, t("sync.state.never")
            state_icon.color = C.on_surface_variant
        if status is not None and failed:
            text = error_sentence(status)
            if status.next_in:
                text += " " + t("sync.next_try", seconds=round(status.next_in))
            error.value = text
        error.visible = error_box.visible = failed

    def sync_now(e: ft.Event[ft.Button]) -> None:
        device.sync_now()
        paint(SyncStatus("syncing", 0.0, None, None, None, 0, None))

    button.on_click = sync_now
    paint(device.status)

    # -- receipt -----------------------------------------------------------------
    receipt_icon = ft.Icon(ft.Icons.FACT_CHECK_OUTLINED, color=C.on_surface_variant, visible=False)
    receipt_text = ft.Text("", theme_style=ft.TextThemeStyle.BODY_LARGE, key="sync.receipt", expand=True)
    receipt_details = ft.Column(spacing=2, key="sync.receipt_details")
    receipt_busy = ft.ProgressRing(width=22, height=22, visible=False)

    async def check(e: ft.Event[ft.OutlinedButton]) -> None:
        receipt_busy.visible = True
        receipt_text.value = t("sync.receipt.checking")
        receipt_details.controls = []
        shell.page.update()
        try:
            result = await shell.blocking(device.check_receipt)
        except Exception as exc:  # SyncError and friends: say why, in words
            receipt_icon.icon, receipt_icon.color = ft.Icons.CLOUD_OFF, theme.STATUSES["problem"].strong
            receipt_text.value = error_text(exc)
        else:
            left = store.work()
            if result.agree:
                receipt_icon.icon, receipt_icon.color = ft.Icons.VERIFIED, theme.STATUSES["done"].strong
                receipt_text.value = t("sync.receipt.agree", work=work_text(store.work("sent")))
                if left.total:
                    receipt_text.value += " " + t("sync.receipt.still_pending", work=work_text(left))
            else:
                receipt_icon.icon, receipt_icon.color = ft.Icons.REPORT_PROBLEM, theme.STATUSES["problem"].strong
                receipt_text.value = t("sync.receipt.differ")
                receipt_details.controls = [ft.Text("• " + line, size=14.5) for line in receipt_lines(result)]
        receipt_icon.visible = True
        receipt_busy.visible = False
        shell.page.update()

    receipt = card(
        [
            heading(t("sync.receipt.title")),
            ft.Text(t("sync.receipt.hint"), size=14, color=C.on_surface_variant),
            ft.Row([receipt_icon, receipt_busy, receipt_text], spacing=10,
                   vertical_alignment=ft.CrossAxisAlignment.START),
            receipt_details,
            theme.big_button(t("sync.receipt.check"), icon=ft.Icons.FACT_CHECK_OUTLINED, filled=False,
                             on_click=check, key="sync.check"),
        ],
    )

    # -- quarantined ---------------------------------------------------------------
    quarantined = store.quarantined()
    quarantine: list[ft.Control] = []
    if quarantined:
        s = theme.STATUSES["problem"]
        quarantine.append(heading(t("sync.quarantined_title", changes=changes_text(len(quarantined)))))
        quarantine.append(ft.Text(t("sync.quarantined_hint"), size=14, color=C.on_surface_variant))
        for q in quarantined:
            quarantine.append(card(
                [
                    ft.Row([ft.Icon(ft.Icons.REPORT_PROBLEM, color=s.strong),
                            ft.Text(t("sync.quarantined_item", kind=kind_label(q.kind), seq=q.seq,
                                      when=relative_time(q.at)),
                                    font_family=theme.FONT_MEDIUM, size=15, expand=True)], spacing=8),
                    ft.Text(reason_text(q.reason), size=15, key=f"sync.quarantined.{q.seq}"),
                ],
                bgcolor=s.container, border=s.strong, padding=12, spacing=4,
            ))

    def on_sync(status: SyncStatus, data_changed: bool) -> None:
        if data_changed and status.report is not None and status.report.quarantined:
            shell.render()
            return
        paint(status)

    shell.live(on_sync)

    return [
        card(
            [
                ft.Row([state_icon, state_text], spacing=12),
                progress,
                pages,
                pending,
                last,
                error_box,
            ],
            key="sync.status",
        ),
        button,
        *quarantine,
        receipt,
        *relay_cards(shell),
        *([open_card(shell)] if store.role in ("volunteer", "leader") else []),  # the down road
        note(ft.Icons.DNS_OUTLINED, t("sync.server", url=store.server_url or "—",
                                       device=(store.device_id or "—")[:8])),
    ]
