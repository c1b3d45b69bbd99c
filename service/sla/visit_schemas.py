"""Schemas of site visits: the optional position a check-in or check-out carries, and the visit."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema


class PositionSchema(Schema):
    """Where the device was, sent only when its person allowed it: both `lat` and `lon`, or neither."""

    lat = fields.Float(allow_nan=False, validate=validate.Range(-90, 90), metadata={"minimum": -90, "maximum": 90})
    lon = fields.Float(allow_nan=False, validate=validate.Range(-180, 180), metadata={"minimum": -180, "maximum": 180})

    @validates_schema
    def _both_or_neither(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if ("lat" in data) != ("lon" in data):
            missing = "lon" if "lat" in data else "lat"
            raise ValidationError("Send both lat and lon, or neither.", field_name=missing)


def _position(lat: float | None, lon: float | None) -> dict[str, float] | None:
    return {"lat": lat, "lon": lon} if lat is not None and lon is not None else None


class SiteVisitSchema(Schema):
    """A visit: when the engineer checked in and out, where (when sent), and the hours its check-out booked."""

    id = fields.Integer()
    task = fields.String(attribute="task_id")
    engineer = fields.String()
    checked_in_at = fields.DateTime()
    checked_out_at = fields.DateTime(allow_none=True)
    checked_in_position = fields.Function(
        lambda visit: _position(visit.in_lat, visit.in_lon), metadata={"type": "object", "nullable": True}
    )
    checked_out_position = fields.Function(
        lambda visit: _position(visit.out_lat, visit.out_lon), metadata={"type": "object", "nullable": True}
    )
    time_entry = fields.Integer(attribute="time_entry_id", allow_none=True)
    hours = fields.Function(
        lambda visit: float(visit.time_entry.hours) if visit.time_entry is not None else None,
        metadata={"type": "number", "nullable": True},
    )
