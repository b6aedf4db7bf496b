"""Generates the NLU synonyms and lookup tables from the catalog (`make nlu-data`).

``data/catalog.yml`` is the one source of the words customers use for products,
categories, cities and campaigns. This tool writes them as Rasa NLU data:

- ``data/nlu/catalog_synonyms.yml``: every alias (and its spaceless spelling)
  mapped to the canonical value, which ``EntitySynonymMapper`` puts on the
  entities that NLU extracted (``x5u`` -> ``极光 X5 Ultra``, ``魔都`` -> ``上海``,
  ``体验官`` -> ``新品体验官招募``);
- ``data/nlu/catalog_lookups.yml``: one lookup table per entity type, read by the
  ``RegexFeaturizer`` of ``configs/diet_baseline.yml``.

Both files say at their top that they are generated; a test fails when they differ
from what this tool writes. Run ``python -m tools.nlu_data --check`` to compare
without writing.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

import yaml

from catalog.errors import CatalogError
from catalog.loader import DEFAULT_CATALOG_PATH, load_catalog
from catalog.model import Catalog

REPO_ROOT = Path(__file__).resolve().parent.parent
NLU_DIR = REPO_ROOT / "data" / "nlu"
SYNONYMS_FILE = "catalog_synonyms.yml"
LOOKUPS_FILE = "catalog_lookups.yml"
HEADER = (
    "# Generated from data/catalog.yml by `make nlu-data`; do not edit.\n"
    "# Change the catalog and run `make nlu-data` (tests/tools/test_nlu_data.py\n"
    "# fails while this file is stale).\n"
)

# (entity type, canonical value, surface forms with the canonical one first)
Entry = tuple[str, str, tuple[str, ...]]


def _spellings(forms: Iterable[str]) -> list[str]:
    """The forms and their spaceless spellings, without case-insensitive repeats."""
    listed = list(forms)
    seen: dict[str, str] = {}
    for spelling in [*listed, *("".join(form.split()) for form in listed)]:
        seen.setdefault(spelling.lower(), spelling)
    return list(seen.values())


def entries(catalog: Catalog) -> list[Entry]:
    """Every canonical value of the catalog's entity types with its forms."""
    found: list[Entry] = []
    found += [("product", p.name, p.surface_forms) for p in catalog.products]
    found += [("product_category", c.name, c.surface_forms) for c in catalog.categories]
    found += [("city", c.name, c.surface_forms) for c in catalog.all_cities]
    found += [("campaign", c.title, c.surface_forms) for c in catalog.campaigns]
    return found


def synonyms(catalog: Catalog) -> list[tuple[str, list[str]]]:
    """Canonical value -> the other spellings that map to it, in catalog order.

    Rasa keeps one synonym table for all entity types and compares lower-cased
    text, so a spelling claimed by two values is an error here rather than a
    silent overwrite there.

    Raises:
        CatalogError: Two canonical values share a spelling.
    """
    owner: dict[str, str] = {}
    result = []
    for _, value, forms in entries(catalog):
        others = [s for s in _spellings(forms) if s.lower() != value.lower()]
        for spelling in [value, *others]:
            claimed = owner.setdefault(spelling.lower(), value)
            if claimed != value:
                raise CatalogError(
                    f"{spelling!r} names both {claimed!r} and {value!r}; NLU "
                    f"synonyms need one meaning per spelling"
                )
        if others:
            result.append((value, others))
    return result


def lookups(catalog: Catalog) -> dict[str, list[str]]:
    """Entity type -> every spelling of its values, in catalog order."""
    tables: dict[str, list[str]] = {}
    for entity, _, forms in entries(catalog):
        tables.setdefault(entity, []).extend(_spellings(forms))
    return tables


def _scalar(text: str) -> str:
    """``text`` as a YAML scalar: plain when that reads back the same, else quoted."""
    try:
        plain_ok = yaml.safe_load(f"k: {text}") == {"k": text}
    except yaml.YAMLError:
        plain_ok = False
    return text if plain_ok else json.dumps(text, ensure_ascii=False)


def _examples(values: Iterable[str]) -> list[str]:
    return ["  examples: |", *(f"    - {v}" for v in values)]


def synonyms_yaml(catalog: Catalog) -> str:
    """The text of ``catalog_synonyms.yml``."""
    lines = [HEADER.rstrip("\n"), 'version: "3.1"', "nlu:"]
    for value, others in synonyms(catalog):
        lines += [f"- synonym: {_scalar(value)}", *_examples(others)]
    return "\n".join(lines) + "\n"


def lookups_yaml(catalog: Catalog) -> str:
    """The text of ``catalog_lookups.yml``."""
    lines = [HEADER.rstrip("\n"), 'version: "3.1"', "nlu:"]
    for entity, values in lookups(catalog).items():
        lines += [f"- lookup: {entity}", *_examples(values)]
    return "\n".join(lines) + "\n"


def generate(catalog: Catalog) -> dict[str, str]:
    """File name -> text of every generated NLU file."""
    return {SYNONYMS_FILE: synonyms_yaml(catalog), LOOKUPS_FILE: lookups_yaml(catalog)}


def write(catalog: Catalog, out_dir: Path) -> list[Path]:
    """Writes the generated files into ``out_dir``; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in generate(catalog).items():
        path = out_dir / name
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def stale(catalog: Catalog, out_dir: Path) -> list[Path]:
    """The generated files in ``out_dir`` that are missing or out of date."""
    return [
        out_dir / name
        for name, text in generate(catalog).items()
        if not (out_dir / name).is_file()
        or (out_dir / name).read_text(encoding="utf-8") != text
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """Writes (or with ``--check`` compares) the generated NLU files."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalog", type=Path, default=DEFAULT_CATALOG_PATH)
    parser.add_argument("--out", type=Path, default=NLU_DIR)
    parser.add_argument(
        "--check", action="store_true", help="only report stale files (exit 1)"
    )
    args = parser.parse_args(argv)
    catalog = load_catalog(args.catalog)
    if args.check:
        outdated = stale(catalog, args.out)
        for path in outdated:
            print(f"stale: {path} (run `make nlu-data`)", file=sys.stderr)
        return 1 if outdated else 0
    for path in write(catalog, args.out):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
