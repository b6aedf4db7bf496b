"""The trained bot over HTTP, started the way ``make run`` starts it.

Marked ``e2e``: ``make test`` runs these after ``rasa train``. They start the action
server and ``rasa run`` on free loopback ports and talk to the REST channel (the
development credentials, ``credentials.dev.yml``: ``make run`` serves no REST).
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from rasa.shared.core.domain import Domain

from marketing import daily_activity
from marketing.profiles import build_profiles
from marketing.store import CLICK, IMPRESSION, Interaction, MarketingStore
from tests.e2e_servers import running_bot
from tools.bot_servers import marketing_url

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bot's folder: its endpoints file and marketing store."""
    return tmp_path_factory.mktemp("e2e")


@pytest.fixture(scope="module")
def webhook(folder: Path) -> Iterator[str]:
    """Starts the action server and the bot; yields the REST webhook URL."""
    if not list((ROOT / "models").glob("*.tar.gz")):
        pytest.fail("no trained model in models/: run `make train` first")
    with running_bot(
        folder,
        ROOT / "credentials.dev.yml",
        ROOT / "models",
        name="e2e",
        ready_path="/status",
    ) as base:
        yield base + "/webhooks/rest/webhook"


@pytest.fixture(scope="module")
def responses() -> dict[str, list[str]]:
    domain = Domain.load(str(ROOT / "domain.yml"))
    return {name: [v["text"] for v in vs] for name, vs in domain.responses.items()}


def say(webhook: str, sender: str, message: str) -> list[str]:
    """Sends one message; returns the texts of the bot's replies."""
    body = json.dumps({"sender": sender, "message": message}).encode("utf-8")
    request = urllib.request.Request(
        webhook, data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == 200
        replies: list[dict[str, Any]] = json.loads(response.read())
    return [r.get("text", "") for r in replies]


def test_greeting_in_chinese(webhook: str, responses: dict[str, list[str]]) -> None:
    replies = say(webhook, "e2e-greet", "你好")
    assert replies and replies[0] in responses["utter_greet"]


def test_price_question_is_answered_from_the_catalog(webhook: str) -> None:
    [reply] = say(webhook, "e2e-price", "X5 Pro多少钱")
    assert reply.startswith("极光 X5 Pro 现价 ¥")


def test_a_message_is_recorded_as_activity_for_profiles(
    webhook: str, folder: Path
) -> None:
    say(webhook, "e2e-activity", "Buds Pro 2 耳机多少钱")
    store = MarketingStore.from_url(marketing_url(folder))
    deadline = time.monotonic() + 15  # the broker writes in the background
    profile = None
    while time.monotonic() < deadline:
        profile = build_profiles(store, store.now()).get("e2e-activity")
        if profile is not None and profile.intents:
            break
        time.sleep(0.5)
    store.engine.dispose()
    assert profile is not None
    assert profile.intents == {"ask_price"}
    assert profile.categories == {"耳机"}
    assert profile.last_active_at is not None


def test_a_question_about_a_shown_item_is_its_click_logged_off_the_turn(
    webhook: str, folder: Path
) -> None:
    # The reply of action_price_info carries the follow-up marker; the activity
    # broker logs the click against the impression, and the action run.
    sender = "e2e-click"
    store = MarketingStore.from_url(marketing_url(folder))
    shown_at = store.now() - timedelta(hours=1)
    store.log(
        [Interaction(sender, "au-buds-pro2", IMPRESSION, "hybrid", None, "e2e-trk",
                     shown_at)]
    )  # fmt: skip
    [reply] = say(webhook, sender, "Buds Pro 2 多少钱")
    assert "Buds Pro 2" in reply
    deadline = time.monotonic() + 15  # the broker writes in the background
    clicks: list[Interaction] = []
    while time.monotonic() < deadline and not clicks:
        clicks = [i for i in store.history(sender) if i.event == CLICK]
        time.sleep(0.5)
    ran = daily_activity.user_days(
        store, shown_at.date(), store.now().date(), user_id=sender
    )
    store.engine.dispose()
    assert [(c.item_id, c.tracking_id) for c in clicks] == [("au-buds-pro2", "e2e-trk")]
    assert sum(day.actions for day in ran) >= 1


def test_lead_form_collects_and_validates_contact_details(
    webhook: str, responses: dict[str, list[str]]
) -> None:
    sender = "e2e-lead"
    assert (
        say(webhook, sender, "我想留个电话，让顾问联系我")
        == responses["utter_ask_contact_name"]
    )
    assert say(webhook, sender, "我姓王") == responses["utter_ask_callback_consent"]
    assert say(webhook, sender, "同意") == responses["utter_ask_phone_number"]
    assert say(webhook, sender, "138123") == (
        responses["utter_invalid_phone_number"] + responses["utter_ask_phone_number"]
    )
    assert (
        say(webhook, sender, "13812345678") == responses["utter_ask_marketing_consent"]
    )
    [thanks] = say(webhook, sender, "不用了")
    assert thanks.startswith("收到，王先生/女士！")


def test_lead_form_without_callback_consent_keeps_no_number(
    webhook: str, responses: dict[str, list[str]]
) -> None:
    sender = "e2e-lead-no-consent"
    say(webhook, sender, "我想留个电话，让顾问联系我")
    assert say(webhook, sender, "我姓李") == responses["utter_ask_callback_consent"]
    assert say(webhook, sender, "不同意") == responses["utter_lead_not_stored"]


@pytest.mark.parametrize(
    "message", ["", "😀😀😀", "？？？", "嗯" * 10_000, "<xml>&amp;</xml>"]
)
def test_odd_messages_get_a_reply_not_an_error(webhook: str, message: str) -> None:
    replies = say(webhook, f"e2e-odd-{len(message)}", message)
    assert replies and all(replies)
