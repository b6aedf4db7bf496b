"""The base of actions that answer from the catalog, and how they read the context."""

from __future__ import annotations

import functools
from abc import ABC
from collections.abc import Callable
from datetime import date

from rasa_sdk import Tracker

from actions.base import SafeAction
from catalog.budget import parse_budget
from catalog.loader import load_catalog
from catalog.model import Catalog, Product


@functools.lru_cache(maxsize=1)
def shared_catalog() -> Catalog:
    """``data/catalog.yml``, read once per process for every action.

    Each action used to read it on its first call (about 0.1 s of YAML each, a
    dozen actions: the first customers of a fresh action server waited for it).
    A failed read is not kept: the next call tries again.

    Raises:
        catalog.errors.CatalogError: The file is broken.
        OSError: The file cannot be read.
    """
    return load_catalog()


class CatalogAction(SafeAction, ABC):
    """An action reading ``data/catalog.yml``; catalog and clock are injectable.

    rasa-sdk builds actions without arguments, so production uses the defaults and
    tests pass their own catalog and date.
    """

    def __init__(
        self,
        catalog: Catalog | None = None,
        today: Callable[[], date] = date.today,
    ) -> None:
        self._catalog = catalog
        self._today = today

    @property
    def catalog(self) -> Catalog:
        """The catalog, loaded on first use so a broken file costs one apology."""
        if self._catalog is None:
            self._catalog = shared_catalog()
        return self._catalog

    def today(self) -> date:
        """Today's date, from the injected clock."""
        return self._today()

    def product_in_focus(self, tracker: Tracker) -> Product | None:
        """The product the customer means now.

        This turn's ``product`` entity first (NLU's value, which
        ``EntitySynonymMapper`` has mapped to the canonical name when it is a known
        alias), then the ``product`` slot from earlier turns.
        """
        for value in tracker.get_latest_entity_values("product"):
            found = self.catalog.find_product(str(value))
            if found is not None:
                return found
        slot = tracker.get_slot("product")
        return self.catalog.find_product(str(slot)) if slot else None

    def budget_in_focus(self, tracker: Tracker) -> float | None:
        """The customer's budget in CNY: this turn's entity, then the slot.

        ``parse_budget`` normalises the entity's value ("两千以内" -> 2000).
        """
        for value in tracker.get_latest_entity_values("budget"):
            amount = parse_budget(str(value))
            if amount is not None:
                return amount
        slot = tracker.get_slot("budget")
        return parse_budget(str(slot)) if slot else None

    def category_in_focus(self, tracker: Tracker) -> str | None:
        """The canonical product category of this turn, else of the slot."""
        for value in tracker.get_latest_entity_values("product_category"):
            category = self.catalog.normalize_category(str(value))
            if category is not None:
                return category
        slot = tracker.get_slot("product_category")
        return self.catalog.normalize_category(str(slot)) if slot else None
