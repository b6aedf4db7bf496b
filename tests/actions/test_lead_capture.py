"""Stored leads (consents, sealed number, score) and idempotent campaign sign-ups."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.lead_form import ActionSubmitLead
from actions.promotion_actions import ActionListCampaigns
from actions.subscription import ActionUnsubscribe
from catalog.model import Catalog
from marketing.lead_scoring import LeadSignals, lead_score
from marketing.outbox import MarketingOutbox
from marketing.store import MarketingStore
from outbox.queue import DurableQueue
from tests.actions.conftest import TODAY, TrackerFactory, texts
from tests.marketing.fixtures import broken_store

FORM = {
    "contact_name": "刘先生/女士",
    "phone_number": "13912345678",
    "callback_consent": True,
    "marketing_consent": True,
}
RESET = [SlotSet("callback_consent", None), SlotSet("marketing_consent", None)]


async def test_lead_is_stored_with_consent_and_score(
    dispatcher: CollectingDispatcher,
    make_tracker: TrackerFactory,
    marketing_db: MarketingStore,
) -> None:
    slots = {**FORM, "product": "极光 X5", "budget": "4000"}
    events = await ActionSubmitLead().run(dispatcher, make_tracker(slots=slots), {})
    [lead] = marketing_db.leads("u1")
    assert (lead.name, lead.phone, lead.consent) == ("刘先生/女士", "13912345678", True)
    assert lead.marketing_consent is True and lead.campaign is None
    assert lead.consent_at is not None and lead.marketing_consent_at is not None
    assert lead.score == lead_score(LeadSignals(product=True, budget=True))
    # From now on the conversation holds the masked number only.
    assert events == [SlotSet("phone_number", "139****5678"), *RESET]
    assert texts(dispatcher) == [
        "收到，刘先生/女士！我们的顾问会在 1 个工作日内与您联系。还有什么可以帮您的吗？"
    ]


async def test_a_no_to_promotions_still_keeps_the_lead(
    dispatcher: CollectingDispatcher,
    make_tracker: TrackerFactory,
    marketing_db: MarketingStore,
) -> None:
    tracker = make_tracker(slots={**FORM, "marketing_consent": False})
    await ActionSubmitLead().run(dispatcher, tracker, {})
    [lead] = marketing_db.leads("u1")
    assert lead.marketing_consent is False and lead.marketing_consent_at is not None
    assert [m["response"] for m in dispatcher.messages] == ["utter_lead_received"]


@pytest.mark.parametrize("answer", [False, None])
async def test_without_callback_consent_nothing_is_kept(
    answer: bool | None,
    dispatcher: CollectingDispatcher,
    make_tracker: TrackerFactory,
    marketing_db: MarketingStore,
) -> None:
    tracker = make_tracker(slots={**FORM, "callback_consent": answer})
    events = await ActionSubmitLead().run(dispatcher, tracker, {})
    assert marketing_db.leads("u1") == []
    assert events == [SlotSet("phone_number", None), *RESET]
    assert [m["response"] for m in dispatcher.messages] == ["utter_lead_not_stored"]


async def test_opted_out_lead_has_no_marketing_consent(
    dispatcher: CollectingDispatcher,
    make_tracker: TrackerFactory,
    marketing_db: MarketingStore,
) -> None:
    tracker = make_tracker(
        slots={**FORM, "marketing_opt_out": True, "marketing_consent": None}
    )
    await ActionSubmitLead().run(dispatcher, tracker, {})
    [lead] = marketing_db.leads("u1")
    assert lead.marketing_consent is False and lead.marketing_consent_at is None


async def test_campaign_sign_up_is_registered_once(
    catalog: Catalog,
    make_tracker: TrackerFactory,
    marketing_db: MarketingStore,
) -> None:
    listing = CollectingDispatcher()
    ask = make_tracker(
        "我要报名双12预约抽奖", "join_campaign", [("campaign", "双12预约抽奖")]
    )
    events = await ActionListCampaigns(catalog, lambda: TODAY).run(listing, ask, {})
    assert events == [SlotSet("campaign_id", "camp-double12-lottery")]
    assert "可以为您报名「双12预约抽奖」" in texts(listing)[0]
    form = make_tracker(slots={**FORM, "campaign_id": "camp-double12-lottery"})
    for _ in range(2):
        await ActionSubmitLead().run(CollectingDispatcher(), form, {})
    assert marketing_db.campaigns_of("u1") == {"camp-double12-lottery"}
    again = CollectingDispatcher()
    await ActionListCampaigns(catalog, lambda: TODAY).run(again, ask, {})
    assert "已经报名了「双12预约抽奖」" in texts(again)[0]


async def test_without_a_named_campaign_the_first_needing_contact_is_chosen(
    catalog: Catalog, dispatcher: CollectingDispatcher, make_tracker: TrackerFactory
) -> None:
    tracker = make_tracker("有什么活动可以参加", "join_campaign")
    events = await ActionListCampaigns(catalog, lambda: TODAY).run(
        dispatcher, tracker, {}
    )
    first = next(c for c in catalog.live_campaigns(TODAY) if c.requires_contact)
    assert events == [SlotSet("campaign_id", first.id)]


async def test_a_campaign_alias_from_nlu_chooses_that_campaign(
    catalog: Catalog, dispatcher: CollectingDispatcher, make_tracker: TrackerFactory
) -> None:
    # EntitySynonymMapper gives the title; an unmapped alias is normalised too.
    for value in ("会员积分翻倍", "積分翻倍"):
        tracker = make_tracker(
            "积分翻倍怎么参加", "join_campaign", [("campaign", value)]
        )
        events = await ActionListCampaigns(catalog, lambda: TODAY).run(
            dispatcher, tracker, {}
        )
        assert events == [SlotSet("campaign_id", "camp-points-double")]


async def test_a_named_campaign_that_is_closed_is_not_chosen(
    catalog: Catalog, dispatcher: CollectingDispatcher, make_tracker: TrackerFactory
) -> None:
    tracker = make_tracker(
        "夜跑挑战还能报吗", "join_campaign", [("campaign", "夜跑挑战")]
    )
    events = await ActionListCampaigns(catalog, lambda: TODAY).run(
        dispatcher, tracker, {}
    )
    first = next(c for c in catalog.live_campaigns(TODAY) if c.requires_contact)
    assert events == [SlotSet("campaign_id", first.id)]


async def test_a_campaign_in_the_text_without_an_entity_is_not_guessed(
    catalog: Catalog, dispatcher: CollectingDispatcher, make_tracker: TrackerFactory
) -> None:
    tracker = make_tracker("积分翻倍怎么参加", "join_campaign")
    events = await ActionListCampaigns(catalog, lambda: TODAY).run(
        dispatcher, tracker, {}
    )
    assert events != [SlotSet("campaign_id", "camp-points-double")]


async def test_lead_with_the_database_down_is_queued_and_thanked(
    dispatcher: CollectingDispatcher,
    make_tracker: TrackerFactory,
    marketing_db: MarketingStore,
) -> None:
    slots = {**FORM, "campaign_id": "camp-double12-lottery"}
    down = ActionSubmitLead(store=broken_store)
    events = await down.run(dispatcher, make_tracker(slots=slots), {})
    assert events[0] == SlotSet("phone_number", "139****5678")
    assert [m["response"] for m in dispatcher.messages] == ["utter_lead_received"]
    assert down.outbox.pending() == 2  # the lead and the sign-up
    assert marketing_db.leads("u1") == []
    # The next action that writes, with the database back, replays them first.
    await ActionUnsubscribe().run(CollectingDispatcher(), make_tracker(), {})
    assert down.outbox.pending() == 0
    assert [lead.phone for lead in marketing_db.leads("u1")] == ["13912345678"]
    assert marketing_db.campaigns_of("u1") == {"camp-double12-lottery"}


async def test_lead_lost_by_database_and_outbox_gets_an_apology(
    tmp_path: Path, dispatcher: CollectingDispatcher, make_tracker: TrackerFactory
) -> None:
    queue = DurableQueue(tmp_path / "outbox.db")
    (tmp_path / "outbox.db").unlink()
    (tmp_path / "outbox.db").mkdir()  # the outbox file cannot be opened any more
    action = ActionSubmitLead(store=broken_store, outbox=MarketingOutbox(queue))
    events = await action.run(dispatcher, make_tracker(slots=FORM), {})
    assert [m["response"] for m in dispatcher.messages] == ["utter_lead_failed"]
    assert events == [SlotSet("phone_number", None), *RESET]


async def test_a_retried_turn_stores_its_lead_once(
    make_tracker: TrackerFactory, marketing_db: MarketingStore
) -> None:
    tracker = make_tracker(slots=FORM)
    tracker.events.append({"event": "user", "timestamp": 1764000000.5, "text": "否"})
    for _ in range(2):
        await ActionSubmitLead().run(CollectingDispatcher(), tracker, {})
    assert len(marketing_db.leads("u1")) == 1


def test_lead_score_rewards_intent_and_stays_in_range() -> None:
    cold = lead_score(LeadSignals())
    warm = lead_score(LeadSignals(True, True, True, 10, True, "positive"))
    unhappy = lead_score(LeadSignals(sentiment="negative"))
    assert 0.0 <= unhappy < cold < warm <= 1.0
