from __future__ import annotations

import asyncio

from rasa_sdk.executor import CollectingDispatcher

from actions.copy_actions import ActionGenerateReply
from catalog.model import Catalog
from copywriting.generator import GuardedGenerator
from copywriting.request import CopyRequest
from copywriting.templates import TemplateGenerator
from marketing.store import IMPRESSION, MarketingStore
from tests.actions.conftest import TODAY, TrackerFactory, texts
from tests.marketing.fixtures import broken_store


class Slow:
    async def generate(self, request: CopyRequest) -> str:
        await asyncio.sleep(5)
        return "late"


class Model:
    def __init__(self) -> None:
        self.requests: list[CopyRequest] = []

    async def generate(self, request: CopyRequest) -> str:
        self.requests.append(request)
        return f"顶级好物{request.title}，全网最低！"


def _action(catalog: Catalog, backend: object = None) -> ActionGenerateReply:
    generator = GuardedGenerator(backend, TemplateGenerator(), 0.2)  # type: ignore[arg-type]
    return ActionGenerateReply(catalog, lambda: TODAY, generator=generator)


async def test_copy_for_the_live_campaign_is_sent_and_logged(
    catalog: Catalog,
    dispatcher: CollectingDispatcher,
    make_tracker: TrackerFactory,
    marketing_db: MarketingStore,
) -> None:
    await _action(catalog).run(
        dispatcher, make_tracker("有啥活动", "ask_promotion"), {}
    )
    [text] = texts(dispatcher)
    first_live = catalog.live_campaigns(TODAY)[0]
    assert first_live.title in text
    [impression] = marketing_db.history("u1")
    assert impression.event == IMPRESSION and impression.variant == "template"
    assert impression.campaign == impression.item_id == first_live.id


async def test_model_copy_for_a_product_is_compliant_with_a_tracked_link(
    catalog: Catalog,
    dispatcher: CollectingDispatcher,
    make_tracker: TrackerFactory,
    marketing_db: MarketingStore,
) -> None:
    model = Model()
    tracker = make_tracker(
        "X5 Pro有优惠吗", "ask_promotion", [("product", "极光 X5 Pro")],
        slots={"sentiment": "positive"},
    )  # fmt: skip
    await _action(catalog, model).run(dispatcher, tracker, {})
    [text] = texts(dispatcher)
    assert "极光 X5 Pro" in text and "顶级" not in text and "最" not in text
    [impression] = marketing_db.history("u1")
    assert impression.variant == "model" and impression.item_id == "ph-x5-pro"
    assert f"trk={impression.tracking_id}" in text
    assert model.requests[0].tone == "热情"


async def test_slow_backend_still_answers_with_the_template(
    catalog: Catalog,
    dispatcher: CollectingDispatcher,
    make_tracker: TrackerFactory,
    marketing_db: MarketingStore,
) -> None:
    await _action(catalog, Slow()).run(dispatcher, make_tracker("优惠"), {})
    assert texts(dispatcher)
    assert marketing_db.history("u1")[0].variant == "template"


async def test_category_in_focus_picks_its_promotion(
    catalog: Catalog, dispatcher: CollectingDispatcher, make_tracker: TrackerFactory
) -> None:
    tracker = make_tracker("耳机有活动吗", "x", [("product_category", "耳机")])
    await _action(catalog).run(dispatcher, tracker, {})
    assert "耳机第二件半价" in texts(dispatcher)[0]


async def test_opted_out_customers_get_no_copy(
    catalog: Catalog,
    dispatcher: CollectingDispatcher,
    make_tracker: TrackerFactory,
    marketing_db: MarketingStore,
) -> None:
    by_slot = make_tracker("优惠", slots={"marketing_opt_out": True})
    await _action(catalog).run(dispatcher, by_slot, {})
    marketing_db.opt_out("u2")
    by_store = make_tracker("优惠", sender_id="u2")
    await _action(catalog).run(dispatcher, by_store, {})
    assert dispatcher.messages == []
    assert marketing_db.history("u1") == marketing_db.history("u2") == []


async def test_with_the_database_down_no_promotion_is_risked(
    catalog: Catalog, dispatcher: CollectingDispatcher, make_tracker: TrackerFactory
) -> None:
    action = ActionGenerateReply(catalog, lambda: TODAY, store=broken_store)
    assert await action.run(dispatcher, make_tracker("优惠"), {}) == []
    assert dispatcher.messages == []
