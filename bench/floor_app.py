"""The floor of the stack: a Flask view behind gunicorn that validates a JSON body and inserts one row through
SQLAlchemy, as the intake benchmark's second baseline (what any ticket API on this stack pays before its own work)."""

from __future__ import annotations

import os

from flask import Flask, abort, jsonify, request
from sqlalchemy import Column, Integer, MetaData, String, Table, insert

from service.db import make_engine

metadata = MetaData()
floor_row = Table("bench_floor", metadata, Column("id", Integer, primary_key=True), Column("summary", String(300)))


def create_app() -> Flask:
    """The app over DATABASE_URL (`gunicorn 'bench.floor_app:create_app()'`)."""
    engine = make_engine(os.environ["DATABASE_URL"])
    app = Flask(__name__)

    @app.post("/floor")
    def add_row():  # type: ignore[no-untyped-def]
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("summary"), str):
            abort(422)
        with engine.begin() as conn:
            row = {"summary": body["summary"]}
            new_id = conn.execute(insert(floor_row).returning(floor_row.c.id), row).scalar_one()
        return jsonify({"id": new_id}), 201

    return app
