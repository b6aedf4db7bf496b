"""The catalog model on the real data, and the NLU resources that must agree with it.

The NLU synonyms and lookup tables are generated from the catalog
(tests/tools/test_nlu_data.py); the hand-kept jieba dictionary is checked here.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from datetime import date
from typing import Any

import pytest

from catalog.errors import CatalogError
from catalog.loader import DEFAULT_CATALOG_PATH, load_catalog
from catalog.model import Catalog, Category, Product

REPO = DEFAULT_CATALOG_PATH.parent.parent
NLU_DIR = REPO / "data" / "nlu"
JIEBA_DICT = REPO / "data" / "jieba" / "userdict.txt"
TODAY = date(2026, 11, 22)

# The brief's product list: id -> (canonical name, category, aliases customers type).
BRIEF_PRODUCTS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "ph-x5-ultra": ("极光 X5 Ultra", "手机", ("X5 Ultra", "x5u", "X5超大杯")),
    "ph-x5-pro": ("极光 X5 Pro", "手机", ("X5 Pro", "x5pro", "X5P")),
    "ph-x5": ("极光 X5", "手机", ("X5", "x5标准版")),
    "ph-nova12-pro": ("极光 Nova 12 Pro", "手机", ("Nova12 Pro", "nova12pro")),
    "ph-nova12": ("极光 Nova 12", "手机", ("Nova12", "nova 12")),
    "ph-nova12-se": ("极光 Nova 12 SE", "手机", ("Nova12 SE", "nova12se")),
    "ph-a3": ("极光 A3", "手机", ("A3", "极光A3")),
    "ph-flip2": ("极光 Flip 2", "手机", ("Flip 2", "flip2", "折叠屏Flip2")),
    "au-buds-pro2": ("极光 Buds Pro 2", "耳机", ("Buds Pro 2", "budspro2")),
    "au-buds-air3": ("极光 Buds Air 3", "耳机", ("Buds Air 3", "budsair3", "air3")),
    "au-buds-lite": ("极光 Buds Lite", "耳机", ("Buds Lite", "budslite")),
    "au-freeloop": ("极光 FreeLoop", "耳机", ("FreeLoop", "freeloop")),
    "au-studio-max": ("极光 Studio Max", "耳机", ("Studio Max", "studiomax")),
    "wt-watch4-pro": ("极光 Watch 4 Pro", "手表", ("Watch4 Pro", "watch4pro")),
    "wt-watch4": ("极光 Watch 4", "手表", ("Watch4", "watch 4")),
    "wt-band8": ("极光 Band 8", "手表", ("Band8", "手环8")),
    "wt-kids3": ("极光 Kids Watch 3", "手表", ("Kids Watch 3", "儿童手表3")),
    "wt-gt-sport": ("极光 Watch GT Sport", "手表", ("GT Sport", "watch gt")),
    "tb-pad6-pro": ("极光 Pad 6 Pro", "平板", ("Pad6 Pro", "pad6pro")),
    "tb-pad6": ("极光 Pad 6", "平板", ("Pad6", "pad 6")),
    "tb-pad-mini2": ("极光 Pad Mini 2", "平板", ("Pad Mini 2", "padmini")),
    "tb-pad-kids": ("极光 Pad Kids", "平板", ("Pad Kids", "padkids")),
    "lp-book16-pro": ("极光 Book 16 Pro", "笔记本", ("Book16 Pro", "book16pro")),
    "lp-book14": ("极光 Book 14", "笔记本", ("Book14", "book 14")),
    "lp-book-air13": ("极光 Book Air 13", "笔记本", ("Book Air 13", "bookair")),
    "lp-book-x": ("极光 Book X", "笔记本", ("Book X", "bookx")),
    "sp-home-max": ("极光 Home Max", "音箱", ("Home Max", "homemax")),
    "sp-home-mini": ("极光 Home Mini", "音箱", ("Home Mini", "homemini", "小极音箱")),
    "sp-soundbar": ("极光 SoundBar", "音箱", ("SoundBar", "回音壁")),
    "sp-go": ("极光 Go", "音箱", ("Aurora Go", "go音箱")),
    "ch-gan65": ("极光 65W 氮化镓充电器", "充电器", ("65W充电器", "65w氮化镓")),
    "ch-super120": ("极光 120W 超级快充套装", "充电器", ("120W快充", "120w充电器")),
    "ch-magcharge": ("极光 MagCharge", "充电器", ("MagCharge", "磁吸充")),
    "ch-powerbank20k": (
        "极光 20000mAh 充电宝",
        "充电器",
        ("20000毫安充电宝", "2万毫安充电宝"),
    ),
    "ch-cable-c": ("极光 Type-C 数据线", "充电器", ("Type-C数据线", "c口数据线")),
    "ch-3in1": ("极光 三合一无线充电座", "充电器", ("三合一无线充", "三合一充电座")),
    "ac-x5-case": ("极光 X5 手机壳", "配件", ("X5手机壳", "x5壳")),
    "ac-glass": ("极光 钢化膜", "配件", ("钢化膜", "手机膜")),
    "ac-pen2": ("极光 Pen 2", "配件", ("Pen 2", "pen2", "手写笔")),
    "ac-pad6-keyboard": ("极光 Pad 6 键盘套", "配件", ("Pad6键盘", "键盘套")),
    "ac-watch-strap": ("极光 表带", "配件", ("表带",)),
    "ac-car-mount": ("极光 车载支架", "配件", ("车载支架",)),
}

# Category words from the brief's entity conventions.
BRIEF_CATEGORY_FORMS = {
    "手机": "手机 智能手机 新机 机子",
    "耳机": "耳机 蓝牙耳机 无线耳机 降噪耳机",
    "手表": "手表 智能手表 手环 运动手表 儿童手表",
    "平板": "平板 平板电脑 学习平板",
    "笔记本": "笔记本 笔记本电脑 电脑 轻薄本 游戏本",
    "音箱": "音箱 智能音箱 音响 蓝牙音箱",
    "充电器": "充电器 充电头 快充头 充电宝 移动电源 数据线 无线充",
    "配件": "配件 手机壳 保护壳 周边",
}


@pytest.fixture(scope="module")
def real() -> Catalog:
    return load_catalog()


_LOADED = load_catalog()
CATEGORIES = _LOADED.category_names()
CITIES = _LOADED.city_names()


def category_forms(catalog: Catalog) -> set[str]:
    return {f for c in catalog.categories for f in c.surface_forms}


def city_forms(catalog: Catalog) -> set[str]:
    return {f for c in catalog.all_cities for f in c.surface_forms}


def spaceless(text: str) -> str:
    return re.sub(r"\s+", "", text)


# --------------------------------------------------------------------- real data


def test_catalog_has_the_briefs_products(real: Catalog) -> None:
    assert len(real.products) == len(BRIEF_PRODUCTS) == 42
    for product_id, (name, category, aliases) in BRIEF_PRODUCTS.items():
        product = real.product(product_id)
        assert product is not None, product_id
        assert (product.name, product.category) == (name, category)
        assert set(aliases) <= set(product.aliases), product_id


def test_catalog_ids_are_unique_and_every_category_is_stocked(real: Catalog) -> None:
    assert len({p.id for p in real.products}) == len(real.products)
    assert {p.category for p in real.products} == set(CATEGORIES)
    assert [p.category for p in real.products] == sorted(
        (p.category for p in real.products), key=CATEGORIES.index
    )


def test_exactly_three_products_are_sold_out(real: Catalog) -> None:
    sold_out = [p for p in real.products if not p.in_stock]
    assert len(sold_out) == 3
    assert all(p.stock == 0 for p in sold_out)


def test_products_carry_realistic_values(real: Catalog) -> None:
    for p in real.products:
        assert p.original_price is None or p.price <= p.original_price, p.id
        assert 3.5 <= p.rating <= 5.0, p.id
        assert 3 <= len(p.features) <= 5, p.id
        assert p.tags and p.description and p.sales > 0, p.id
        assert p.url == f"https://shop.aurora-demo.cn/p/{p.id}"
        assert p.image_url.startswith("https://")
    price = {p.id: p.price for p in real.products}
    assert 899 <= price["ph-a3"] <= 1299
    assert 5999 <= price["ph-x5-ultra"] <= 7999
    assert 149 <= price["au-buds-lite"] <= 299
    assert 29 <= price["ch-cable-c"] <= 99
    assert 7999 <= price["lp-book16-pro"] <= 10999


def test_promotions_campaigns_stores_and_policies_are_present(real: Catalog) -> None:
    assert 6 <= len(real.promotions) <= 8
    assert 4 <= len(real.campaigns) <= 6
    assert 12 <= len(real.stores) <= 15
    assert sum(len(real.stores_in(c)) == 2 for c in CITIES) >= 3
    assert real.policies["shipping"]["free_shipping_threshold"] == 99
    assert real.policies["returns"]["no_reason_return_days"] == 7
    with pytest.raises(TypeError):
        real.policies["shipping"]["free_shipping_threshold"] = 0  # type: ignore[index]


def test_entries_are_frozen(real: Catalog) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        real.products[0].price = 1  # type: ignore[misc]


# ------------------------------------------------------------------ find_product


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("极光 X5 Ultra", "ph-x5-ultra"),
        ("X5 Pro", "ph-x5-pro"),
        ("x5pro", "ph-x5-pro"),
        ("X5-PRO", "ph-x5-pro"),
        ("ｘ５ ｐｒｏ", "ph-x5-pro"),
        ("X5", "ph-x5"),
        ("x5u", "ph-x5-ultra"),
        ("X5超大杯", "ph-x5-ultra"),
        ("nova 12", "ph-nova12"),
        ("NOVA12 SE", "ph-nova12-se"),
        ("极光A3", "ph-a3"),
        ("padmini", "tb-pad-mini2"),
        ("Pad Mini 2", "tb-pad-mini2"),
        ("手写笔", "ac-pen2"),
        ("回音壁", "sp-soundbar"),
        ("2万毫安充电宝", "ch-powerbank20k"),
        ("type c数据线", "ch-cable-c"),
        # Contained in a message: the longest name or alias wins.
        ("我想看看x5 ultra的价格", "ph-x5-ultra"),
        ("X5 Pro和A3哪个拍照好", "ph-x5-pro"),
        ("x5手机壳有现货吗", "ac-x5-case"),
        ("Nova12 Pro多少钱", "ph-nova12-pro"),
        ("给我妈买个A3", "ph-a3"),
        ("watch gt 续航多久", "wt-gt-sport"),
    ],
)
def test_find_product(real: Catalog, text: str, expected: str) -> None:
    found = real.find_product(text)
    assert found is not None and found.id == expected


@pytest.mark.parametrize(
    "text", ["", "   ", "iPhone 15", "华为Mate", "google", "ha3", "x5promax", "随便"]
)
def test_find_product_unknown(real: Catalog, text: str) -> None:
    assert real.find_product(text) is None


# ------------------------------------------------- categories, cities, promotions


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("手机", "手机"),
        ("蓝牙耳机", "耳机"),
        ("手环", "手表"),
        ("儿童手表", "手表"),
        ("电脑", "笔记本"),
        ("平板电脑", "平板"),
        ("充电宝", "充电器"),
        ("手机壳", "配件"),
        ("音响", "音箱"),
        ("想买个平板电脑", "平板"),
        ("无线充", "充电器"),
        # Typos customers make, annotated as product_category in the NLU data.
        ("耳鸡", "耳机"),
        ("冲电器", "充电器"),
        ("我的耳鸡坏了", "耳机"),
        ("冰箱", None),
        ("", None),
    ],
)
def test_normalize_category(real: Catalog, text: str, expected: str | None) -> None:
    assert real.normalize_category(text) == expected


def test_every_surface_form_normalizes_to_its_category(real: Catalog) -> None:
    assert set(CATEGORIES) == set(BRIEF_CATEGORY_FORMS)
    for category in real.categories:
        forms = category.surface_forms
        assert forms[0] == category.name
        assert set(BRIEF_CATEGORY_FORMS[category.name].split()) <= set(forms)
        for form in forms:
            assert real.normalize_category(form) == category.name, form


@pytest.mark.parametrize(
    ("text", "expected"),
    [("上海", "上海"), ("魔都", "上海"), ("成都市", "成都"), ("我在鹏城", "深圳")],
)
def test_normalize_city(real: Catalog, text: str, expected: str) -> None:
    assert real.normalize_city(text) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("新品体验官招募", "camp-new-tester"),
        ("体验官", "camp-new-tester"),
        ("雙12抽獎", "camp-double12-lottery"),
        ("双12抽奖活动", "camp-double12-lottery"),
        ("积分翻倍", "camp-points-double"),
        ("品鉴会", "camp-store-tasting"),
        ("抽奖", None),
        ("", None),
    ],
)
def test_find_campaign(real: Catalog, value: str, expected: str | None) -> None:
    found = real.find_campaign(value)
    assert (found.id if found else None) == expected


def test_products_in(real: Catalog) -> None:
    phones = real.products_in("手机")
    assert len(phones) == 8 and all(p.category == "手机" for p in phones)
    assert real.products_in("蓝牙耳机") == real.products_in("耳机")
    assert real.products_in(None) == list(real.products)
    assert real.products_in("冰箱") == []


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (
            TODAY,
            {
                "promo-member-day-nov",
                "promo-trade-in",
                "promo-earbuds-half",
                "promo-edu",
                "promo-coupon-1000-100",
            },
        ),
        (date(2026, 12, 5), {"promo-double12", "promo-trade-in", "promo-edu"}),
        (
            date(2026, 11, 11),
            {"promo-double11", "promo-coupon-1000-100"}
            | {"promo-trade-in", "promo-edu"},
        ),
        (date(2027, 6, 1), set()),
    ],
)
def test_live_promotions(real: Catalog, today: date, expected: set[str]) -> None:
    assert {p.id for p in real.live_promotions(today)} == expected


def test_promotions_for(real: Catalog) -> None:
    def ids(product_id: str) -> set[str]:
        product = real.product(product_id)
        assert product is not None
        return {p.id for p in real.promotions_for(product, TODAY)}

    assert "promo-earbuds-half" in ids("au-buds-lite")
    assert "promo-earbuds-half" not in ids("ph-x5")
    assert {"promo-edu", "promo-trade-in"} <= ids("lp-book14")
    assert "promo-trade-in" in ids("ph-a3")
    assert "promo-edu" not in ids("ph-a3")
    assert "promo-coupon-1000-100" in ids("ac-glass")


def test_live_campaigns(real: Catalog) -> None:
    live = {c.id for c in real.live_campaigns(TODAY)}
    assert "camp-new-tester" in live and "camp-summer-run" not in live


def test_stores_in(real: Catalog) -> None:
    beijing = real.stores_in("北京")
    assert len(beijing) == 2 and all(s.city == "北京" for s in beijing)
    assert real.stores_in("帝都") == beijing
    assert real.stores_in("天津") == []
    assert real.stores_in("火星") == []
    assert real.stores_in(None) == list(real.stores)
    assert real.cities()[0] == "北京" and "天津" not in real.cities()
    assert set(real.cities()) <= set(CITIES)


# ------------------------------------------------------------ consistency checks


def test_catalog_constructor_checks_references() -> None:
    product = Product(
        id="p1", name="极光 P1", category="手机", price=1.0, original_price=None,
        aliases=(), tags=(), features=("好用",), description="d", stock=1,
        rating=4.0, sales=1, url="u", image_url="i",
    )  # fmt: skip
    with pytest.raises(CatalogError, match="duplicate product id 'p1'"):
        Catalog((product, product), (), (), (), {}, (Category("手机", ()),), ())
    with pytest.raises(CatalogError, match="product 'p1': unknown category '手机'"):
        Catalog((product,), (), (), (), {}, (), ())
    earbuds = Category("耳机", ("蓝牙耳机",))
    with pytest.raises(CatalogError, match="alias '蓝牙耳机' is already used"):
        Catalog((), (), (), (), {}, (earbuds, Category("音箱", ("蓝牙耳机",))), ())


# ------------------------------------------------------------------ NLU resources


def _load_nlu(name: str) -> Any:
    from rasa.shared.nlu.training_data.loading import load_data

    logging.getLogger("rasa").setLevel(logging.ERROR)
    return load_data(str(NLU_DIR / name))


def test_regexes_match_phone_numbers_and_order_ids() -> None:
    regexes = {r["name"]: r["pattern"] for r in _load_nlu("regexes.yml").regex_features}
    phone, order = re.compile(regexes["phone_number"]), re.compile(regexes["order_id"])
    for text in ["13812345678", "138 1234 5678", "我的号是139-0000-1234哈"]:
        assert phone.search(text), text
    for text in ["12812345678", "1381234567", "138123456789", "138  1234 5678"]:
        assert not phone.search(text), text
    for text in ["AU20261118123456", "订单au20261118123456到哪了"]:
        assert order.search(text), text
    for text in ["AU2026111812345", "AU202611181234567", "XAU20261118123456"]:
        assert not order.search(text), text


# ------------------------------------------------------------------ jieba dictionary


def _jieba_words() -> dict[str, int]:
    words: dict[str, int] = {}
    for line in JIEBA_DICT.read_text(encoding="utf-8").splitlines():
        word, freq, tag = line.split(" ")
        assert re.fullmatch(r"[a-z]+", tag), line
        words[word] = int(freq)
    return words


def test_jieba_dictionary_holds_the_domain_words(real: Catalog) -> None:
    words = _jieba_words()
    expected = category_forms(real) | city_forms(real)
    expected |= {"以旧换新", "七天无理由", "氮化镓", "顺丰"}
    for product in real.products:
        # ASCII runs ("x5pro") stay whole in jieba anyway; listing them would only
        # split longer words ("google" -> "go" + "ogle").
        expected |= {spaceless(f) for f in product.surface_forms if not f.isascii()}
    missing = {w for w in expected if words.get(w, 0) <= 0}
    assert not missing


def test_jieba_keeps_aliases_and_category_words_whole(real: Catalog) -> None:
    import jieba

    jieba.setLogLevel(logging.ERROR)
    tokenizer = jieba.Tokenizer()
    tokenizer.load_userdict(str(JIEBA_DICT))
    forms = {spaceless(f) for p in real.products for f in p.surface_forms}
    forms |= category_forms(real)
    for form in forms:
        assert tokenizer.lcut(form) == [form], form
    assert tokenizer.lcut("我想买手机")[-2:] == ["买", "手机"]
    assert "上海" in tokenizer.lcut("上海市有门店吗")
