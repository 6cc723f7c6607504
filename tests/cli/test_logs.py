"""The redacting log filter and the one-line text / JSON formats."""

from __future__ import annotations

import hashlib
import io
import json
import logging
from collections.abc import Iterator

import pytest

from nightbridge.cli.logs import configure_logging, redact_text

SECRET = "hunter2-is-long-enough"
SHA1 = hashlib.sha1(SECRET.encode()).hexdigest()


@pytest.mark.parametrize(
    "text",
    [
        f"login failed for password {SECRET}",
        f"api-secret: {SHA1}",
        f"API-SECRET: {SHA1.upper()}",
        f"header hash {SHA1} sent",
        "GET https://ns.example.org/api/v1/entries.json?count=1&token=reader-abcdef123",
        "POST https://x.org/login?secret=s3&api-secret=abc&password=pw1",
        "Authorization: Bearer eyJhbGciOi.payload.sig",
        '{"password": "pw-in-json", "accountName": "mum"}',
        "headers={'api-secret': 'deadbeef', 'accept': 'json'}",
    ],
)
def test_redact_text_hides_secrets(text: str) -> None:
    out = redact_text(text, [SECRET, SHA1, SHA1.upper()])
    for leaked in (
        SECRET,
        SHA1,
        SHA1.upper(),
        "reader-abcdef123",
        "s3&",
        "pw1",
        "eyJhbGciOi",
        "pw-in-json",
        "deadbeef",
        "=abc",
    ):
        assert leaked not in out
    assert "***" in out


def test_redact_keeps_ordinary_text() -> None:
    text = "sync account=mum fetched=12 created=12 url=https://ns.example.org/api/v1/entries"
    assert redact_text(text, [SECRET]) == text


@pytest.fixture
def restore_root() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_filter_redacts_args_exceptions_and_hashes(restore_root: None) -> None:
    stream = io.StringIO()
    configure_logging(fmt="text", level="info", secrets=[SECRET], stream=stream)
    log = logging.getLogger("nightbridge.test")
    log.info("request %s", f"https://h/?token={SECRET}")
    log.warning("hash %s", SHA1)
    try:
        raise RuntimeError(f"boom {SECRET}")
    except RuntimeError:
        log.exception("failed")
    text = stream.getvalue()
    assert SECRET not in text and SHA1 not in text
    assert len(text.strip().splitlines()) == 3  # one line per event, tracebacks folded
    assert "RuntimeError: boom ***" in text


def test_json_format_one_object_per_line(restore_root: None) -> None:
    stream = io.StringIO()
    configure_logging(fmt="json", level="debug", secrets=[SECRET], stream=stream)
    logging.getLogger("nightbridge.test").info("hello %s", SECRET)
    logging.getLogger("nightbridge.test").debug("second\nline")
    lines = stream.getvalue().strip().splitlines()
    events = [json.loads(line) for line in lines]
    assert [e["level"] for e in events] == ["info", "debug"]
    assert events[0]["message"] == "hello ***"
    assert events[0]["logger"] == "nightbridge.test"
    assert events[0]["time"].endswith("Z")
