from __future__ import annotations

from sqlalchemy import MetaData, UniqueConstraint

from marketing.schema import tables


def test_the_store_has_its_tables_in_the_given_schema() -> None:
    found = tables(MetaData(schema="marketing"))
    assert set(found) == {
        "interactions",
        "leads",
        "opt_outs",
        "campaign_signups",
        "activity",
        "action_runs",
        "orders",
        "campaign_sends",
        "campaign_runs",
        "copy_drafts",
        "coupons",
        "lead_notifications",
        "suppressions",
    }
    assert all(t.schema == "marketing" for t in found.values())


def test_every_table_but_schedule_suppressions_and_copy_has_a_user_id() -> None:
    found = tables(MetaData())
    without = {name for name, table in found.items() if "user_id" not in table.c}
    assert without == {"campaign_runs", "suppressions", "copy_drafts"}


def test_a_campaign_reaches_each_follower_once_and_an_order_counts_once() -> None:
    found = tables(MetaData())
    sends = [
        sorted(col.name for col in c.columns)
        for c in found["campaign_sends"].constraints
        if isinstance(c, UniqueConstraint)
    ]
    assert sends == [["campaign", "user_id"]]
    assert found["orders"].c.order_id.unique


def test_a_customer_signs_up_for_a_campaign_once() -> None:
    signups = tables(MetaData())["campaign_signups"]
    unique = [c for c in signups.constraints if isinstance(c, UniqueConstraint)]
    assert [sorted(col.name for col in c.columns) for c in unique] == [
        ["campaign_id", "user_id"]
    ]
