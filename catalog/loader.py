"""Reads and validates ``data/catalog.yml`` into an ``catalog.model.Catalog``.

The YAML is read once, field by field, so a broken data file fails loudly with
the file, the entry and the field to fix (actions load it on first use and answer
with an apology meanwhile). Pure standard library
plus PyYAML; no Rasa imports.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from datetime import date, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

import yaml

from catalog.errors import CatalogError
from catalog.model import (
    Campaign,
    Catalog,
    Category,
    City,
    Product,
    Promotion,
    Store,
)

DEFAULT_CATALOG_PATH = Path(__file__).resolve().parent.parent / "data" / "catalog.yml"


class _Entry:
    """Typed reads from one YAML mapping; errors name the entry and the field."""

    def __init__(self, raw: object, where: str) -> None:
        if not isinstance(raw, dict):
            raise CatalogError(f"{where}: expected a mapping, got {type(raw).__name__}")
        self.raw: dict[Any, Any] = raw
        self.where = where
        for key in ("id", "name"):  # categories and cities have no id
            if isinstance(ident := raw.get(key), str):
                self.where = f"{where} ({key} {ident!r})"
                break

    def error(self, key: str, problem: str) -> CatalogError:
        return CatalogError(f"{self.where}: field {key!r} {problem}")

    def get(self, key: str, kind: type | tuple[type, ...], name: str) -> Any:
        value = self.raw.get(key)
        if value is None:
            raise self.error(key, "is missing")
        is_bool = isinstance(value, bool)
        if (is_bool and kind is not bool) or not isinstance(value, kind):
            raise self.error(key, f"must be {name}, got {type(value).__name__}")
        return value

    def text(self, key: str) -> str:
        value: str = self.get(key, str, "a string").strip()
        if not value:
            raise self.error(key, "must not be empty")
        return value

    def number(self, key: str) -> float:
        return float(self.get(key, (int, float), "a number"))

    def optional_number(self, key: str) -> float | None:
        return None if self.raw.get(key) is None else self.number(key)

    def integer(self, key: str) -> int:
        value: int = self.get(key, int, "an integer")
        return value

    def flag(self, key: str) -> bool:
        value: bool = self.get(key, bool, "true or false")
        return value

    def day(self, key: str) -> date:
        value = self.get(key, (date, str), "an ISO date (YYYY-MM-DD)")
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(value)
        except ValueError as e:
            raise self.error(key, f"is not an ISO date: {value!r}") from e

    def texts(self, key: str) -> tuple[str, ...]:
        """A list of strings; a missing list reads as empty."""
        if self.raw.get(key) is None:
            return ()
        values = self.get(key, list, "a list")
        if not all(isinstance(v, str) and v.strip() for v in values):
            raise self.error(key, "must hold non-empty strings only")
        return tuple(v.strip() for v in values)


# How each annotated dataclass field type is read (the annotations are strings
# because ``catalog.model`` uses ``from __future__ import annotations``).
_READERS: dict[str, Callable[[_Entry, str], Any]] = {
    "str": _Entry.text,
    "float": _Entry.number,
    "float | None": _Entry.optional_number,
    "int": _Entry.integer,
    "bool": _Entry.flag,
    "date": _Entry.day,
    "tuple[str, ...]": _Entry.texts,
}

_Record = TypeVar("_Record", Product, Promotion, Campaign, Store, Category, City)


def _read(cls: type[_Record], raw: object, where: str) -> _Record:
    """Reads one entry into ``cls``, field by field, rejecting unknown fields."""
    entry = _Entry(raw, where)
    fields = dataclasses.fields(cls)
    known = {f.name for f in fields}
    if unknown := sorted(str(k) for k in entry.raw if k not in known):
        raise CatalogError(f"{entry.where}: unknown fields {unknown}")
    # Range and cross-field checks live in the dataclasses; their errors name the id.
    return cls(**{f.name: _READERS[str(f.type)](entry, f.name) for f in fields})


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return MappingProxyType({str(k): _freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


def _entries(
    raw: Mapping[Any, Any], name: str, cls: type[_Record]
) -> tuple[_Record, ...]:
    entries = raw.get(name)
    if not isinstance(entries, list):
        raise CatalogError(f"{name!r} must be a list, got {type(entries).__name__}")
    return tuple(_read(cls, e, f"{name}[{i}]") for i, e in enumerate(entries))


_SECTIONS = (
    "categories",
    "products",
    "promotions",
    "campaigns",
    "cities",
    "stores",
    "policies",
)


def parse_catalog(raw: object) -> Catalog:
    """Builds a catalog from already parsed YAML data.

    Args:
        raw: The document: a mapping with ``categories``, ``products``,
            ``promotions``, ``campaigns``, ``cities``, ``stores`` and ``policies``.

    Returns:
        The validated catalog.

    Raises:
        CatalogError: A field is missing or ill-typed, an id is duplicated, or a
            value is out of range or refers to something unknown.
    """
    if not isinstance(raw, dict):
        raise CatalogError(f"expected a mapping at the top, got {type(raw).__name__}")
    if unknown := sorted(str(k) for k in raw if k not in _SECTIONS):
        raise CatalogError(f"unknown top-level keys {unknown}, expected {_SECTIONS}")
    policies = raw.get("policies")
    if not isinstance(policies, dict) or not all(
        isinstance(section, dict) for section in policies.values()
    ):
        raise CatalogError("'policies' must map each policy name to a mapping")
    products = _entries(raw, "products", Product)
    if not products:
        raise CatalogError("'products' must not be empty")
    return Catalog(
        products=products,
        promotions=_entries(raw, "promotions", Promotion),
        campaigns=_entries(raw, "campaigns", Campaign),
        stores=_entries(raw, "stores", Store),
        policies=_freeze(policies),
        categories=_entries(raw, "categories", Category),
        all_cities=_entries(raw, "cities", City),
    )


def load_catalog(path: Path | str = DEFAULT_CATALOG_PATH) -> Catalog:
    """Reads and validates a catalog file.

    Args:
        path: The YAML file; ``data/catalog.yml`` of this repository by default.

    Returns:
        The validated catalog.

    Raises:
        CatalogError: The file cannot be read, is not valid YAML, or holds invalid
            data; the message names the file, the entry and the field.
    """
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise CatalogError(f"cannot read catalog {path}: {e}") from e
    except yaml.YAMLError as e:
        raise CatalogError(f"{path}: invalid YAML: {e}") from e
    try:
        return parse_catalog(raw)
    except CatalogError as e:
        raise CatalogError(f"{path}: {e}") from e
