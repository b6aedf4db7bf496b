"""The admin API's JSON: report rows and series as plain JSON values.

Dataclasses become objects, amounts (:class:`~decimal.Decimal`) strings so no
cent is lost to a float, dates ISO 8601.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal
from typing import Any


def jsonable(value: Any) -> Any:
    """``value`` with every dataclass, amount and date turned into JSON values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)
        }
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value
