"""The NLU synonyms and lookup tables are generated from the catalog, and current."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

import pytest

from catalog.errors import CatalogError
from catalog.loader import load_catalog
from catalog.model import Catalog, Category
from tools import nlu_data


def _load(path: Path) -> Any:
    from rasa.shared.nlu.training_data.loading import load_data

    logging.getLogger("rasa").setLevel(logging.ERROR)
    return load_data(str(path))


@pytest.fixture(scope="module")
def real() -> Catalog:
    return load_catalog()


def test_committed_files_are_what_the_catalog_generates(
    real: Catalog, tmp_path: Path
) -> None:
    written = nlu_data.write(real, tmp_path)
    assert [p.name for p in written] == [nlu_data.SYNONYMS_FILE, nlu_data.LOOKUPS_FILE]
    for path in written:
        committed = nlu_data.NLU_DIR / path.name
        assert committed.read_text(encoding="utf-8") == path.read_text(
            encoding="utf-8"
        ), f"{committed} is stale: run `make nlu-data`"
        assert committed.read_text(encoding="utf-8").startswith(nlu_data.HEADER)
    assert nlu_data.main(["--check", "--out", str(nlu_data.NLU_DIR)]) == 0


def test_check_reports_stale_files(real: Catalog, tmp_path: Path) -> None:
    assert nlu_data.main(["--check", "--out", str(tmp_path)]) == 1
    nlu_data.write(real, tmp_path)
    (tmp_path / nlu_data.LOOKUPS_FILE).write_text("edited\n", encoding="utf-8")
    assert nlu_data.stale(real, tmp_path) == [tmp_path / nlu_data.LOOKUPS_FILE]


def test_synonyms_map_every_alias_to_its_canonical_value(
    real: Catalog, tmp_path: Path
) -> None:
    nlu_data.write(real, tmp_path)
    loaded = _load(tmp_path / nlu_data.SYNONYMS_FILE).entity_synonyms.items()
    synonyms = {form.lower(): value for form, value in loaded}
    for product in real.products:
        for form in (product.short_name, *product.aliases):
            if form.lower() != product.name.lower():
                assert synonyms[form.lower()] == product.name, form
        assert synonyms["".join(product.name.split()).lower()] == product.name
    for category in real.categories:
        for form in category.aliases:
            assert synonyms[form.lower()] == category.name, form
    assert synonyms["魔都"] == "上海" and synonyms["帝都"] == "北京"
    assert synonyms["体验官"] == "新品体验官招募"
    assert synonyms["雙12抽獎"] == "双12预约抽奖"
    assert all(form != value.lower() for form, value in synonyms.items())


def test_lookups_list_every_form_per_entity_type(real: Catalog, tmp_path: Path) -> None:
    nlu_data.write(real, tmp_path)
    tables = {
        t["name"]: set(t["elements"])
        for t in _load(tmp_path / nlu_data.LOOKUPS_FILE).lookup_tables
    }
    assert set(tables) == {"product", "product_category", "city", "campaign"}
    for product in real.products:
        assert set(product.surface_forms) <= tables["product"], product.id
    assert {f for c in real.categories for f in c.surface_forms} == tables[
        "product_category"
    ]
    assert {f for c in real.all_cities for f in c.surface_forms} == tables["city"]
    assert {f for c in real.campaigns for f in c.surface_forms} == tables["campaign"]


def test_a_spelling_with_two_meanings_is_refused(real: Catalog) -> None:
    # "A3" is a product's short name; a category may not claim it too.
    clash = Category("手机", (*real.categories[0].aliases, "a3"))
    broken = dataclasses.replace(real, categories=(clash, *real.categories[1:]))
    with pytest.raises(CatalogError, match="names both"):
        nlu_data.synonyms(broken)


def test_values_that_yaml_would_misread_are_quoted() -> None:
    assert nlu_data._scalar("极光 X5") == "极光 X5"
    assert nlu_data._scalar("yes") == '"yes"'
    assert nlu_data._scalar("a: b") == '"a: b"'
