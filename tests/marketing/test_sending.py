from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest

from marketing.send_plan import (
    CUSTOMER_SERVICE,
    NO_CONSENT,
    NO_TEMPLATE,
    OPTED_OUT,
    TEMPLATE,
    UNSUBSCRIBED,
)
from marketing.store import MarketingStore
from tests.marketing.sending_helpers import (
    AB_WITH_TEMPLATE,
    NOW,
    PLAIN,
    TRACKING_BASE,
    active,
    client_for,
    count_rows,
    dormant,
    impressions,
    send_rows,
    sender,
    variant_of,
)
from tests.wechat.fakes import APP_ID, APP_SECRET
from tools.wechat_sim.fake_api import FakeWeChatApi
from wechat.api_client import WeChatApiClient
from wechat.storage import MemoryStore


@pytest.fixture
async def client(fake_api: FakeWeChatApi) -> AsyncIterator[WeChatApiClient]:
    """The real API client, pointed at the stand-in."""
    api = client_for(fake_api)
    yield api
    await api.close()


class Crash(BaseException):
    """The process dying: no handler of the sender catches it."""


class CrashingApi:
    """Passes calls to the real client; the call after ``survive`` ones "dies"."""

    def __init__(self, client: WeChatApiClient, survive: int) -> None:
        self.client = client
        self.survive = survive

    async def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        if self.survive == 0:
            raise Crash
        self.survive -= 1
        return await self.client.post(path, body)


async def test_each_follower_gets_the_channel_wechat_allows(
    marketing_db: MarketingStore, fake_api: FakeWeChatApi, client: WeChatApiClient
) -> None:
    recipients = [
        active("u-active"),
        dormant("u-consent", marketing_consent=True),
        dormant("u-no-consent"),
        active("u-opted-out", opted_out=True),
        active("u-gone", subscribed=False),
    ]
    summary = await sender(marketing_db, client).send(AB_WITH_TEMPLATE, recipients, NOW)
    assert [d.openid for d in fake_api.deliveries] == ["u-active"]
    assert [d.openid for d in fake_api.template_deliveries] == ["u-consent"]
    assert summary.outcomes == {(("sent", CUSTOMER_SERVICE)): 1, ("sent", TEMPLATE): 1}
    assert summary.not_planned == {NO_CONSENT: 1, OPTED_OUT: 1, UNSUBSCRIBED: 1}
    # Only planned followers get a row: the others are reconsidered next time.
    assert set(send_rows(marketing_db)) == {"u-active", "u-consent"}


async def test_outside_the_window_without_a_template_nothing_is_sent(
    marketing_db: MarketingStore, fake_api: FakeWeChatApi, client: WeChatApiClient
) -> None:
    summary = await sender(marketing_db, client).send(
        PLAIN, [dormant("u1", marketing_consent=True)], NOW
    )
    assert fake_api.send_calls == 0
    assert summary.not_planned == {NO_TEMPLATE: 1}


async def test_the_message_carries_the_tracked_link_and_the_impression_is_logged(
    marketing_db: MarketingStore, fake_api: FakeWeChatApi, client: WeChatApiClient
) -> None:
    users = [f"u{i}" for i in range(12)]
    await sender(marketing_db, client).send(
        AB_WITH_TEMPLATE, [active(u) for u in users], NOW
    )
    rows = send_rows(marketing_db)
    logged = {i["user_id"]: i for i in impressions(marketing_db)}
    assert len(logged) == len(users)
    for user in users:
        row = rows[user]
        link = f"{TRACKING_BASE}/t/{row['tracking_id']}"
        assert row["status"] == "sent" and row["variant"] == variant_of(
            AB_WITH_TEMPLATE, user
        )
        (delivery,) = fake_api.messages_for(user)
        if row["variant"] == "A":
            assert delivery.body["text"]["content"] == f"A {link} TD"
        else:
            (article,) = delivery.body["news"]["articles"]
            assert article["url"] == link and article["title"] == "B"
        impression = logged[user]
        assert impression["tracking_id"] == row["tracking_id"]
        assert impression["campaign"] == "d12"
        assert impression["variant"] == row["variant"]
        assert impression["item_id"] == "camp-d12"
        assert impression["target_url"] == "https://shop.example/d12"
    # Both variants were drawn among twelve followers.
    assert {r["variant"] for r in rows.values()} == {"A", "B"}


async def test_a_template_message_links_to_the_tracked_page(
    marketing_db: MarketingStore, fake_api: FakeWeChatApi, client: WeChatApiClient
) -> None:
    await sender(marketing_db, client).send(
        AB_WITH_TEMPLATE, [dormant("u1", marketing_consent=True)], NOW
    )
    (delivery,) = fake_api.template_deliveries
    tracking_id = send_rows(marketing_db)["u1"]["tracking_id"]
    assert delivery.body == {
        "touser": "u1",
        "template_id": "TM1",
        "url": f"{TRACKING_BASE}/t/{tracking_id}",
        "data": {"first": {"value": "hi"}},
    }
    assert impressions(marketing_db)[0]["tracking_id"] == tracking_id


