from __future__ import annotations

from datetime import timedelta

from click.testing import CliRunner, Result

from marketing.campaign_runs import CampaignRuns
from marketing.cli import main
from marketing.store import MarketingStore
from tests.marketing.cli.conftest import Followers
from tools.wechat_sim.fake_api import FakeWeChatApi

CAMPAIGN = "double12-reminder"


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_the_scheduler_sends_due_runs_once(
    marketing_db: MarketingStore, followers: Followers, wechat: FakeWeChatApi
) -> None:
    followers.active += ["vip1", "vip2"]
    runs = CampaignRuns(marketing_db)
    now = marketing_db.now()
    due = runs.add(CAMPAIGN, "vip", now - timedelta(minutes=1))
    later = runs.add(CAMPAIGN, "vip", now + timedelta(days=1))

    result = run("scheduler", "--once")
    assert result.exit_code == 0, result.output
    assert f"#{due} done: {CAMPAIGN}: sent 2 (customer_service 2)" in result.output
    assert sorted(d.openid for d in wechat.deliveries) == ["vip1", "vip2"]
    assert runs.get(due).status == "done"
    assert runs.get(later).status == "scheduled"

    # Nothing is due any more: a second pass (cron, a replica) sends nothing.
    assert run("scheduler", "--once").output == ""
    assert len(wechat.deliveries) == 2


def test_a_run_with_an_unknown_campaign_fails_with_the_reason(
    marketing_db: MarketingStore, followers: Followers, wechat: FakeWeChatApi
) -> None:
    runs = CampaignRuns(marketing_db)
    run_id = runs.add("gone", "vip", marketing_db.now() - timedelta(minutes=1))
    result = run("scheduler", "--once")
    assert result.exit_code == 0
    assert runs.get(run_id).status == "failed"
    assert "no campaign 'gone'" in (runs.get(run_id).detail or "")


def test_schedule_cancels_a_waiting_run(marketing_db: MarketingStore) -> None:
    runs = CampaignRuns(marketing_db)
    run_id = runs.add(CAMPAIGN, "vip", marketing_db.now() + timedelta(hours=1))
    assert run("schedule", "--cancel", str(run_id)).exit_code == 0
    assert runs.get(run_id).status == "cancelled"
    again = run("schedule", "--cancel", str(run_id))
    assert again.exit_code == 1 and "is not waiting to run" in again.output


def test_every_send_command_has_help() -> None:
    for command in ("send", "schedule", "scheduler"):
        result = run(command, "--help")
        assert result.exit_code == 0 and "Usage:" in result.output
    assert "--retry-uncertain" in run("send", "--help").output
