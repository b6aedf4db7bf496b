"""Reading ``data/catalog.yml``: errors name the file, the entry and the field."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from catalog.errors import CatalogError
from catalog.loader import DEFAULT_CATALOG_PATH, load_catalog


def test_the_repository_catalog_loads_by_default() -> None:
    assert len(load_catalog().products) == 42


# ------------------------------------------------------------------ invalid data

CatalogFactory = Callable[[Callable[[dict[str, Any]], None]], Path]


@pytest.fixture
def write_catalog(tmp_path: Path) -> CatalogFactory:
    """Writes the real catalog, changed by ``edit``, to a file in ``tmp_path``."""
    original = yaml.safe_load(DEFAULT_CATALOG_PATH.read_text(encoding="utf-8"))

    def factory(edit: Callable[[dict[str, Any]], None]) -> Path:
        data = copy.deepcopy(original)
        edit(data)
        path = tmp_path / "catalog.yml"
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        return path

    return factory


def _set(section: str, index: int, key: str, value: Any) -> Callable[[Any], None]:
    def edit(data: dict[str, Any]) -> None:
        data[section][index][key] = value

    return edit


def _drop(section: str, index: int, key: str) -> Callable[[Any], None]:
    def edit(data: dict[str, Any]) -> None:
        del data[section][index][key]

    return edit


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (_set("products", 1, "id", "ph-x5-ultra"), "duplicate product id 'ph-x5-u"),
        (_set("products", 6, "category", "冰箱"), "product 'ph-a3': unknown category"),
        (
            _set("promotions", 2, "product_ids", ["lp-book14", "lp-nope"]),
            r"promotion 'promo-trade-in': unknown product_ids \['lp-nope'\]",
        ),
        (_drop("products", 6, "price"), r"products\[6\] \(id 'ph-a3'\): field 'price'"),
        (
            _set("products", 6, "price", "999元"),
            r"'ph-a3'\): field 'price' must be a number, got str",
        ),
        (_set("products", 6, "stock", True), "field 'stock' must be an integer"),
        (_set("products", 6, "price", 1999), "product 'ph-a3': price 1999.0 exceeds"),
        (_set("products", 6, "colour", "red"), r"'ph-a3'\): unknown fields \['colour"),
        (_set("products", 6, "aliases", "A3"), "field 'aliases' must be a list"),
        (_set("products", 7, "aliases", ["A3"]), "alias 'A3' is already used"),
        (_set("promotions", 0, "kind", "lottery"), "'promo-double12': unknown kind"),
        (_set("promotions", 0, "end", "2026-11-31"), "field 'end' is not an ISO date"),
        (_set("promotions", 0, "end", "2026-11-01"), "start 2026-12-01 is after end"),
        (_set("promotions", 0, "categories", ["冰箱"]), "unknown categories"),
        (_drop("campaigns", 0, "requires_contact"), "'requires_contact' is missing"),
        (_set("stores", 0, "city", "纽约"), "store 'st-bj-sanlitun': unknown city"),
        (_set("stores", 1, "id", "st-bj-sanlitun"), "duplicate store id"),
    ],
)
def test_invalid_catalog_names_the_entry(
    write_catalog: CatalogFactory, edit: Callable[[Any], None], message: str
) -> None:
    path = write_catalog(edit)
    with pytest.raises(CatalogError, match=message) as error:
        load_catalog(path)
    assert str(path) in str(error.value)


def test_invalid_top_level(write_catalog: CatalogFactory) -> None:
    with pytest.raises(CatalogError, match="'stores' must be a list"):
        load_catalog(write_catalog(lambda data: data.update(stores={})))
    with pytest.raises(CatalogError, match="unknown top-level keys"):
        load_catalog(write_catalog(lambda data: data.update(extra=[])))
    with pytest.raises(CatalogError, match="'products' must not be empty"):
        load_catalog(write_catalog(lambda data: data.update(products=[])))


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="cannot read catalog"):
        load_catalog(tmp_path / "missing.yml")
    broken = tmp_path / "broken.yml"
    broken.write_text("products: [\n", encoding="utf-8")
    with pytest.raises(CatalogError, match="invalid YAML"):
        load_catalog(broken)
    empty = tmp_path / "empty.yml"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(CatalogError, match="expected a mapping"):
        load_catalog(empty)