async def test_a_rerun_sends_nothing_new(
    marketing_db: MarketingStore, fake_api: FakeWeChatApi, client: WeChatApiClient
) -> None:
    recipients = [active("u1"), active("u2"), dormant("u3", marketing_consent=True)]
    send = sender(marketing_db, client)
    await send.send(AB_WITH_TEMPLATE, recipients, NOW)
    calls = fake_api.send_calls
    again = await send.send(AB_WITH_TEMPLATE, [*recipients, active("u4")], NOW)
    assert fake_api.send_calls == calls + 1  # u4 only
    assert [d.openid for d in fake_api.deliveries][-1] == "u4"
    assert again.done_before == 3 and again.outcomes == {("sent", CUSTOMER_SERVICE): 1}
    assert len(impressions(marketing_db)) == 4


async def test_an_opt_out_during_the_send_is_honoured(
    marketing_db: MarketingStore, fake_api: FakeWeChatApi, client: WeChatApiClient
) -> None:

    class OptOutOnFirstCall:
        async def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
            marketing_db.opt_out("u2")  # lands while u1's message goes out
            return await client.post(path, body)

    summary = await sender(marketing_db, OptOutOnFirstCall(), concurrency=1).send(
        AB_WITH_TEMPLATE, [active("u1"), active("u2"), active("u3")], NOW
    )
    assert [d.openid for d in fake_api.deliveries] == ["u1", "u3"]
    assert send_rows(marketing_db)["u2"]["status"] == "skipped"
    assert summary.outcomes[("skipped", CUSTOMER_SERVICE)] == 1


async def test_a_crashed_send_resumes_and_the_uncertain_follower_is_not_resent(
    marketing_db: MarketingStore, fake_api: FakeWeChatApi, client: WeChatApiClient
) -> None:
    users = [f"u{i}" for i in range(6)]
    recipients = [active(u) for u in users]
    crashing = CrashingApi(client, survive=2)
    with pytest.raises(Crash):
        await sender(marketing_db, crashing, concurrency=1).send(
            AB_WITH_TEMPLATE, recipients, NOW
        )
    assert [d.openid for d in fake_api.deliveries] == ["u0", "u1"]
    assert send_rows(marketing_db)["u2"]["status"] == "sending"

    resumed = await sender(marketing_db, client).send(AB_WITH_TEMPLATE, recipients, NOW)
    assert resumed.uncertain == ["u2"]
    assert resumed.done_before == 2
    assert resumed.outcomes == {("sent", CUSTOMER_SERVICE): 3}
    assert sorted(d.openid for d in fake_api.deliveries) == [
        "u0",
        "u1",
        "u3",
        "u4",
        "u5",
    ]

    # Only when asked does the uncertain follower get it, once.
    retried = await sender(marketing_db, client).send(
        AB_WITH_TEMPLATE, recipients, NOW, retry_uncertain=True
    )
    assert retried.uncertain == [] and retried.outcomes == {
        ("sent", CUSTOMER_SERVICE): 1
    }
    assert all(len(fake_api.messages_for(u)) == 1 for u in users)
    assert len(impressions(marketing_db)) == 6


async def test_the_daily_quota_stops_the_send_and_a_later_run_finishes_it(
    marketing_db: MarketingStore, fake_api: FakeWeChatApi, client: WeChatApiClient
) -> None:
    users = [f"u{i}" for i in range(6)]
    fake_api.set_daily_quota(3)
    send = sender(marketing_db, client, concurrency=1)
    summary = await send.send(AB_WITH_TEMPLATE, [active(u) for u in users], NOW)
    assert summary.quota_reached and summary.pending == 3
    assert [d.openid for d in fake_api.deliveries] == users[:3]
    assert fake_api.send_calls == 4  # stopped after the first 45009

    fake_api.set_daily_quota(None)  # the next day
    later = await send.send(AB_WITH_TEMPLATE, [active(u) for u in users], NOW)
    assert not later.quota_reached and later.pending == 0
    assert [d.openid for d in fake_api.deliveries] == users


async def test_too_many_messages_fails_that_follower_only(
    marketing_db: MarketingStore, fake_api: FakeWeChatApi, client: WeChatApiClient
) -> None:
    fake_api.fail_for("u2", 45047)
    summary = await sender(marketing_db, client).send(
        AB_WITH_TEMPLATE, [active("u1"), active("u2"), active("u3")], NOW
    )
    assert sorted(d.openid for d in fake_api.deliveries) == ["u1", "u3"]
    row = send_rows(marketing_db)["u2"]
    assert (row["status"], row["errcode"]) == ("failed", 45047)
    assert summary.errcodes == {45047: 1}
    # A re-run does not try again: at most once per campaign.
    calls = fake_api.send_calls
    await sender(marketing_db, client).send(AB_WITH_TEMPLATE, [active("u2")], NOW)
    assert fake_api.send_calls == calls


