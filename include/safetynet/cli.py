"""The ``safetynet`` command line: generate, run, status, accept, roles (outputs.md, "The command line")."""

from __future__ import annotations

import argparse
import logging
import re
import sys
from datetime import date
from pathlib import Path

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
"""Exactly ``YYYY-MM-DD``: ``date.fromisoformat`` (3.11) also takes ``20261121`` and week dates."""
GENERATE_FORCE_HELP = (
    "replace the deployment in a non-empty --out folder: removes config.yaml, regions.csv, "
    "expected_cases.json, sources/, drop/, extras/, templates/, outbox/, inbox/, warnings/, warehouse.db "
    "(and its -wal/-shm/-journal files) and work/ first; anything else in the folder is kept")


def _date(value: str) -> date:
    """A report date given exactly as ``YYYY-MM-DD`` (argparse turns the error into exit 2)."""
    try:
        if not ISO_DATE.fullmatch(value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date in the form YYYY-MM-DD: {value!r}") from exc


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (kept separate so tests and docs can inspect it)."""
    p = argparse.ArgumentParser(prog="safetynet", description="Safety Net Monitor")
    sub = p.add_subparsers(dest="command", required=True)
    g = sub.add_parser("generate", help="write a complete demo deployment")
    g.add_argument("--out", required=True, type=Path, help="folder to create (empty or new, unless --force)")
    g.add_argument("--force", action="store_true", help=GENERATE_FORCE_HELP)
    g.add_argument("--households", type=int, default=2000)
    g.add_argument("--seed", type=int, default=7)
    g.add_argument("--date", type=_date, default=date(2026, 11, 20), help="report date D (YYYY-MM-DD)")
    for name, text in (("run", "extract, validate, load, match, report and publish one date; with "
                               "--source, only extract, validate and load that source"),
                       ("status", "per source: newest data loaded, when, last accounting"),
                       ("accept", "accept a delivery the volume guard refused (a genuine drop)"),
                       ("check-config", "check the configuration file against its schema, then exit"),
                       ("roles", "PostgreSQL: create the warehouse roles and reporter views, grant")):
        c = sub.add_parser(name, help=text)
        c.add_argument("--config", type=Path, help="configuration file (default: $SAFETYNET_CONFIG)")
        if name == "run":
            c.add_argument("--date", type=_date, required=True, help="report date D (YYYY-MM-DD)")
            c.add_argument("--source", help="re-run only this source's extract, validate and load "
                                            "(no evaluation, no publication), e.g. water")
        if name == "accept":
            c.add_argument("--source", required=True, help="the source, e.g. property")
            c.add_argument("--item", required=True,
                           help="the refused file (BDC_QLR_20261127.xlsx) or full-read table (hr_relative)")
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit code."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from safetynet.privacy import install_redaction

    install_redaction()
    from safetynet.config import ConfigError

    try:
        if args.command == "generate":
            return _generate(args)
        if args.command == "run":
            return _run(args)
        if args.command == "roles":
            return _roles(args)
        if args.command == "accept":
            return _accept(args)
        if args.command == "check-config":
            return _check_config(args)
        return _status(args)
    except ConfigError as exc:
        print(f"safetynet: {exc}", file=sys.stderr)
        return 2


def _generate(args: argparse.Namespace) -> int:
    out: Path = args.out
    if out.exists() and not out.is_dir():
        print(f"safetynet: --out {out} is a file; name a folder to create", file=sys.stderr)
        return 2
    present = sorted(p.name for p in out.iterdir()) if out.is_dir() else []
    if present and not args.force:
        shown = ", ".join(present[:5]) + (", …" if len(present) > 5 else "")
        print(f"safetynet: --out {out} is not empty ({shown}); choose a new or empty folder, or add "
              "--force to replace the deployment in it (its warehouse.db, work/ and outbox/ go too)",
              file=sys.stderr)
        return 2
    from safetynet.generate.deployment import clear_deployment, generate_deployment

    if present:
        removed = clear_deployment(out)
        print(f"removed from {out}: {', '.join(removed) or 'nothing (no earlier deployment there)'}")
    config = generate_deployment(out, households=args.households, seed=args.seed,
                                 report_date=args.date)
    print(f"deployment written: {config.parent}")
    print(f"  run it:  safetynet run --config {config} --date {args.date.isoformat()}")
    return 0


def _run(args: argparse.Namespace) -> int:
    from safetynet.config import ConfigError
    from safetynet.locking import LockHeld
    from safetynet.pipeline import run
    from safetynet.privacy import mask_text  # print() bypasses the logging filter

    if args.source is not None:
        return _run_source(args)
    try:
        result = run(args.date, args.config)
    except LockHeld as exc:  # another run or task holds the deployment: nothing was done
        print(f"safetynet: {exc}", file=sys.stderr)
        return 3
    except ConfigError:
        raise  # one line and exit 2 (main), not "not published"
    except Exception as exc:
        print(f"safetynet: the extract for {args.date} was NOT published: "
              f"{type(exc).__name__}: {mask_text(str(exc))}", file=sys.stderr)
        return 1
    print(f"published {result['cases']} cases to {result['published_to']}")
    for source, error in result["failed_sources"].items():
        print(f"  stale source {source}: {mask_text(str(error))}", file=sys.stderr)
    return 0


def _run_source(args: argparse.Namespace) -> int:
    """``run --source S --date D``: S's extract, validate and load under S's task lock, nothing else.

    The lock is the one an Airflow task of S takes (the deployment's lock shared plus
    S's exclusively), so it runs beside other sources' tasks but never beside S's own
    or a whole ``safetynet run``. Rules are not evaluated and nothing is published:
    the next report (``safetynet run`` or ``daily_report``) uses what was loaded.
    """
    from safetynet.config import ConfigError, load_config
    from safetynet.locking import LockHeld, holder_text, task_lock
    from safetynet.pipeline import SOURCES, ingest
    from safetynet.privacy import mask_text

    source, d = args.source, args.date
    if source not in SOURCES:
        print(f"safetynet: unknown source {source!r}; the sources are {', '.join(SOURCES)}", file=sys.stderr)
        return 2
    cfg = load_config(args.config)
    if source not in cfg.sources:
        print(f"safetynet: {source} is not configured in {cfg.path} (sources.{source})", file=sys.stderr)
        return 2
    try:
        with task_lock(cfg, source, holder_text(f"safetynet run --source {source} --date {d.isoformat()}")):
            done = ingest(source, d, cfg.path)
    except LockHeld as exc:
        print(f"safetynet: {exc}", file=sys.stderr)
        return 3
    except ConfigError:
        raise
    except Exception as exc:
        print(f"safetynet: {source} for {d} was NOT loaded (it is reported stale): "
              f"{type(exc).__name__}: {mask_text(str(exc))}", file=sys.stderr)
        return 1
    print(f"loaded {source} for {d.isoformat()}: {done['items']} new item(s), {done['read']:,} rows read, "
          f"{done['loaded']:,} loaded, {done['quarantined']:,} quarantined, "
          f"{done['duplicates']:,} duplicates")
    if not done["items"]:
        print(f"  nothing new from {source}: every delivery was loaded before")
    print("  rules not evaluated, nothing published: the next report uses this load")
    return 0


def _status(args: argparse.Namespace) -> int:
    from safetynet.reports.status import status_lines

    for line in status_lines(args.config):
        print(line)
    return 0


def _check_config(args: argparse.Namespace) -> int:
    """Load (and so check) the configuration; print what it names. A fault raises ConfigError (2)."""
    from safetynet.config import load_config

    cfg = load_config(args.config)
    print(f"configuration ok: {cfg.path}")
    print(f"  warehouse {cfg.warehouse_url.split('://', 1)[0]}://…; sources: {', '.join(cfg.sources)}")
    return 0


def _accept(args: argparse.Namespace) -> int:
    """Accept a refused delivery by name; the acceptance is audited (exit 2 if nothing matches)."""
    from safetynet.config import load_config
    from safetynet.warehouse.acceptance import AcceptError, accept
    from safetynet.warehouse.engine import get_engine, migrate

    engine = get_engine(load_config(args.config).warehouse_url)
    migrate(engine)
    try:
        print(accept(engine, args.source, args.item))
    except AcceptError as exc:
        print(f"safetynet: {exc}", file=sys.stderr)
        return 2
    return 0


def _roles(args: argparse.Namespace) -> int:
    """Apply the warehouse roles (run as the warehouse's owner: it migrates and grants)."""
    from safetynet.config import load_config
    from safetynet.rules.catalog import keyed_by_person
    from safetynet.warehouse.engine import get_engine
    from safetynet.warehouse.roles import RolesUnsupported, apply_roles

    try:
        done = apply_roles(get_engine(load_config(args.config).warehouse_url), keyed_by_person())
    except RolesUnsupported as exc:
        print(f"safetynet: {exc}", file=sys.stderr)
        return 1
    for line in done:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
