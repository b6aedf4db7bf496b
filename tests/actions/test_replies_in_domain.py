"""Customer-facing text lives in domain.yml: actions pick responses, not write text.

Generated marketing copy (``action_generate_reply``) is the one exception.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.actions.conftest import ROOT, domain_responses

ACTIONS = ROOT / "actions"
# Modules allowed to send their own text: the generated copy.
GENERATED_TEXT = {"copy_actions.py"}


def utter_calls(path: Path) -> list[ast.Call]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "utter_message"
    ]


def keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def test_actions_send_responses_not_text() -> None:
    offenders = [
        f"{path.name}:{call.lineno}"
        for path in sorted(ACTIONS.glob("*.py"))
        if path.name not in GENERATED_TEXT
        for call in utter_calls(path)
        if keyword(call, "text") is not None or call.args
    ]
    assert not offenders


def test_every_response_an_action_names_is_in_the_domain() -> None:
    named = set()
    for path in sorted(ACTIONS.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        named |= {
            node.value
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and node.value.startswith("utter_")
            and not node.value.endswith("_")
        }
    assert named
    assert named <= set(domain_responses())
