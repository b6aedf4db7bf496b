from __future__ import annotations

from rasa_sdk.executor import CollectingDispatcher

from actions.copy_actions import ActionGenerateReply
from catalog.model import Catalog
from marketing.copy_drafts import CopyDrafts, NewDraft
from marketing.store import IMPRESSION, MarketingStore
from tests.actions.conftest import TODAY, TrackerFactory, texts
from tests.marketing.fixtures import broken_store

WARM = "极光 X5 Pro 直降 300 元，现在入手正合适，轻薄机身拍照清晰，欢迎来店里看看真机～"


def _action(catalog: Catalog) -> ActionGenerateReply:
    return ActionGenerateReply(catalog, lambda: TODAY)


def _draft(subject: str, tone: str, text: str) -> NewDraft:
    return NewDraft(
        campaign="x5-pro-push",
        variant="default",
        subject=subject,
        tone=tone,
        segment=None,
        backend="transformers",
        model="qwen",
        text=text,
        failures=(),
        brief="{}",
    )


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


async def test_approved_copy_for_a_product_is_shown_with_a_tracked_link(
    catalog: Catalog,
    dispatcher: CollectingDispatcher,
    make_tracker: TrackerFactory,
    marketing_db: MarketingStore,
) -> None:
    drafts = CopyDrafts(marketing_db)
    approved, pending, calm = drafts.add(
        [
            _draft("ph-x5-pro", "热情", WARM),
            _draft("ph-x5-pro", "热情", "未审核的文案"),
            _draft("ph-x5-pro", "温和", "极光 X5 Pro 供您参考。"),
        ]
    )
    drafts.approve(approved, "lin")
    drafts.approve(calm, "lin")
    tracker = make_tracker(
        "X5 Pro有优惠吗", "ask_promotion", [("product", "极光 X5 Pro")],
        slots={"sentiment": "positive"},
    )  # fmt: skip
    await _action(catalog).run(dispatcher, tracker, {})
    [text] = texts(dispatcher)
    # The approved copy in the customer's tone; never the pending one.
    assert text.startswith(WARM) and "未审核" not in text
    [impression] = marketing_db.history("u1")
    assert impression.variant == f"copy-{approved}"
    assert impression.item_id == "ph-x5-pro"
    assert f"trk={impression.tracking_id}" in text
    assert pending not in (approved, calm)


async def test_approved_copy_no_longer_true_is_not_shown(
    catalog: Catalog,
    dispatcher: CollectingDispatcher,
    make_tracker: TrackerFactory,
    marketing_db: MarketingStore,
) -> None:
    drafts = CopyDrafts(marketing_db)
    stale = WARM.replace("直降 300 元", "直降 500 元")  # the price has changed
    [draft_id] = drafts.add([_draft("ph-x5-pro", "热情", stale)])
    drafts.approve(draft_id, "lin")
    tracker = make_tracker(
        "X5 Pro有优惠吗", "ask_promotion", [("product", "极光 X5 Pro")],
        slots={"sentiment": "positive"},
    )  # fmt: skip
    await _action(catalog).run(dispatcher, tracker, {})
    assert "直降 500 元" not in texts(dispatcher)[0]
    assert marketing_db.history("u1")[0].variant == "template"


async def test_without_approved_copy_in_the_tone_the_template_answers(
    catalog: Catalog,
    dispatcher: CollectingDispatcher,
    make_tracker: TrackerFactory,
    marketing_db: MarketingStore,
) -> None:
    drafts = CopyDrafts(marketing_db)
    [warm] = drafts.add([_draft("ph-x5-pro", "热情", "极光 X5 Pro 冲鸭！")])
    drafts.approve(warm, "lin")
    tracker = make_tracker(
        "X5 Pro有优惠吗", "ask_promotion", [("product", "极光 X5 Pro")],
        slots={"sentiment": "negative"},
    )  # fmt: skip
    await _action(catalog).run(dispatcher, tracker, {})
    [text] = texts(dispatcher)
    assert "冲鸭" not in text and "极光 X5 Pro" in text
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
