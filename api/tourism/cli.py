"""``flask --app api tourism load [--if-empty] [--overwrite]``: the tourism seed."""
from __future__ import annotations

import click
from flask import Flask, current_app

from api.db import db
from api.tourism import loaders


def register(app: Flask) -> None:
    @app.cli.group("tourism")
    def tourism():
        """Tourism data: places, festivals, food."""

    @tourism.command("load")
    @click.option("--if-empty", is_flag=True, help="Do nothing when places are already loaded.")
    @click.option("--overwrite", is_flag=True,
                  help="Put the seed's values back over administrators' corrections.")
    def load(if_empty: bool, overwrite: bool):
        """Places, festivals and specialties of the province (adds what is missing)."""
        cfg = current_app.config["APP"]
        with db.unit_of_work() as session:
            counts = loaders.tourism_counts(session)
            if if_empty and counts["places"]:
                click.echo(f"tourism data present: {counts}")
                return
            written = loaders.load_all(session, cfg.PROVINCE_CODE, overwrite=overwrite)
            click.echo("tourism: " + ", ".join(f"{n} {name}" for name, n in written.items())
                       + (" written" if overwrite else " added"))
