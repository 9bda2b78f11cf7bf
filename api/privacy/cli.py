"""``flask --app api privacy …``: retention by hand (the beat runs it daily)."""
from __future__ import annotations

import click
from flask import Flask, current_app


def register(app: Flask) -> None:
    @app.cli.group("privacy")
    def privacy():
        """Personal data: retention and anonymisation."""

    @privacy.command("retention")
    @click.option("--dry-run", is_flag=True, help="Only count the reports that are due.")
    def retention(dry_run: bool):
        """Anonymise closed reports older than RETENTION_DAYS (0 → off)."""
        from api.privacy.retention import run
        days = current_app.config["APP"].RETENTION_DAYS
        if days <= 0:
            click.echo("retention is off (RETENTION_DAYS=0)")
            return
        n = run(days=days, dry_run=dry_run)
        if dry_run:
            click.echo(f"{n} report(s) older than {days} days would be anonymised")
        else:
            click.echo(f"{n} report(s) older than {days} days anonymised")
