"""The store catalog's typed model: products, promotions, campaigns, stores, policies.

Frozen dataclasses that check their own values on construction, so actions get
typed, immutable values and an inconsistent catalog fails loudly with the entry
and field to fix. Reading ``data/catalog.yml`` lives in ``catalog.loader``.
Pure standard library; no Rasa imports.

Categories, cities and every word customers use for a product, category, city
or campaign are data (``data/catalog.yml``), the one source that ``tools.nlu_data``
generates the NLU synonyms and lookup tables from. At run time the model only
normalises values that NLU already extracted (``Catalog.normalize_category``);
how spellings are folded and matched lives in ``catalog.surface_forms``.

One module of about 380 lines: the entry types and the ``Catalog`` that checks
the references between them (promotions to products and categories, unique ids
and spellings) are read and changed together.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from catalog.errors import CatalogError
from catalog.surface_forms import (
    fold_key,
    fold_text,
    form_pattern,
    forms_table,
    lookup,
    unique_forms,
)

BRAND_PREFIX = "极光"

PROMOTION_KINDS: tuple[str, ...] = ("discount", "coupon", "gift", "trade_in", "bundle")


def _in_window(start: date, end: date, today: date) -> bool:
    return start <= today <= end


@dataclass(frozen=True)
class AliasedName:
    """A canonical name and the other words customers use for it."""

    name: str
    aliases: tuple[str, ...]

    @property
    def surface_forms(self) -> tuple[str, ...]:
        """Name first, then the aliases, without case-insensitive repeats."""
        return unique_forms((self.name, *self.aliases))


class Category(AliasedName):
    """A product category: its canonical name and the other words for it."""


class City(AliasedName):
    """A city the store may have shops in: its name and nicknames (``魔都``)."""


@dataclass(frozen=True)
class Product:
    """One product of the store; prices in CNY, ``stock == 0`` means sold out."""

    id: str
    name: str
    category: str
    price: float
    original_price: float | None
    aliases: tuple[str, ...]
    tags: tuple[str, ...]
    features: tuple[str, ...]
    description: str
    stock: int
    rating: float
    sales: int
    url: str
    image_url: str

    def __post_init__(self) -> None:
        problem = None
        if self.price <= 0:
            problem = f"price must be positive, got {self.price}"
        elif self.original_price is not None and self.price > self.original_price:
            problem = f"price {self.price} exceeds original_price {self.original_price}"
        elif self.stock < 0:
            problem = f"stock must not be negative, got {self.stock}"
        elif not 0 <= self.rating <= 5:
            problem = f"rating must be within 0-5, got {self.rating}"
        elif self.sales < 0:
            problem = f"sales must not be negative, got {self.sales}"
        elif not self.features:
            problem = "features must list at least one selling point"
        if problem:
            raise CatalogError(f"product {self.id!r}: {problem}")

    @property
    def in_stock(self) -> bool:
        """Whether the product can be ordered now."""
        return self.stock > 0

    @property
    def short_name(self) -> str:
        """The name without the brand prefix (``极光 X5 Pro`` -> ``X5 Pro``)."""
        return self.name.removeprefix(BRAND_PREFIX).strip() or self.name

    @property
    def surface_forms(self) -> tuple[str, ...]:
        """Name, short name and aliases, without case-insensitive repeats."""
        return unique_forms((self.name, self.short_name, *self.aliases))


@dataclass(frozen=True)
class Promotion:
    """A sales promotion; empty ``categories`` and ``product_ids`` mean storewide."""

    id: str
    title: str
    description: str
    start: date
    end: date
    kind: str
    categories: tuple[str, ...]
    product_ids: tuple[str, ...]
    terms: str

    def __post_init__(self) -> None:
        problem = None
        if self.kind not in PROMOTION_KINDS:
            problem = f"unknown kind {self.kind!r}, expected one of {PROMOTION_KINDS}"
        elif self.start > self.end:
            problem = f"start {self.start} is after end {self.end}"
        if problem:
            raise CatalogError(f"promotion {self.id!r}: {problem}")

    def is_live(self, today: date) -> bool:
        """Whether ``today`` lies within the promotion (both ends inclusive)."""
        return _in_window(self.start, self.end, today)

    def applies_to(self, product: Product) -> bool:
        """Whether the promotion covers ``product`` (by category or by id)."""
        if not self.categories and not self.product_ids:
            return True
        return product.category in self.categories or product.id in self.product_ids


@dataclass(frozen=True)
class Campaign:
    """A marketing campaign customers can sign up for."""

    id: str
    title: str
    aliases: tuple[str, ...]
    description: str
    start: date
    end: date
    reward: str
    requires_contact: bool

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise CatalogError(
                f"campaign {self.id!r}: start {self.start} is after end {self.end}"
            )

    def is_live(self, today: date) -> bool:
        """Whether sign-ups are open on ``today`` (both ends inclusive)."""
        return _in_window(self.start, self.end, today)

    @property
    def name(self) -> str:
        """The title: the canonical value of the ``campaign`` entity."""
        return self.title

    @property
    def surface_forms(self) -> tuple[str, ...]:
        """Title first, then the aliases, without case-insensitive repeats."""
        return unique_forms((self.title, *self.aliases))


@dataclass(frozen=True)
class Store:
    """An offline store."""

    id: str
    city: str
    name: str
    address: str
    hours: str
    phone: str


def _unique(kind: str, ids: list[str]) -> None:
    seen: set[str] = set()
    for ident in ids:
        if ident in seen:
            raise CatalogError(f"duplicate {kind} id {ident!r}")
        seen.add(ident)


@dataclass(frozen=True)
class Catalog:
    """The whole catalog, checked for consistency across entries on construction.

    ``categories`` and ``all_cities`` are the known categories and cities in
    display order; products, promotions and stores must use their names.
    """

    products: tuple[Product, ...]
    promotions: tuple[Promotion, ...]
    campaigns: tuple[Campaign, ...]
    stores: tuple[Store, ...]
    policies: Mapping[str, Mapping[str, Any]]
    categories: tuple[Category, ...]
    all_cities: tuple[City, ...]
    _by_form: dict[str, Product] = field(init=False, repr=False, compare=False)
    _category_by_form: dict[str, str] = field(init=False, repr=False, compare=False)
    _city_by_form: dict[str, str] = field(init=False, repr=False, compare=False)
    _campaign_by_form: dict[str, str] = field(init=False, repr=False, compare=False)
    _patterns: tuple[tuple[re.Pattern[str], Product], ...] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        _unique("product", [p.id for p in self.products])
        _unique("promotion", [p.id for p in self.promotions])
        _unique("campaign", [c.id for c in self.campaigns])
        _unique("store", [s.id for s in self.stores])
        self._check_categories_and_cities()
        known = {p.id for p in self.products}
        for promotion in self.promotions:
            if dangling := [i for i in promotion.product_ids if i not in known]:
                raise CatalogError(
                    f"promotion {promotion.id!r}: unknown product_ids {dangling}"
                )
        by_form: dict[str, Product] = {}
        for product in self.products:
            for form in product.surface_forms:
                owner = by_form.setdefault(fold_key(form), product)
                if owner is not product:
                    raise CatalogError(
                        f"product {product.id!r}: alias {form!r} is already used by "
                        f"product {owner.id!r}"
                    )
        longest_first = sorted(by_form.items(), key=lambda item: -len(item[0]))
        object.__setattr__(self, "_by_form", by_form)
        object.__setattr__(
            self, "_patterns", tuple((form_pattern(k), p) for k, p in longest_first)
        )
        tables = {
            "_category_by_form": forms_table("category", self.categories),
            "_city_by_form": forms_table("city", self.all_cities),
            "_campaign_by_form": forms_table("campaign", self.campaigns),
        }
        for name, table in tables.items():
            object.__setattr__(self, name, table)

    def _check_categories_and_cities(self) -> None:
        _unique("category", [c.name for c in self.categories])
        _unique("city", [c.name for c in self.all_cities])
        categories, cities = self.category_names(), self.city_names()
        for product in self.products:
            if product.category not in categories:
                raise CatalogError(
                    f"product {product.id!r}: unknown category "
                    f"{product.category!r}, expected {categories}"
                )
        for promotion in self.promotions:
            if unknown := [c for c in promotion.categories if c not in categories]:
                raise CatalogError(
                    f"promotion {promotion.id!r}: unknown categories {unknown}"
                )
        for store in self.stores:
            if store.city not in cities:
                raise CatalogError(
                    f"store {store.id!r}: unknown city {store.city!r}, "
                    f"expected {cities}"
                )

    def category_names(self) -> tuple[str, ...]:
        """The canonical category names, in display order."""
        return tuple(c.name for c in self.categories)

    def city_names(self) -> tuple[str, ...]:
        """The canonical names of the known cities, in display order."""
        return tuple(c.name for c in self.all_cities)

    def normalize_category(self, value: str) -> str | None:
        """The canonical category of a category entity value.

        Args:
            value: A name or alias (``蓝牙耳机``, ``充电宝``), or a tagged span that
                holds one (``平板电脑吧``); case, width and spaces are ignored.

        Returns:
            The category name, or ``None`` when no name or alias matches.
        """
        return lookup(value, self._category_by_form)

    def normalize_city(self, value: str) -> str | None:
        """The canonical city of a city entity value (``魔都``, ``成都市``)."""
        return lookup(value, self._city_by_form)

    def find_campaign(self, value: str) -> Campaign | None:
        """The campaign a campaign entity value names, by title or alias.

        Args:
            value: The title (what ``EntitySynonymMapper`` maps aliases to), an
                alias, or a tagged span that holds one (``双12抽奖活动``).

        Returns:
            The campaign, or ``None`` when no title or alias matches.
        """
        title = lookup(value, self._campaign_by_form)
        return next((c for c in self.campaigns if c.title == title), None)

    def product(self, product_id: str) -> Product | None:
        """Returns the product with id ``product_id``, if any."""
        return next((p for p in self.products if p.id == product_id), None)

    def promotion(self, promotion_id: str) -> Promotion | None:
        """Returns the promotion with id ``promotion_id``, if any."""
        return next((p for p in self.promotions if p.id == promotion_id), None)

    def campaign(self, campaign_id: str) -> Campaign | None:
        """Returns the campaign with id ``campaign_id``, if any."""
        return next((c for c in self.campaigns if c.id == campaign_id), None)

    def find_product(self, text: str) -> Product | None:
        """Finds the product a customer means by name or alias.

        Matching ignores case, spaces and hyphens. A text equal to a name or alias
        wins; otherwise the longest name or alias contained in the text.

        Args:
            text: An entity value (``x5 pro``) or a whole message (``X5Pro多少钱``).

        Returns:
            The product, or ``None`` when no name or alias matches.
        """
        exact = self._by_form.get(fold_key(text))
        if exact is not None:
            return exact
        folded = fold_text(text)
        matches = (p for pattern, p in self._patterns if pattern.search(folded))
        return next(matches, None)

    def products_mentioned(self, text: str) -> list[Product]:
        """Every product ``text`` names, longest spelling first, each once.

        A matched spelling is blanked before shorter ones are tried, so
        ``X5 Pro`` names the X5 Pro only, not also the X5.
        """
        return self._scan(text)[0]

    def without_product_names(self, text: str) -> str:
        """``text`` folded (NFKC, case-folded) with every product name blanked.

        What is left of a copy once the "5" of "X5" is no longer a number in it.
        """
        return self._scan(text)[1]

    def _scan(self, text: str) -> tuple[list[Product], str]:
        folded = fold_text(text)
        found: list[Product] = []
        for pattern, product in self._patterns:
            if pattern.search(folded):
                folded = pattern.sub(" ", folded)
                if product not in found:
                    found.append(product)
        return found, folded

    def products_in(self, category: str | None = None) -> list[Product]:
        """Products of a category (any surface form), or all products for ``None``."""
        if category is None:
            return list(self.products)
        canonical = self.normalize_category(category)
        return [p for p in self.products if p.category == canonical]

    def live_promotions(self, today: date) -> list[Promotion]:
        """Promotions running on ``today``."""
        return [p for p in self.promotions if p.is_live(today)]

    def promotions_for(self, product: Product, today: date) -> list[Promotion]:
        """Promotions running on ``today`` that cover ``product``."""
        return [p for p in self.live_promotions(today) if p.applies_to(product)]

    def live_campaigns(self, today: date) -> list[Campaign]:
        """Campaigns open for sign-up on ``today``."""
        return [c for c in self.campaigns if c.is_live(today)]

    def stores_in(self, city: str | None = None) -> list[Store]:
        """Stores in a city (canonical name or nickname), or all stores for ``None``."""
        if city is None:
            return list(self.stores)
        canonical = self.normalize_city(city)
        return [s for s in self.stores if s.city == canonical]

    def cities(self) -> list[str]:
        """Cities with at least one store, in the order of ``all_cities``."""
        present = {s.city for s in self.stores}
        return [city for city in self.city_names() if city in present]
