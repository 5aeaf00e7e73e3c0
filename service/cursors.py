"""Opaque pagination cursors: where the next page starts, as URL-safe text.

A cursor is base64url-encoded JSON. It is not signed: editing one only moves within what the
same key may read anyway, and every field is checked on the way back in, so a damaged cursor
is a 422 naming ``cursor``, never a 500.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from service.problems import Problem


def encode_cursor(position: dict[str, Any]) -> str:
    raw = json.dumps(position, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, fields: dict[str, type]) -> dict[str, Any]:
    """The cursor's position; 422 unless it holds exactly ``fields`` with those types."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        position = json.loads(raw)
    except (binascii.Error, ValueError):
        position = None
    if (
        not isinstance(position, dict)
        or set(position) != set(fields)
        or not all(
            type(position[name]) is kind for name, kind in fields.items()
        )  # bool is not int here
    ):
        raise Problem.invalid(
            "query", "cursor", "not a cursor this endpoint issued; use `next_cursor` as given"
        )
    return position
