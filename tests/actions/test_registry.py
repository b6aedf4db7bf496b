"""What the action server serves: every custom action the domain names."""

from __future__ import annotations

from pathlib import Path

from rasa.shared.utils.io import read_yaml_file
from rasa_sdk.executor import ActionExecutor

ROOT = Path(__file__).resolve().parents[2]
# Rasa runs these itself.
RASA_BUILT_IN = {"action_default_ask_affirmation"}


def test_every_domain_action_is_served_by_the_action_server() -> None:
    executor = ActionExecutor()
    executor.register_package("actions")
    domain = read_yaml_file(str(ROOT / "domain.yml"))
    custom = {a for a in domain["actions"] if not a.startswith("utter_")}
    assert custom <= set(executor.actions) | RASA_BUILT_IN
    assert {
        "action_recommend_products",
        "action_generate_reply",
        "action_offer_recovery",
        "action_unsubscribe",
        "action_submit_lead",
    } <= set(executor.actions)
