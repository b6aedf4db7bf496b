"""The instruments: names, fixed label sets, capped labels, timing."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from telemetry import metrics
from telemetry.metrics import OTHER, BoundedLabel


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_fixed_label_sets_exist_before_the_first_event() -> None:
    for kind in metrics.REPLY_KINDS:
        assert (
            REGISTRY.get_sample_value("aurora_replies_total", {"kind": kind})
            is not None
        )
    for source in ("approved", "template"):
        labels = {"source": source}
        assert REGISTRY.get_sample_value("aurora_chat_copies_total", labels) is not None
    for kind in ("read", "outbox", "lost", "activity"):
        labels = {"kind": kind}
        assert (
            REGISTRY.get_sample_value("aurora_database_fallbacks_total", labels)
            is not None
        )


def test_count_reply_counts_its_kind() -> None:
    before = value("aurora_replies_total", kind="api")
    metrics.count_reply(metrics.API)
    assert value("aurora_replies_total", kind="api") == before + 1


def test_count_reply_refuses_an_unknown_kind() -> None:
    # A typo in an adapter must fail its tests, not create a series.
    with pytest.raises(KeyError):
        metrics.count_reply("passiv")


def test_api_errors_are_counted_by_errcode() -> None:
    before = value("aurora_wechat_api_errors_total", errcode="45015")
    metrics.count_api_error(45015)
    assert value("aurora_wechat_api_errors_total", errcode="45015") == before + 1


def test_a_bounded_label_keeps_its_first_values_then_says_other() -> None:
    label = BoundedLabel(2)
    assert [label("a"), label("b"), label("a"), label("c")] == ["a", "b", "a", OTHER]


def test_timed_observes_also_a_failing_block() -> None:
    before = value("aurora_stage_seconds_count", stage="reply")
    with metrics.timed(metrics.REPLY):
        pass
    with pytest.raises(RuntimeError), metrics.timed(metrics.REPLY):
        raise RuntimeError("boom")
    assert value("aurora_stage_seconds_count", stage="reply") == before + 2