async def test_outside_the_window_falls_back_to_the_template_with_consent(
    marketing_db: MarketingStore, fake_api: FakeWeChatApi, client: WeChatApiClient
) -> None:
    # Our log says they wrote recently, WeChat disagrees (45015).
    fake_api.fail_for("u-consent", 45015, times=1)
    fake_api.fail_for("u-no-consent", 45015)
    summary = await sender(marketing_db, client).send(
        AB_WITH_TEMPLATE,
        [active("u-consent", marketing_consent=True), active("u-no-consent")],
        NOW,
    )
    assert fake_api.deliveries == []
    assert [d.openid for d in fake_api.template_deliveries] == ["u-consent"]
    rows = send_rows(marketing_db)
    assert (rows["u-consent"]["status"], rows["u-consent"]["channel"]) == (
        "sent",
        TEMPLATE,
    )
    assert (rows["u-no-consent"]["status"], rows["u-no-consent"]["errcode"]) == (
        "skipped",
        45015,
    )
    assert summary.outcomes == {("sent", TEMPLATE): 1, ("skipped", CUSTOMER_SERVICE): 1}


async def test_system_busy_is_retried_then_failed(
    marketing_db: MarketingStore, fake_api: FakeWeChatApi, client: WeChatApiClient
) -> None:
    fake_api.fail_for("u-busy", -1, times=2)
    fake_api.fail_for("u-down", -1)
    summary = await sender(marketing_db, client, tries=3).send(
        AB_WITH_TEMPLATE, [active("u-busy"), active("u-down")], NOW
    )
    assert [d.openid for d in fake_api.deliveries] == ["u-busy"]
    rows = send_rows(marketing_db)
    assert rows["u-down"]["status"] == "failed" and rows["u-down"]["errcode"] == -1
    assert summary.outcomes == {
        ("sent", CUSTOMER_SERVICE): 1,
        ("failed", CUSTOMER_SERVICE): 1,
    }


async def test_a_dry_run_says_who_gets_what_and_writes_nothing(
    marketing_db: MarketingStore, fake_api: FakeWeChatApi, client: WeChatApiClient
) -> None:
    send = sender(marketing_db, client)
    lines = send.preview(
        AB_WITH_TEMPLATE,
        [active("u1"), dormant("u2", marketing_consent=True), dormant("u3")],
        NOW,
    )
    assert [(x.user_id, x.action, x.channel, x.reason) for x in lines] == [
        ("u1", "send", CUSTOMER_SERVICE, ""),
        ("u2", "send", TEMPLATE, ""),
        ("u3", "skip", None, NO_CONSENT),
    ]
    assert lines[0].variant == variant_of(AB_WITH_TEMPLATE, "u1")
    assert fake_api.send_calls == 0 and fake_api.token_fetches == 0
    assert count_rows(marketing_db, "campaign_sends") == 0
    assert count_rows(marketing_db, "interactions") == 0
    # After a send, the dry run names what was done.
    await send.send(AB_WITH_TEMPLATE, [active("u1")], NOW)
    assert send.preview(AB_WITH_TEMPLATE, [active("u1")], NOW)[0].action == "sent"


async def test_on_postgres_two_senders_at_once_send_each_follower_once(
    postgres_db: MarketingStore, fake_api: FakeWeChatApi, client: WeChatApiClient
) -> None:
    users = [f"pg{i}" for i in range(30)]
    recipients = [active(u) for u in users]
    one = sender(postgres_db, client)
    two = sender(postgres_db, client)
    first, second = await asyncio.gather(
        one.send(AB_WITH_TEMPLATE, recipients, NOW),
        two.send(AB_WITH_TEMPLATE, recipients, NOW),
    )
    assert sorted(d.openid for d in fake_api.deliveries) == sorted(users)
    sent = first.outcomes[("sent", CUSTOMER_SERVICE)]
    assert sent + second.outcomes[("sent", CUSTOMER_SERVICE)] == 30
    assert {r["status"] for r in send_rows(postgres_db).values()} == {"sent"}
    assert len(impressions(postgres_db)) == 30
    assert first.totals == {("sent", CUSTOMER_SERVICE): 30} or second.totals == {
        ("sent", CUSTOMER_SERVICE): 30
    }


