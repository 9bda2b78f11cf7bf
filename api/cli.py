"""Flask CLI commands: reference data and demo data (``flask --app api …``)."""
from __future__ import annotations

import click
from flask import Flask, current_app
from tqdm import tqdm

from api.db import db
from api.privacy import cli as privacy_cli
from api.reference import loaders
from api.tourism import cli as tourism_cli


def _progress(items, label, total):
    return tqdm(items, desc=f"  {label}", total=total, unit="batch", leave=False, ncols=80)


def register_cli(app: Flask) -> None:
    @app.cli.group("staff")
    def staff():
        """Staff accounts (the first admin of a new deployment)."""

    @staff.command("create-admin")
    @click.argument("email")
    @click.option("--name", "full_name", default="Quản trị hệ thống", show_default=True)
    @click.password_option("--password", envvar="ADMIN_PASSWORD",
                           help="12+ characters; else ADMIN_PASSWORD, else asked twice.")
    def create_admin(email: str, full_name: str, password: str):
        """An admin account, when no account has this email. Admins then manage staff
        through /api/v1/admin/staff."""
        from datetime import datetime, timezone

        from sqlalchemy import select

        from api.identity.models import StaffUser
        from api.identity.staff import hash_password
        from api.privacy import audit
        from api.text import clean
        cfg = current_app.config["APP"]
        email = email.strip().lower()
        if "@" not in email or len(email) > 200:
            raise click.BadParameter("an email address", param_hint="EMAIL")
        if not 12 <= len(password) <= 200:
            raise click.BadParameter("12 to 200 characters", param_hint="--password")
        if not cfg.is_demo and cfg.is_demo_staff_password(password):
            raise click.BadParameter("the demo password is refused outside demo mode",
                                     param_hint="--password")
        with db.unit_of_work() as session:
            if session.scalar(select(StaffUser).where(StaffUser.email == email)) is not None:
                raise click.ClickException(f"{email} already has an account")
            user = StaffUser(email=email, full_name=clean(full_name), role="admin",
                             password_hash=hash_password(password), active=True,
                             created_at=datetime.now(timezone.utc))
            session.add(user)
            session.flush()
            audit.record(session, "staff.created", actor_kind="cli",
                         detail={"staff_id": user.id, "role": "admin"})
        click.echo(f"admin {email} created")

    @app.cli.group("ref")
    def ref():
        """Reference data."""

    @ref.command("load")
    @click.option("--demo/--no-demo", default=None, help="Also load demo staff (default: in demo mode).")
    @click.option("--if-empty", is_flag=True, help="Do nothing when reference data is already loaded.")
    def load(demo: bool | None, if_empty: bool):
        """Provinces, wards, units, categories (and demo staff)."""
        cfg = current_app.config["APP"]
        demo = cfg.is_demo if demo is None else demo
        with db.unit_of_work() as session:
            counts = loaders.reference_counts(session)
            if if_empty and counts["wards"] and counts["categories"] and counts["sla_policies"] \
                    and (counts["staff"] or not demo):
                click.echo(f"reference data present: {counts}")
                return
            click.echo("loading provinces and wards (vietnamadminunits)…")
            p, w = loaders.load_admin_units(session, _progress)
            click.echo(f"  {p} provinces, {w} communes/wards")
            n = loaders.load_units(session, cfg.PROVINCE_CODE)
            click.echo(f"  {n} units for province {cfg.PROVINCE_CODE}")
            n = loaders.load_categories(session, allow_anonymous_everywhere=demo)
            click.echo(f"  {n} categories")
            n = loaders.load_sla_policies(session)
            click.echo(f"  {n} SLA policies added")
            if demo:
                if not cfg.is_demo:
                    raise click.ClickException("demo staff only in demo mode (APP_ENV=demo)")
                n = loaders.load_demo_staff(session, cfg.DEMO_STAFF_PASSWORD, _progress)
                click.echo(f"  {n} demo staff accounts (password from DEMO_STAFF_PASSWORD)")
                from api.open311.keys import ensure_demo_key
                ensure_demo_key(session, cfg.OPEN311_DEMO_API_KEY or "demo-open311-key")
                click.echo("  Open311 demo key (OPEN311_DEMO_API_KEY)")

    @ref.command("load-boundaries")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    @click.option("--code-property", default="code", show_default=True,
                  help="The feature property that holds the 5-digit ward code.")
    def load_boundaries(path: str, code_property: str):
        """Ward boundary polygons (GeoJSON FeatureCollection); point → ward then uses them."""
        import json
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
        with db.unit_of_work() as session:
            try:
                n = loaders.load_boundaries(session, data, code_property)
            except ValueError as exc:
                raise click.ClickException(str(exc))
        click.echo(f"{n} ward boundaries loaded")

    privacy_cli.register(app)
    tourism_cli.register(app)
