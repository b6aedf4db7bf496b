"""``aurora-marketing copy`` and ``drafts``, down to a campaign push.

The end-to-end test drafts with a tiny random Qwen2 through the real
``transformers`` backend, checks, approves with the CLI and sends to a segment
through the WeChat API stand-in on 127.0.0.1.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from marketing.cli import main
from marketing.copy_drafts import APPROVED, PENDING, REJECTED, CopyDrafts
from marketing.store import MarketingStore
from tests.copywriting.tiny_qwen import build_tiny_qwen
from tests.marketing.cli.conftest import Followers
from tools.wechat_sim.fake_api import FakeWeChatApi

CAMPAIGN = "buds-pro2-launch"  # data/campaigns.yml: variants text and card
INVENTED = (
    "极光 Buds Pro 2 原价 899 元，全网最低价！自适应降噪，40 小时续航，快来抢购吧～"
)
FIXED = (
    "极光 Buds Pro 2 新品上市🎧 自适应降噪，40 小时续航，到手 999 元，"
    "通勤路上一戴就安静。"
)


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def ids_in(output: str) -> list[int]:
    return [int(i) for i in re.findall(r"^#(\d+) ", output, flags=re.MULTILINE)]


def test_template_drafts_are_stored_pending_for_every_variant(
    marketing_db: MarketingStore,
) -> None:
    result = run("copy", CAMPAIGN, "--backend", "template", "--n", "2")
    assert result.exit_code == 0, result.output
    assert "Drafting buds-pro2-launch with template" in result.output
    stored = CopyDrafts(marketing_db).find(CAMPAIGN)
    assert {d.variant for d in stored} == {"text", "card"}
    assert all(d.status == PENDING and d.backend == "template" for d in stored)
    # The template writes one copy per subject: the second sample is a duplicate.
    assert "near-duplicate(s) dropped" in result.output
    again = run("copy", CAMPAIGN, "--backend", "template", "--variant", "text")
    assert "0 draft(s)" in again.output and "3 near-duplicate(s)" in again.output


def test_review_with_the_cli_edit_rechecks_and_only_passing_copy_is_approved(
    marketing_db: MarketingStore,
) -> None:
    run("copy", CAMPAIGN, "--backend", "template", "--variant", "text")
    [draft] = CopyDrafts(marketing_db).find(CAMPAIGN)
    edited = run("drafts", "edit", str(draft.id), "--text", INVENTED)
    assert "fails ad_law, facts" in edited.output
    assert "amounts not in the brief: 899 (money)" in edited.output
    refused = run("drafts", "approve", str(draft.id))
    assert refused.exit_code == 1
    assert f"copy draft {draft.id} failed ad_law, facts: edit it" in refused.output
    fixed = run("drafts", "edit", str(draft.id), "--text", FIXED, "--approve")
    assert fixed.exit_code == 0, fixed.output
    assert "[approved, edited; passes]" in fixed.output
    listed = run("drafts", "list", "--status", "approved")
    assert ids_in(listed.output) == [draft.id]
    shown = run("drafts", "show", str(draft.id))
    assert "价格：999 元（原价 1199 元）" in shown.output
    rejected = run("drafts", "reject", str(draft.id), "--note", "换个说法")
    assert rejected.exit_code == 0
    stored = CopyDrafts(marketing_db).get(draft.id)
    assert (stored.status, stored.note) == (REJECTED, "换个说法")
    missing = run("drafts", "approve", "999")
    assert missing.exit_code == 1 and "no copy draft 999" in missing.output
    assert "--reviewer" in run("drafts", "reject", "1", "--reviewer", " ").output


def test_approving_several_drafts_goes_on_past_a_refusal(
    marketing_db: MarketingStore,
) -> None:
    run("copy", CAMPAIGN, "--backend", "template")
    ids = [str(d.id) for d in CopyDrafts(marketing_db).find(CAMPAIGN)]
    result = run("drafts", "approve", "999", *ids, "--reviewer", "lin")
    assert result.exit_code == 1
    assert "#999 not approved: no copy draft 999" in result.output
    assert f"1 of {len(ids) + 1} not approved" in result.output
    approved = CopyDrafts(marketing_db).find(CAMPAIGN, APPROVED)
    assert [str(d.id) for d in approved] == ids
    assert {d.reviewer for d in approved} == {"lin"}


def test_a_missing_model_or_unknown_names_are_clear_errors(
    marketing_db: MarketingStore, tmp_path: Path
) -> None:
    result = run(
        "copy", CAMPAIGN, "--backend", "transformers", "--model", str(tmp_path / "x")
    )
    assert result.exit_code == 1 and "make assets-llm" in result.output
    assert "no campaign 'nope'" in run("copy", "nope").output
    assert "no such variant" in run("copy", CAMPAIGN, "--variant", "zz").output
    assert "no segment 'zz'" in run("copy", CAMPAIGN, "--segment", "zz").output


def test_an_unreachable_server_fails_the_command_without_drafts(
    marketing_db: MarketingStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AURORA_OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("AURORA_GENERATOR_TIMEOUT_S", "2")
    result = run(
        "copy", CAMPAIGN, "--backend", "openai", "--n", "1", "--variant", "text"
    )
    assert result.exit_code == 1
    assert (
        "1 backend error(s)" in result.output
        and "openai backend failed" in result.output
    )
    assert CopyDrafts(marketing_db).find() == []


def test_tiny_model_drafts_are_checked_approved_and_sent_to_a_segment(
    marketing_db: MarketingStore,
    followers: Followers,
    wechat: FakeWeChatApi,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import torch

    followers.active += ["vip1", "vip2", "vip3", "vip4"]
    model = build_tiny_qwen(tmp_path / "tiny-qwen")
    monkeypatch.setenv("AURORA_GENERATOR_MAX_NEW_TOKENS", "60")
    monkeypatch.setenv("AURORA_GENERATOR_DEVICE", "cpu")
    torch.manual_seed(3)
    drafted = run(
        "copy", CAMPAIGN, "--backend", "transformers", "--model", str(model),
        "--n", "3", "--variant", "text", "--segment", "vip",
    )  # fmt: skip
    assert drafted.exit_code == 0, drafted.output
    drafts = CopyDrafts(marketing_db)
    stored = drafts.find(CAMPAIGN)
    assert stored and all(d.backend == "transformers" for d in stored)
    assert all(d.model == str(model) and d.segment == "vip" for d in stored)
    passing = [d for d in stored if d.passes]
    assert passing, drafted.output
    # Nothing approved yet: the push sends the message of campaigns.yml.
    dry = run("send", CAMPAIGN, "--segment", "vip", "--dry-run")
    assert "# variant text: campaigns.yml" in dry.output

    approved = run("drafts", "approve", str(passing[0].id))
    assert approved.exit_code == 0, approved.output
    assert drafts.get(passing[0].id).status == APPROVED
    sent = run("send", CAMPAIGN, "--segment", "vip")
    assert sent.exit_code == 0, sent.output
    bodies = {d.openid: d.body for d in wechat.deliveries}
    assert sorted(bodies) == ["vip1", "vip2", "vip3", "vip4"]
    texts = [b["text"]["content"] for b in bodies.values() if b["msgtype"] == "text"]
    assert texts  # the followers drew both variants (stable hash of the openid)
    for content in texts:  # the approved copy, the tracked link, the opt-out
        assert content.startswith(passing[0].text + " 👉 http")
        assert content.endswith("回复 TD 退订")
    for body in bodies.values():  # the card variant keeps its declared article
        if body["msgtype"] == "news":
            assert body["news"]["articles"][0]["title"] == "极光 Buds Pro 2 新品上市"
    # Whichever variant they drew, no unapproved draft was sent.
    unapproved = {d.text for d in stored if d.id != passing[0].id}
    assert not any(t in str(bodies) for t in unapproved)
