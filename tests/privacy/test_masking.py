"""Openids and mobile numbers never reach a log: unit cases and the whole webhook."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from rasa.core.channels.channel import UserMessage

from privacy import masking
from privacy.masking import mask_openid, mask_text
from tests.channels.conftest import ServeFactory, StubAgent
from tests.channels.conftest import serve as serve  # the fixture

OPENID = "oMgHVjngRipVsoxg6TuX3vz6glDg"  # a real openid's shape, 28 characters
PHONE = "13812345678"
MASKED_PHONE = "138****5678"


class Everything(logging.Handler):
    """Keeps every record and its fully formatted text (extras included)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        extras = [str(v) for v in record.__dict__.values() if isinstance(v, str)]
        self.lines.append(self.format(record) + " " + " ".join(extras))

    def text(self) -> str:
        return "\n".join(self.lines)


@pytest.fixture
def captured() -> Iterator[Everything]:
    """Every record of every logger at DEBUG, through a handler on the root."""
    masking.install()
    handler = Everything()
    root = logging.getLogger()
    loggers = [root] + [
        logger
        for logger in logging.root.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    levels = {logger: logger.level for logger in loggers}
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        for logger, level in levels.items():
            logger.setLevel(level)


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (PHONE, MASKED_PHONE),
        ("电话13812345678谢谢", f"电话{MASKED_PHONE}谢谢"),
        ("+86 138-1234-5678", MASKED_PHONE),
        ("0086 138 1234 5678", MASKED_PHONE),
        ("8613812345678", MASKED_PHONE),
        ("１３８１２３４５６７８", MASKED_PHONE),
        ("order 913812345678 and 1381234567", "order 913812345678 and 1381234567"),
        ("12812345678 is no mobile", "12812345678 is no mobile"),
    ],
)
def test_mobile_numbers_are_masked_as_typed(text: str, masked: str) -> None:
    assert mask_text(text) == masked


@pytest.mark.parametrize(
    "openid", [OPENID, "otFpruAK8D-E6EfStSYonYSBZ8_4", "o_user1", "o_sim_user"]
)
def test_openids_become_a_short_stable_hash(openid: str) -> None:
    masked = mask_text(f"from {openid}: hi")
    assert openid not in masked
    assert masked == f"from {mask_openid(openid)}: hi"
    assert mask_openid(openid) == mask_openid(openid)
    assert mask_openid(openid).startswith("o…")
    assert mask_openid(OPENID) != mask_openid("o_user1")


@pytest.mark.parametrize(
    "text",
    [
        "hello world",
        "oMgHVjngRipVsoxg6TuX3vz6glDgX",  # 29 characters: not an openid
        "token=xoMgHVjngRipVsoxg6TuX3vz6glDg",  # part of a longer token
        "to_dict foo_bar",
    ],
)
def test_other_text_is_left_alone(text: str) -> None:
    assert mask_text(text) == text


def test_message_args_extras_exception_and_stack_are_masked(
    captured: Everything,
) -> None:
    logger = logging.getLogger("tests.privacy.any")
    logger.info("user %s left %s", {"sender": OPENID}, PHONE)
    logger.warning("GET", extra={"request": f"/webhook?openid={OPENID}", "n": 3})
    try:
        raise KeyError(f"{OPENID} {PHONE}")
    except KeyError:
        logger.exception("failed for %s", OPENID)
    logger.debug("where", stack_info=True, extra={"phone": PHONE})
    text = captured.text()
    assert OPENID not in text and PHONE not in text
    assert mask_openid(OPENID) in text and MASKED_PHONE in text
    assert "KeyError" in text  # the traceback is still there, masked
    for record in captured.records:
        assert record.args == ()
    assert captured.records[1].__dict__["n"] == 3


def test_unprintable_arguments_do_not_leak_or_crash(captured: Everything) -> None:
    logging.getLogger("tests.privacy.any").info("%d %s", OPENID, PHONE)
    assert OPENID not in captured.text() and PHONE not in captured.text()
    assert "arguments not shown" in captured.text()


def test_third_party_and_absl_style_loggers_are_covered(captured: Everything) -> None:
    for name in ("rasa.core.processor", "sanic.access", "aiohttp.access"):
        logging.getLogger(name).debug("message from %s: %s", OPENID, PHONE)
    record = logging.LogRecord("absl", logging.INFO, "", 0, PHONE, (), None)
    # absl's logger overrides Logger.handle and calls callHandlers itself.
    logging.getLogger("absl").callHandlers(record)
    assert len(captured.records) == 4
    assert OPENID not in captured.text() and PHONE not in captured.text()


def test_installing_twice_masks_once(captured: Everything) -> None:
    masking.install()
    masking.install()
    logging.getLogger("tests.privacy.any").info("%s", "o…already")
    assert masking.installed()
    assert captured.lines[0].startswith("tests.privacy.any o…already")


def test_the_rasa_and_action_processes_install_it_on_import() -> None:
    import actions  # noqa: F401
    import channels  # noqa: F401

    assert masking.installed()


class LeakyAgent(StubAgent):
    """Rasa's side of a turn as it logs: the sender, the text, then a failure."""

    async def __call__(self, message: UserMessage) -> None:
        processor = logging.getLogger("rasa.core.processor")
        processor.debug(
            "Received user message '%s' from %s", message.text, message.sender_id
        )
        await super().__call__(message)
        raise RuntimeError(f"tracker of {message.sender_id} lost {message.text}")


@pytest.mark.parametrize("aes", [False, True])
async def test_no_openid_or_phone_in_any_record_of_a_real_webhook_turn(
    serve: ServeFactory, captured: Everything, aes: bool
) -> None:
    served = await serve(agent=LeakyAgent(), aes=aes)
    reply = await served.sim.send(served.sim.text(OPENID, f"我的电话是{PHONE}"))
    await served.settle()
    assert reply.status == 200
    assert served.agent.messages[0].sender_id == OPENID  # it did reach the agent
    text = captured.text()
    assert f"Received user message '我的电话是{MASKED_PHONE}'" in text
    assert "RuntimeError" in text  # the channel logged the failed turn
    assert OPENID not in text and PHONE not in text
    for record in captured.records:
        assert OPENID not in str(record.__dict__) and PHONE not in str(record.__dict__)
