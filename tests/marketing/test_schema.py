from __future__ import annotations

from sqlalchemy import MetaData, UniqueConstraint

from marketing.schema import tables


def test_the_store_has_its_four_tables_in_the_given_schema() -> None:
    found = tables(MetaData(schema="marketing"))
    assert set(found) == {"interactions", "leads", "opt_outs", "campaign_signups"}
    assert all(t.schema == "marketing" for t in found.values())


def test_a_customer_signs_up_for_a_campaign_once() -> None:
    signups = tables(MetaData())["campaign_signups"]
    unique = [c for c in signups.constraints if isinstance(c, UniqueConstraint)]
    assert [sorted(col.name for col in c.columns) for c in unique] == [
        ["campaign_id", "user_id"]
    ]
