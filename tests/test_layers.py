"""The layers the tree shows: thin Rasa adapters over plain packages, one way.

``actions/``, ``channels/`` and ``components/`` are what Rasa loads; each of their
modules is an adapter and imports Rasa. The plain packages beside them hold the
logic, import no Rasa (rasa, rasa_sdk, sanic) at any depth, and never import an
adapter, so they can be used and tested without a Rasa process.
"""

from __future__ import annotations

import ast
import subprocess

import pytest

from tests.test_import_cycles import ROOT, import_graph, project_modules

ADAPTERS = ("actions", "channels", "components")
PLAIN = (
    "catalog",
    "copywriting",
    "marketing",
    "nlu",
    "outbox",
    "privacy",
    "recommender",
    "rich_reply",
    "servers",
    "telemetry",
    "wechat",
)
RASA = ("rasa", "rasa_sdk", "sanic")


def third_party_roots(module: str) -> set[str]:
    """Top-level names of everything ``module`` imports (at any depth)."""
    tree = ast.parse(project_modules()[module].read_text(encoding="utf-8"))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def package_of(module: str) -> str:
    return module.split(".")[0]


def modules_in(packages: tuple[str, ...]) -> list[str]:
    return [m for m in project_modules() if package_of(m) in packages]


@pytest.mark.parametrize("module", modules_in(PLAIN))
def test_plain_packages_import_neither_rasa_nor_an_adapter(module: str) -> None:
    assert not third_party_roots(module) & set(RASA)
    adapters = {m for m in import_graph()[module] if package_of(m) in ADAPTERS}
    assert not adapters


@pytest.mark.parametrize(
    "module", [m for m in modules_in(ADAPTERS) if m not in ADAPTERS]
)
def test_every_adapter_module_is_rasa_facing(module: str) -> None:
    # Logic that needs no Rasa belongs in a plain package.
    assert third_party_roots(module) & set(RASA), f"{module} imports no Rasa"


def test_every_top_level_package_is_classified() -> None:
    packages = {p.name for p in ROOT.iterdir() if (p / "__init__.py").is_file()}
    assert packages == {*ADAPTERS, *PLAIN, "benchmarks", "tools", "tests"}


def test_the_readme_layout_lists_every_top_level_folder() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Project layout", 1)[1].split("```", 2)[1]
    listed = {
        line.split("/")[0]
        for line in section.splitlines()
        if line and not line.startswith((" ", ".")) and line.split()[0].endswith("/")
    }
    files = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    tracked = {f.split("/")[0] for f in files if "/" in f and not f.startswith(".")}
    assert listed == tracked
