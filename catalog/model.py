"""The store catalog's typed model: products, promotions, campaigns, stores, policies.

Frozen dataclasses that check their own values on construction, so actions get
typed, immutable values and an inconsistent catalog fails loudly with the entry
and field to fix. Reading ``data/catalog.yml`` lives in ``catalog.loader``.
Pure standard library; no Rasa imports.

The category and city surface-form tables live here and nowhere else: the NLU
synonyms and lookups in ``data/nlu/`` are checked against them by the tests.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Any

BRAND_PREFIX = "极光"

CATEGORIES: tuple[str, ...] = (
    "手机",
    "耳机",
    "手表",
    "平板",
    "笔记本",
    "音箱",
    "充电器",
    "配件",
)

# Words customers type for each category, canonical value first, common typos
# last. Data-file checks (synonyms, lookups, jieba dictionary) compare against
# this one table.
CATEGORY_SURFACE_FORMS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "手机": ("手机", "智能手机", "新机", "机子", "折叠屏手机"),
        "耳机": (
            "耳机",
            "蓝牙耳机",
            "无线耳机",
            "降噪耳机",
            "头戴耳机",
            "运动耳机",
            "耳鸡",
        ),
        "手表": (
            "手表",
            "智能手表",
            "手环",
            "智能手环",
            "运动手表",
            "儿童手表",
            "电话手表",
        ),
        "平板": ("平板", "平板电脑", "学习平板"),
        "笔记本": ("笔记本", "笔记本电脑", "电脑", "轻薄本", "游戏本"),
        "音箱": ("音箱", "智能音箱", "音响", "蓝牙音箱"),
        "充电器": (
            "充电器",
            "充电头",
            "快充头",
            "充电宝",
            "移动电源",
            "数据线",
            "充电线",
            "无线充",
            "冲电器",
        ),
        "配件": (
            "配件",
            "手机壳",
            "手机套",
            "保护壳",
            "保护套",
            "手机配件",
            "周边",
            "贴膜",
        ),
    }
)

CITIES: tuple[str, ...] = (
    "北京",
    "上海",
    "广州",
    "深圳",
    "杭州",
    "成都",
    "武汉",
    "南京",
    "西安",
    "重庆",
    "苏州",
    "天津",
)

CITY_NICKNAMES: Mapping[str, str] = MappingProxyType(
    {
        "帝都": "北京",
        "魔都": "上海",
        "羊城": "广州",
        "鹏城": "深圳",
        "杭城": "杭州",
        "蓉城": "成都",
        "山城": "重庆",
    }
)

PROMOTION_KINDS: tuple[str, ...] = ("discount", "coupon", "gift", "trade_in", "bundle")

# Spaces and hyphen-like marks carry no meaning in names ("X5-Pro", "x5 pro").
_IGNORED = re.compile(r"[\s\-‐‑‒–—_]+")


class CatalogError(ValueError):
    """The catalog data is invalid; the message names the entry and the field."""


def _key(text: str) -> str:
    """Folds ``text`` for matching: NFKC, case-folded, no spaces or hyphens."""
    return _IGNORED.sub("", unicodedata.normalize("NFKC", text).casefold())


def _is_ascii_word_char(char: str) -> bool:
    return char.isascii() and char.isalnum()


def _pattern(key: str) -> re.Pattern[str]:
    """Finds ``key`` in folded text that may still hold spaces or hyphens.

    Latin/digit edges must not be glued to more Latin/digits, so ``x5`` is not found
    inside ``x5pro`` and ``go`` not inside ``google``.
    """
    body = r"[\s\-‐‑‒–—_]*".join(re.escape(char) for char in key)
    before = r"(?<![a-z0-9])" if _is_ascii_word_char(key[0]) else ""
    after = r"(?![a-z0-9])" if _is_ascii_word_char(key[-1]) else ""
    return re.compile(before + body + after)


def _fold_text(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


_CATEGORY_BY_FORM: dict[str, str] = {
    _key(form): category
    for category, forms in CATEGORY_SURFACE_FORMS.items()
    for form in forms
}
_CITY_BY_FORM: dict[str, str] = {city: city for city in CITIES} | dict(CITY_NICKNAMES)


def _lookup(text: str, table: Mapping[str, str]) -> str | None:
    """Exact form first, else the longest form contained in ``text``."""
    key = _key(text)
    if not key:
        return None
    if key in table:
        return table[key]
    contained = [form for form in table if form in key]
    return table[max(contained, key=len)] if contained else None


def normalize_category(text: str) -> str | None:
    """Maps a category word customers type to its canonical category.

    Args:
        text: A surface form such as ``蓝牙耳机`` or ``充电宝``, or a phrase holding
            one (``想买个平板电脑``).

    Returns:
        One of ``CATEGORIES``, or ``None`` when no category word is found.
    """
    return _lookup(text, _CATEGORY_BY_FORM)


def normalize_city(text: str) -> str | None:
    """Maps a city name or nickname (``魔都``, ``成都市``) to its canonical name.

    Args:
        text: The city as typed, or a phrase holding it.

    Returns:
        One of ``CITIES``, or ``None`` when no known city is found.
    """
    return _lookup(text, _CITY_BY_FORM)


def _in_window(start: date, end: date, today: date) -> bool:
    return start <= today <= end


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
        if self.category not in CATEGORIES:
            problem = f"unknown category {self.category!r}, expected {CATEGORIES}"
        elif self.price <= 0:
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
        """Name, short name and aliases, without case/spacing-insensitive repeats."""
        seen: dict[str, str] = {}
        for form in (self.name, self.short_name, *self.aliases):
            seen.setdefault(form.casefold(), form)
        return tuple(seen.values())


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
        elif unknown := [c for c in self.categories if c not in CATEGORIES]:
            problem = f"unknown categories {unknown}"
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


@dataclass(frozen=True)
class Store:
    """An offline store."""

    id: str
    city: str
    name: str
    address: str
    hours: str
    phone: str

    def __post_init__(self) -> None:
        if self.city not in CITIES:
            raise CatalogError(
                f"store {self.id!r}: unknown city {self.city!r}, expected {CITIES}"
            )


def _unique(kind: str, ids: list[str]) -> None:
    seen: set[str] = set()
    for ident in ids:
        if ident in seen:
            raise CatalogError(f"duplicate {kind} id {ident!r}")
        seen.add(ident)


@dataclass(frozen=True)
class Catalog:
    """The whole catalog, checked for consistency across entries on construction."""

    products: tuple[Product, ...]
    promotions: tuple[Promotion, ...]
    campaigns: tuple[Campaign, ...]
    stores: tuple[Store, ...]
    policies: Mapping[str, Mapping[str, Any]]
    _by_form: dict[str, Product] = field(init=False, repr=False, compare=False)
    _patterns: tuple[tuple[re.Pattern[str], Product], ...] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        _unique("product", [p.id for p in self.products])
        _unique("promotion", [p.id for p in self.promotions])
        _unique("campaign", [c.id for c in self.campaigns])
        _unique("store", [s.id for s in self.stores])
        known = {p.id for p in self.products}
        for promotion in self.promotions:
            if dangling := [i for i in promotion.product_ids if i not in known]:
                raise CatalogError(
                    f"promotion {promotion.id!r}: unknown product_ids {dangling}"
                )
        by_form: dict[str, Product] = {}
        for product in self.products:
            for form in product.surface_forms:
                owner = by_form.setdefault(_key(form), product)
                if owner is not product:
                    raise CatalogError(
                        f"product {product.id!r}: alias {form!r} is already used by "
                        f"product {owner.id!r}"
                    )
        longest_first = sorted(by_form.items(), key=lambda item: -len(item[0]))
        object.__setattr__(self, "_by_form", by_form)
        object.__setattr__(
            self, "_patterns", tuple((_pattern(k), p) for k, p in longest_first)
        )

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
        exact = self._by_form.get(_key(text))
        if exact is not None:
            return exact
        folded = _fold_text(text)
        matches = (p for pattern, p in self._patterns if pattern.search(folded))
        return next(matches, None)

    def products_in(self, category: str | None = None) -> list[Product]:
        """Products of a category (any surface form), or all products for ``None``."""
        if category is None:
            return list(self.products)
        canonical = normalize_category(category)
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
        canonical = normalize_city(city)
        return [s for s in self.stores if s.city == canonical]

    def cities(self) -> list[str]:
        """Cities with at least one store, in the order of ``CITIES``."""
        present = {s.city for s in self.stores}
        return [city for city in CITIES if city in present]
