from __future__ import annotations

from datetime import datetime

import pytest
from click.testing import CliRunner, Result

from marketing.campaign_runs import CampaignRuns
from marketing.cli import main
from marketing.store import MarketingStore
from tests.marketing.cli.conftest import Followers
from tests.marketing.sending_helpers import count_rows, send_rows
from tools.wechat_sim.fake_api import FakeWeChatApi

CAMPAIGN = "double12-reminder"  # data/campaigns.yml: two variants and a template


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_send_to_given_followers_then_a_rerun_sends_nothing(
    marketing_db: MarketingStore, followers: Followers, wechat: FakeWeChatApi
) -> None:
    followers.active += ["u1", "u2"]
    result = run("send", CAMPAIGN, "--to", "u1", "--to", "u2", "--to", "stranger")
    assert result.exit_code == 0, result.output
    assert sorted(d.openid for d in wechat.deliveries) == ["u1", "u2"]
    assert "This run: sent 2 (customer_service 2)" in result.output
    # Never heard of: no window, no consent to promotions.
    assert "no consent to promotions): 1" in result.output
    assert "Sending double12-reminder" in result.output  # the progress bar

    again = run("send", CAMPAIGN, "--to", "u1", "--to", "u2")
    assert again.exit_code == 0
    assert "Already dealt with by an earlier run: 2" in again.output
    assert len(wechat.deliveries) == 2


def test_send_to_a_segment(
    marketing_db: MarketingStore, followers: Followers, wechat: FakeWeChatApi
) -> None:
    followers.active += ["vip1", "vip2", "other"]
    result = run("send", CAMPAIGN, "--segment", "vip")
    assert result.exit_code == 0, result.output
    assert sorted(d.openid for d in wechat.deliveries) == ["vip1", "vip2"]
    assert set(send_rows(marketing_db, CAMPAIGN)) == {"vip1", "vip2"}


def test_a_dry_run_prints_who_gets_what_and_writes_nothing(
    marketing_db: MarketingStore, followers: Followers, wechat: FakeWeChatApi
) -> None:
    followers.active.append("vip-a")
    followers.dormant.append("vip-b")
    result = run("send", CAMPAIGN, "--segment", "vip", "--dry-run")
    assert result.exit_code == 0, result.output
    sources = [line for line in result.output.splitlines() if line.startswith("#")]
    assert sources == [
        "# variant plain: campaigns.yml",
        "# variant urgent: campaigns.yml",
    ]
    lines = [line for line in result.output.splitlines() if line not in sources]
    rows = {line.split("\t")[0]: line.split("\t")[1:] for line in lines[:-1]}
    assert rows["vip-a"][1:] == ["customer_service", "send"]
    assert rows["vip-b"][1] == "-"
    assert rows["vip-b"][2].startswith("skip: outside the 48-hour window")
    assert {rows[u][0] for u in rows} <= {"plain", "urgent"}
    assert "nothing sent: send customer_service 1, skip 1" in lines[-1]
    assert wechat.send_calls == 0 and wechat.token_fetches == 0
    assert count_rows(marketing_db, "campaign_sends") == 0


def test_at_schedules_the_send_instead(
    marketing_db: MarketingStore, followers: Followers, wechat: FakeWeChatApi
) -> None:
    result = run("send", CAMPAIGN, "--segment", "vip", "--at", "2099-12-12T20:00+08:00")
    assert result.exit_code == 0, result.output
    assert "Scheduled run #1" in result.output
    (scheduled,) = CampaignRuns(marketing_db).all()
    assert (scheduled.campaign, scheduled.segment, scheduled.status) == (
        CAMPAIGN,
        "vip",
        "scheduled",
    )
    assert scheduled.run_at == datetime(2099, 12, 12, 12, 0)  # stored in UTC
    assert wechat.send_calls == 0

    listing = run("schedule")
    assert "#1\t2099-12-12 12:00\tscheduled\tdouble12-reminder -> vip" in listing.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["send", "nope", "--to", "u1"], "no campaign 'nope'"),
        (["send", CAMPAIGN], "name the recipients"),
        (["send", CAMPAIGN, "--segment", "gold"], "no segment 'gold'"),
        (["send", CAMPAIGN, "--segment", "vip", "--at", "soon"], "no ISO time"),
        (["send", CAMPAIGN, "--segment", "vip", "--at", "2001-01-01"], "in the past"),
        (["send", CAMPAIGN, "--to", "u1", "--at", "2099-01-01"], "--at schedules"),
    ],
)
def test_mistakes_get_one_clear_line(
    marketing_db: MarketingStore,
    followers: Followers,
    args: list[str],
    message: str,
) -> None:
    result = run(*args)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output


def test_without_the_account_the_send_says_which_variables_to_set(
    marketing_db: MarketingStore,
    followers: Followers,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    followers.active.append("u1")
    monkeypatch.delenv("WECHAT_APP_ID", raising=False)
    result = run("send", CAMPAIGN, "--to", "u1")
    assert result.exit_code == 1
    assert "WECHAT_APP_ID and WECHAT_APP_SECRET must be set" in result.output
    assert count_rows(marketing_db, "campaign_sends") == 0


def test_a_time_without_an_offset_is_the_accounts_not_the_servers(
    marketing_db: MarketingStore, followers: Followers, wechat: FakeWeChatApi
) -> None:
    result = run("send", CAMPAIGN, "--segment", "vip", "--at", "2099-12-12T20:00")
    assert result.exit_code == 0, result.output
    (scheduled,) = CampaignRuns(marketing_db).all()
    assert scheduled.run_at == datetime(2099, 12, 12, 12, 0)  # 20:00 in Shanghai
