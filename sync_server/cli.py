"""gocua-server: init, serve, enroll, revoke, recount, team, demo."""
from __future__ import annotations

import argparse
import json
import sys
from urllib.parse import urlencode

from .config import Settings
from .store import devices, migrate
from .store import totals as store_totals
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
    enrol.add_argument("--role", required=True, choices=["volunteer", "leader", "officer", "admin"])
    enrol.add_argument("--team")
    enrol.add_argument("--commune")
    enrol.add_argument("--hamlet", action="append", default=[])
    enrol.add_argument("--hours", type=float, default=72, help="how long the code stays valid")
    enrol.add_argument("--json", action="store_true")
    revoke = sub.add_parser("revoke", help="revoke a device: refused from its next request")
    revoke.add_argument("device_id")
    team = sub.add_parser("team", help="create a team covering some hamlets")
    team.add_argument("team_id")
    team.add_argument("--name", required=True)
    team.add_argument("--commune", required=True)
    team.add_argument("--hamlet", action="append", default=[])
    recount = sub.add_parser("recount", help="replay the event log and compare the totals")
    recount.add_argument("--fix", action="store_true", help="replace the totals with the recount")
    demo = sub.add_parser("demo", help="seed the demo campaign, then serve it and the field app")
    demo.add_argument("--seed-only", action="store_true")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument("--households", type=int, default=None, help="per hamlet (smaller = faster)")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    return COMMANDS[args.command](args, settings)


def _engine(settings: Settings):  # type: ignore[no-untyped-def]
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
    uvicorn.run("sync_server.app:create_app", factory=True, host=args.host, port=args.port,
                workers=args.workers, log_level="warning", access_log=False)
    return 0


def enrolment_url(public_url: str, code: str) -> str:
    """What the QR code holds: the app reads the server and the code from it."""
    return "gocua://enrol?" + urlencode({"server": public_url, "code": code})


def cmd_enroll(args: argparse.Namespace, settings: Settings) -> int:
    engine = _engine(settings)
    with write_transaction(engine) as conn:
        try:
            code, expires_at = devices.create_enrolment(conn, args.role, args.team, args.commune,
                                                        args.hamlet, ttl_hours=args.hours)
        except devices.EnrolError as bad:
            print(f"error: {bad.detail}", file=sys.stderr)
            return 2
    url = enrolment_url(settings.public_url, code)
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
        if not devices.revoke(conn, args.device_id):
            print(f"error: no active device {args.device_id}", file=sys.stderr)
            return 2
    print(f"revoked {args.device_id}")
    return 0


def cmd_team(args: argparse.Namespace, settings: Settings) -> int:
    with write_transaction(_engine(settings)) as conn:
        devices.create_team(conn, args.team_id, args.name, args.commune, args.hamlet)
    print(f"team {args.team_id} created")
    return 0


def cmd_recount(args: argparse.Namespace, settings: Settings) -> int:
    engine = _engine(settings)
    if args.fix:
        with write_transaction(engine) as conn:
            print(f"totals rebuilt: {store_totals.rebuild(conn)} counters")
        return 0
    with read_transaction(engine) as conn:
        differences = store_totals.recount(conn)
    for d in differences:
        print(f"{d['hamlet_id']} {d['day'] or '-'} {d['metric']}: stored {d['stored']}, recounted {d['recounted']}")
    if differences:
        print(f"{len(differences)} counters differ from the event log", file=sys.stderr)
        return 1
    print("totals agree with the event log")
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from . import demo
    return demo.main(args, settings)


COMMANDS = {"init": cmd_init, "serve": cmd_serve, "enroll": cmd_enroll, "revoke": cmd_revoke,
            "team": cmd_team, "recount": cmd_recount, "demo": cmd_demo}

if __name__ == "__main__":
    sys.exit(main())