async def test_on_postgres_a_crash_resumes_without_duplicates(
    postgres_db: MarketingStore, fake_api: FakeWeChatApi, client: WeChatApiClient
) -> None:
    users = [f"pg{i}" for i in range(8)]
    recipients = [active(u) for u in users]
    with pytest.raises(Crash):
        await sender(postgres_db, CrashingApi(client, survive=5), concurrency=1).send(
            AB_WITH_TEMPLATE, recipients, NOW
        )
    resumed = await sender(postgres_db, client).send(AB_WITH_TEMPLATE, recipients, NOW)
    assert resumed.uncertain == ["pg5"]
    assert sorted(d.openid for d in fake_api.deliveries) == sorted(
        u for u in users if u != "pg5"
    )


async def test_a_send_reaches_only_the_followers_it_names(
    marketing_db: MarketingStore, fake_api: FakeWeChatApi, client: WeChatApiClient
) -> None:
    users = [f"u{i}" for i in range(4)]
    fake_api.set_daily_quota(0)  # the segment send stops at once: rows pending
    send = sender(marketing_db, client, concurrency=1)
    await send.send(AB_WITH_TEMPLATE, [active(u) for u in users], NOW)
    fake_api.set_daily_quota(None)
    await send.send(AB_WITH_TEMPLATE, [active("tester")], NOW)
    assert [d.openid for d in fake_api.deliveries] == ["tester"]
    statuses = {u: r["status"] for u, r in send_rows(marketing_db).items()}
    assert statuses == {**dict.fromkeys(users, "pending"), "tester": "sent"}


async def test_a_template_planned_earlier_needs_the_consent_still(
    marketing_db: MarketingStore, fake_api: FakeWeChatApi, client: WeChatApiClient
) -> None:
    send = sender(marketing_db, client, concurrency=1)
    fake_api.set_daily_quota(0)
    await send.send(AB_WITH_TEMPLATE, [dormant("u1", marketing_consent=True)], NOW)
    fake_api.set_daily_quota(None)
    summary = await send.send(AB_WITH_TEMPLATE, [dormant("u1")], NOW)  # withdrawn
    assert fake_api.template_deliveries == []
    assert summary.outcomes == {("skipped", TEMPLATE): 1}
    assert send_rows(marketing_db)["u1"]["status"] == "skipped"


async def test_a_row_that_cannot_be_sent_fails_alone(
    marketing_db: MarketingStore, fake_api: FakeWeChatApi, client: WeChatApiClient
) -> None:
    users = [f"u{i}" for i in range(8)]
    send = sender(marketing_db, client, concurrency=2)
    fake_api.set_daily_quota(0)
    await send.send(AB_WITH_TEMPLATE, [active(u) for u in users], NOW)
    fake_api.set_daily_quota(None)
    # A marketer renamed a variant between the two runs: its rows cannot be sent.
    kept = AB_WITH_TEMPLATE.variants[0]
    edited = replace(AB_WITH_TEMPLATE, variants=(kept,))
    await send.send(edited, [active(u) for u in users], NOW)
    rows = {u: r["status"] for u, r in send_rows(marketing_db).items()}
    planned_kept = {u for u in users if variant_of(AB_WITH_TEMPLATE, u) == kept.name}
    assert planned_kept and planned_kept != set(users)
    assert {u for u, status in rows.items() if status == "sent"} == planned_kept
    assert {u for u, status in rows.items() if status == "failed"} == (
        set(users) - planned_kept
    )


async def test_a_call_whose_answer_was_lost_is_uncertain_not_retried(
    marketing_db: MarketingStore, fake_api: FakeWeChatApi
) -> None:
    # WeChat takes longer than the client waits: the answer is lost.
    impatient = WeChatApiClient(
        APP_ID, APP_SECRET, MemoryStore(), fake_api.base_url, 0.3
    )
    await impatient.access_token()
    fake_api.delay_s = 0.6
    try:
        summary = await sender(marketing_db, impatient, tries=3).send(
            PLAIN, [active("u1")], NOW
        )
    finally:
        await impatient.close()
    # One call: a second try could arrive twice (whether WeChat delivered the
    # first is what nobody knows here).
    assert fake_api.send_calls == 1
    assert summary.uncertain == ["u1"]
    assert send_rows(marketing_db, "plain")["u1"]["status"] == "sending"


async def test_an_erased_opt_out_is_never_sent_to_again(
    marketing_db: MarketingStore, fake_api: FakeWeChatApi, client: WeChatApiClient
) -> None:
    marketing_db.opt_out("u-back")
    marketing_db.erase_user("u-back")
    # A profile built before the erasure (or by hand) says nothing of the no:
    # the claim checks the store, suppressions included.
    summary = await sender(marketing_db, client).send(PLAIN, [active("u-back")], NOW)
    assert fake_api.deliveries == []
    assert summary.outcomes == {("skipped", CUSTOMER_SERVICE): 1}
