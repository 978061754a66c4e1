"""gocua-server: init, serve, enroll, revoke, recount, team, demo."""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from campaign.areas import is_commune_code
from campaign.relay import canonical
from campaign.roles import ROLES

from .config import MAX_WIRE_BYTES, Settings
from .services import (
    campaigns,
    enrolment,
    exports,
    followup,
    import_file,
    imports,
    members,
    purge,
    recount,
    relay,
    team,
)
from .services.errors import ServiceError
from .store import migrate
from .store.db import make_engine, read_transaction, write_transaction


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gocua-server", description="Gõ Cửa sync server")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("init", help="create or migrate the database (DATABASE_URL)")
    serve = sub.add_parser("serve", help="serve the API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    enrol = sub.add_parser("enroll", help="make a one-time enrolment code")
    enrol.add_argument("--role", required=True, choices=ROLES)
    enrol.add_argument("--team")
    enrol.add_argument("--commune")
    enrol.add_argument("--hamlet", action="append", default=[])
    enrol.add_argument("--hours", type=float, default=72, help="how long the code stays valid")
    enrol.add_argument("--name", help="who will hold the phone (at most 60 characters): leaders see it")
    enrol.add_argument("--json", action="store_true")
    enrol.add_argument("--server", help="the address phones reach this server at, for the link "
                                        "(default: GOCUA_PUBLIC_URL)")
    revoke = sub.add_parser("revoke", help="revoke a device: refused from its next request")
    revoke.add_argument("device_id")
    team_cmd = sub.add_parser("team", help="create a team covering some hamlets")
    team_cmd.add_argument("team_id")
    team_cmd.add_argument("--name", required=True)
    team_cmd.add_argument("--commune", required=True)
    team_cmd.add_argument("--hamlet", action="append", default=[])
    recount_cmd = sub.add_parser("recount", help="replay the event log and compare the totals")
    recount_cmd.add_argument("--fix", action="store_true", help="replace the totals with the recount")
    demo = sub.add_parser("demo", help="seed the demo campaign, then serve it and the field app")
    demo.add_argument("--seed-only", action="store_true")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument("--households", type=int, default=None, help="per hamlet (smaller = faster)")
    bench = sub.add_parser("bench", help="province-scale benchmarks: writes benchmarks/results.json")
    bench.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    bench.add_argument("--quick", action="store_true", help="small sizes: about a minute")
    bench.add_argument("--out", default="benchmarks", help="where results.json and data/ go")
    bench.add_argument("--only", metavar="STEP[,STEP]", help="one or more measures alone, for working on one "
                       "figure (results.json is the full run's): 'ingest' pushes through HTTP with 1 and 2 workers "
                       "and inserts the same rows raw, without the province (results-ingest.json); 'pull', "
                       "'totals', 'province', 'week', 'devices' read the province's first --communes communes "
                       "(data/only-BACKEND.json)")
    bench.add_argument("--communes", type=int, help="with --only's reads: how many of the province's communes "
                       "(default 4)")
    bench.add_argument("--ingest-events", type=int, help="events per pushing device (default: the full "
                       "bench's 12,500, or --quick's 1,500); 8 devices push (4 with --quick)")
    bench.add_argument("--pg-url", help="PostgreSQL to create (and drop) the bench's databases in "
                       "(default $GOCUA_BENCH_PG or postgresql://127.0.0.1:5432/postgres)")
    _add_report_commands(sub)
    _add_purge_command(sub)
    relay_cmd = sub.add_parser("relay", help="the sealed relay: apply a bundle a phone made (issue #15)")
    relay_sub = relay_cmd.add_subparsers(dest="relay_command", required=True)
    relay_import = relay_sub.add_parser("import", help="apply a sealed bundle file; its signed receipt is "
                                        "written next to it (FILE.receipt) for the phone")
    relay_import.add_argument("file")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    return COMMANDS[args.command](args, settings)


def _engine(settings: Settings) -> Engine:
    engine = make_engine(settings.database_url)
    migrate.upgrade(engine)
    return engine


def cmd_init(args: argparse.Namespace, settings: Settings) -> int:
    engine = _engine(settings)
    print(f"database ready at revision {migrate.current(engine)}: {engine.url.render_as_string()}")
    return 0


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn
    _engine(settings)
    # proxy headers are the app's to believe (GOCUA_TRUSTED_PROXIES: security.install), not uvicorn's,
    # whose default believes X-Forwarded-For from 127.0.0.1
    uvicorn.run("sync_server.app:served_app", factory=True, host=args.host, port=args.port,
                workers=args.workers, log_level="warning", access_log=False, proxy_headers=False)
    return 0


def cmd_enroll(args: argparse.Namespace, settings: Settings) -> int:
    engine = _engine(settings)
    try:
        with write_transaction(engine) as conn:
            code, expires_at = members.enrolment_by_command(conn, args.role, args.team, args.commune,
                                                            args.hamlet, ttl_hours=args.hours, name=args.name)
    except ServiceError as bad:
        print(f"error: {bad.detail}", file=sys.stderr)
        return 2
    server = (args.server or settings.public_url).rstrip("/")
    if not args.server and not settings.public_url_given:
        print(f"note: GOCUA_PUBLIC_URL is not set, so the link names {server}, which phones cannot reach: "
              "set GOCUA_PUBLIC_URL (or give --server) to the address phones use", file=sys.stderr)
    url = enrolment.enrolment_url(server, code)
    if args.json:
        print(json.dumps({"code": code, "url": url, "expires_at": expires_at}))
        return 0
    import qrcode
    qr = qrcode.QRCode(border=1)
    qr.add_data(url)
    qr.print_ascii(invert=True)
    print(f"code: {code}\nlink: {url}\nvalid until {expires_at} (UTC), once")
    return 0


def cmd_revoke(args: argparse.Namespace, settings: Settings) -> int:
    with write_transaction(_engine(settings)) as conn:
        if not enrolment.revoke(conn, args.device_id):
            print(f"error: no active device {args.device_id}", file=sys.stderr)
            return 2
    print(f"revoked {args.device_id}")
    return 0


def cmd_team(args: argparse.Namespace, settings: Settings) -> int:
    with write_transaction(_engine(settings)) as conn:
        team.create_team(conn, args.team_id, args.name, args.commune, args.hamlet)
    print(f"team {args.team_id} created")
    return 0


def cmd_recount(args: argparse.Namespace, settings: Settings) -> int:
    engine = _engine(settings)
    if args.fix:
        with write_transaction(engine) as conn:
            print(f"totals rebuilt: {recount.rebuild(conn)} counters")
        return 0
    with read_transaction(engine) as conn:
        differences = recount.recount(conn)
    for d in differences:
        print(f"{d.hamlet_id} {d.day or '-'} {d.metric}: stored {d.stored}, recounted {d.recounted}")
    if differences:
        print(f"{len(differences)} counters differ from the event log", file=sys.stderr)
        return 1
    print("totals agree with the event log")
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from devtools import demo  # a tool outside the runtime: imported by this command only
    return demo.main(args, settings)


def cmd_bench(args: argparse.Namespace, settings: Settings) -> int:
    from devtools.bench import server  # a tool outside the runtime: imported by this command only
    return server.main(args, settings)


# ---- campaign, export, import (docs/reports.md) -----------------------------------

def _add_report_commands(sub: Any) -> None:
    campaign = sub.add_parser("campaign", help="set (or show) a commune's campaign settings")
    campaign.add_argument("--commune", required=True)
    campaign.add_argument("--name", help="the campaign's name; without it, print the settings")
    target = campaign.add_mutually_exclusive_group()
    target.add_argument("--target-percent", type=int, help="percent of people with e-ID active (1-100)")
    target.add_argument("--target-people", type=int, help="a number of people with e-ID active")
    campaign.add_argument("--start", help="YYYY-MM-DD")
    campaign.add_argument("--deadline", help="YYYY-MM-DD")
    campaign.add_argument("--ends", help="YYYY-MM-DD: the campaign's end (personal data purged after retention)")
    campaign.add_argument("--retention-days", type=int, default=90)
    export = sub.add_parser("export", help="export totals (xlsx or csv) or a follow-up list (csv)")
    export.add_argument("--commune", required=True)
    export.add_argument("--out", required=True, help="FILE.xlsx (workbook) or FILE.csv")
    export.add_argument("--list", choices=["card_capture", "level2", "activation", "home_capture", "revisit"],
                        help="with a .csv: this follow-up list instead of the totals")
    imp = sub.add_parser("import", help="import a target list of households and people (xlsx or csv)")
    imp.add_argument("--commune", required=True)
    imp.add_argument("file")
    imp.add_argument("--dry-run", action="store_true", help="check every row, import nothing")


def cmd_campaign(args: argparse.Namespace, settings: Settings) -> int:
    if not is_commune_code(args.commune):
        print(f"error: {args.commune} is not an official commune code", file=sys.stderr)
        return 2
    engine = _engine(settings)
    if args.name is None:
        with read_transaction(engine) as conn:
            found = campaigns.get(conn, args.commune)
        if found is None:
            print(f"error: commune {args.commune} has no campaign settings", file=sys.stderr)
            return 1
        print(json.dumps(asdict(found), ensure_ascii=False))
        return 0
    kind, value = (("percent", args.target_percent) if args.target_percent is not None
                   else ("people", args.target_people))
    body = {"name": args.name, "target_kind": kind, "target_value": value, "start": args.start,
            "deadline": args.deadline, "ends": args.ends, "retention_days": args.retention_days}
    try:
        with write_transaction(engine) as conn:
            saved = campaigns.put(conn, args.commune, body)
    except ServiceError as bad:
        print(f"error: {bad.detail}", file=sys.stderr)
        return 2
    print(json.dumps(asdict(saved), ensure_ascii=False))
    return 0


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    out = Path(args.out)
    if not is_commune_code(args.commune):
        print(f"error: {args.commune} is not an official commune code", file=sys.stderr)
        return 2
    if out.suffix.lower() not in (".xlsx", ".csv") or (args.list and out.suffix.lower() != ".csv"):
        print("error: --out must end in .xlsx or .csv (a follow-up --list: .csv)", file=sys.stderr)
        return 2
    engine = _engine(settings)
    if out.suffix.lower() == ".xlsx":
        with out.open("wb") as f:
            exports.totals_workbook(engine, None, args.commune, f)
    else:
        lines = (followup.download(engine, None, args.commune, args.list) if args.list
                 else exports.totals_csv(engine, None, args.commune))
        with out.open("w", encoding="utf-8", newline="") as f:
            f.writelines(lines)
    print(f"wrote {out}")
    return 0


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    if not is_commune_code(args.commune):
        print(f"error: {args.commune} is not an official commune code", file=sys.stderr)
        return 2
    path = Path(args.file)
    if path.stat().st_size > import_file.MAX_BYTES:
        print(f"error: a list is at most {import_file.MAX_BYTES // 2**20} MB", file=sys.stderr)
        return 2
    engine = _engine(settings)
    try:
        checked = imports.check_file(engine, None, args.commune, path.read_bytes(), dry_run=args.dry_run)
    except ServiceError as bad:
        print(f"error: {bad.detail}", file=sys.stderr)
        return 2
    plan = checked.plan
    for kind, problems in (("warning", plan.warnings), ("error", plan.errors)):
        for p in problems:
            where = f"row {p.row}" if p.row is not None else "file"
            column = f" ({p.column})" if p.column else ""
            print(f"{kind}: {where}{column}: {p.code}: {p.detail}", file=sys.stderr)
    report = plan.report()
    summary = (f"{report['rows']:,} rows: {report['households']:,} new households, {report['people']:,} people "
               f"({report['existing_households']:,} households already held gain people; "
               f"{report['skipped']:,} people already held skipped)")
    if checked.status != "running":
        rows_bad = len({p.row for p in plan.errors})
        print(f"{'checked' if args.dry_run else 'refused'}: {summary}; {rows_bad} rows with errors"
              + ("" if args.dry_run or not plan.errors else ": nothing imported"))
        return 1 if plan.errors else 0

    def bar(done: int, total: int) -> None:
        width = 30
        filled = width * done // total if total else width
        print(f"\r[{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,} rows", end="", file=sys.stderr,
              flush=True)

    state = imports.run(engine, checked, None, progress=bar)
    print(file=sys.stderr)
    if state.status != "done":
        for e in state.errors:
            print(f"error: row {e['row']}: {e['code']}: {e['detail']}", file=sys.stderr)
        print(f"failed: nothing imported (import {checked.import_id})")
        return 1
    print(f"imported: {summary} (import {checked.import_id}, device {state.import_device_id})")
    return 0


REPORT_COMMANDS = {"campaign": cmd_campaign, "export": cmd_export, "import": cmd_import}


COMMANDS = {"bench": cmd_bench, "init": cmd_init, "serve": cmd_serve, "enroll": cmd_enroll, "revoke": cmd_revoke,
            "team": cmd_team, "recount": cmd_recount, "demo": cmd_demo}

COMMANDS.update(REPORT_COMMANDS)


# ---- retention purge (SECURITY.md, "Retention") --------------------------------------

def _add_purge_command(sub: Any) -> None:
    purge_cmd = sub.add_parser("purge", help="remove personal fields of campaigns past their retention; "
                                         "totals are kept")
    purge_cmd.add_argument("--commune", help="only this commune (its campaign must be due)")
    purge_cmd.add_argument("--dry-run", action="store_true", help="say what would change, change nothing")


def cmd_purge(args: argparse.Namespace, settings: Settings) -> int:
    engine = _engine(settings)
    with read_transaction(engine) as conn:
        if args.commune:
            campaign = purge.campaign_of(conn, args.commune)
            if campaign is None or campaign.purge_after is None:
                print(f"error: commune {args.commune} has no campaign with an end date", file=sys.stderr)
                return 2
            if campaign not in purge.due(conn):
                print(f"not due: {args.commune}'s personal data is kept until {campaign.purge_after}")
                return 1
            due = [campaign]
        else:
            due = purge.due(conn)
    changed = False
    for campaign in due:
        with write_transaction(engine) as conn:
            report = purge.purge(conn, campaign, dry_run=args.dry_run)
        counts = report.counts()
        changed = changed or any(counts.values()) or bool(report.devices)
        print(("would purge" if args.dry_run else "purged") + f" {campaign.commune} (ended {campaign.ends}, "
              f"kept {campaign.retention_days} days): " + ", ".join(f"{n} {k}" for k, n in counts.items())
              + f", {len(report.devices)} devices retired")
    if not due:
        print("nothing is due")
    if changed and not args.dry_run:
        purge.compact(engine)
    return 0


COMMANDS["purge"] = cmd_purge


def cmd_relay(args: argparse.Namespace, settings: Settings) -> int:
    """`relay import FILE`: the bundle's events as its phone's push, as POST /sync/relay applies them."""
    path = Path(args.file)
    if path.stat().st_size > MAX_WIRE_BYTES:
        print(f"error: too_large: a bundle is at most {MAX_WIRE_BYTES // 2**20} MB", file=sys.stderr)
        return 2
    try:
        with write_transaction(_engine(settings)) as conn:
            relay.ensure_keys(conn)
            done = relay.relay(conn, path.read_bytes())
    except ServiceError as bad:
        print(f"error: {bad.code}: {bad.detail}", file=sys.stderr)
        return 2
    receipt = path.with_name(path.name + ".receipt")
    receipt.write_bytes(canonical(done.receipt))
    print(f"device {done.device_id}: acked_seq {done.acked_seq}, {len(done.quarantined)} quarantined; "
          f"receipt for the phone: {receipt}")
    return 0


COMMANDS["relay"] = cmd_relay

if __name__ == "__main__":
    sys.exit(main())
