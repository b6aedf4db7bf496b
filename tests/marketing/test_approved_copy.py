from __future__ import annotations

from dataclasses import replace

from marketing.approved_copy import message_text, with_approved_copy
from marketing.campaigns import load_campaigns
from marketing.copy_drafts import CopyDrafts, NewDraft
from marketing.settings import DEFAULT_CAMPAIGNS_PATH
from marketing.store import MarketingStore

DRAFT = NewDraft(
    campaign="buds-pro2-launch",
    variant="text",
    subject="au-buds-pro2",
    tone="亲切",
    segment=None,
    backend="template",
    model="templates",
    text="极光 Buds Pro 2 新品上市，自适应降噪，40 小时续航。",
    failures=(),
    brief="{}",
)


def test_only_approved_copy_replaces_a_variants_message(
    marketing_db: MarketingStore,
) -> None:
    campaign = load_campaigns(DEFAULT_CAMPAIGNS_PATH)["buds-pro2-launch"]
    drafts = CopyDrafts(marketing_db)
    text_id, card_id, _pending = drafts.add(
        [
            DRAFT,
            replace(DRAFT, variant="card", text="卡片摘要"),
            replace(DRAFT, text="待审"),
        ]
    )
    assert with_approved_copy(campaign, drafts) == campaign
    drafts.approve(text_id, "lin")
    drafts.approve(card_id, "lin")
    sent = with_approved_copy(campaign, drafts)
    text, card = sent.variant("text").message, sent.variant("card").message
    assert text.text == f"{DRAFT.text} 👉 {{link}}  回复 TD 退订"
    assert (card.type, card.description) == ("news", "卡片摘要")
    assert card.title == campaign.variant("card").message.title
    assert [v.weight for v in sent.variants] == [v.weight for v in campaign.variants]


def test_the_message_text_puts_the_link_and_opt_out_after_the_copy() -> None:
    assert (
        message_text("好物", "https://t.cn/x") == "好物 👉 https://t.cn/x  回复 TD 退订"
    )
