"""The CLI prints server text without terminal control sequences and never echoes a typed token."""

from __future__ import annotations

import json

import pytest

from meshapi.cli import main
from meshapi.cli._ui import clean, redact_secrets
from tests.faults.peers import RawPeer, respond

HOSTILE = "\x1b[31mred\x1b[0m \x1b]0;window title\x07\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\ \x9b2J\rover\x08\x00done"


def test_clean_removes_escape_sequences_and_controls() -> None:
    cleaned = clean(HOSTILE)
    assert cleaned == "red link overdone"
    assert clean("line one\n\ttabbed, ünïcödé ✓") == "line one\n\ttabbed, ünïcödé ✓"
    assert not any(ord(c) < 0x20 and c not in "\n\t" for c in clean("".join(map(chr, range(0x100)))))


def test_redact_secrets_hides_token_like_words_and_values_of_secret_options() -> None:
    assert "rsk_abcdef123" not in redact_secrets("unrecognized arguments: --tokne rsk_abcdef123")
    assert "s3cr3tvalue" not in redact_secrets("invalid choice: 's3cr3tvalue'", ["--tokn", "s3cr3tvalue"])
    assert "s3cr3tvalue" not in redact_secrets("ambiguous option: --to=s3cr3tvalue", ["--to=s3cr3tvalue"])
    assert redact_secrets("unrecognized arguments: --verbose") == "unrecognized arguments: --verbose"


@pytest.mark.parametrize(
    "argv",
    [
        ["chat", "--tokne", "rsk_CLI_SECRET_9x", "hello"],
        ["--tokn", "plainsecretword", "models"],
        ["models", "--api-kee=rsk_CLI_SECRET_9x"],
        ["chat", "hello", "--t=rsk_CLI_SECRET_9x"],
    ],
)
def test_a_mistyped_option_never_echoes_the_token(
    argv: list, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MESHAPI_TOKEN", raising=False)
    assert main(argv) == 2
    captured = capsys.readouterr()
    for secret in ("rsk_CLI_SECRET_9x", "plainsecretword"):
        assert secret not in captured.err and secret not in captured.out
    assert "[redacted]" in captured.err


def test_server_text_in_an_error_is_printed_clean(capsys: pytest.CaptureFixture[str]) -> None:
    body = json.dumps({"error": {"code": "bad", "message": HOSTILE}}).encode()
    with RawPeer(respond(400, {"Content-Type": "application/json", "X-Request-Id": "req_cli"}, body)) as peer:
        code = main(["models", "--base-url", peer.base_url, "--token", "rsk_cli_output_token"])
    captured = capsys.readouterr()
    assert code == 1
    assert "red link" in captured.err and "overdone" in captured.err
    assert not any(ord(c) < 0x20 and c not in "\n\t" for c in captured.err + captured.out)
    assert "\x9b" not in captured.err
