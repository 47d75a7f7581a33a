"""Parsing, settings, exit codes and output hygiene (no gateway needed for most)."""

from __future__ import annotations

import sys
from typing import Any, Callable

import pytest

from meshapi.cli import main
from meshapi.cli._failures import describe
from meshapi.cli._ui import plain_table

from .conftest import Result

Run = Callable[..., Result]


def test_help_lists_every_command(run: Run) -> None:
    result = run("--help")
    assert result.code == 0
    for command in (
        "chat",
        "compare",
        "models",
        "embed",
        "rag",
        "batches",
        "templates",
        "images",
        "realtime",
        "gateway",
        "demo",
    ):
        assert command in result.out


def test_version(run: Run) -> None:
    from meshapi import __version__

    result = run("--version")
    assert result.code == 0
    assert __version__ in result.out


def test_unknown_command_is_a_usage_error(run: Run) -> None:
    result = run("frobnicate")
    assert result.code == 2
    assert "invalid choice" in result.err


def test_bad_option_value_is_a_usage_error(run: Run) -> None:
    result = run("chat", "hi", "--temperature", "7")
    assert result.code == 2
    assert "between 0 and 2" in result.err


def test_missing_settings_name_both_variables(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MESHAPI_BASE_URL", raising=False)
    monkeypatch.delenv("MESHAPI_TOKEN", raising=False)
    result = run("models")
    assert result.code == 2
    assert result.out == ""
    assert len(result.err_lines) == 1
    assert "MESHAPI_BASE_URL" in result.err and "MESHAPI_TOKEN" in result.err


def test_missing_token_only(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MESHAPI_TOKEN", raising=False)
    result = run("--base-url", "http://127.0.0.1:9", "models")
    assert result.code == 2
    assert "token" in result.err_lines[0]


def test_connection_refused_is_one_line(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MESHAPI_CLI_DEBUG", raising=False)
    result = run(
        "models", "--base-url", "http://127.0.0.1:9", "--token", "rsk_secret_value", "--max-retries", "0"
    )
    assert result.code == 1
    assert len(result.err_lines) == 1
    assert "APIConnectionError" in result.err and "--base-url" in result.err
    assert "rsk_secret_value" not in result.err + result.out
    assert "Traceback" not in result.err


def test_missing_input_file_is_a_usage_error(run: Run, tmp_path: Any) -> None:
    missing = tmp_path / "nope.jsonl"
    for argv in (["rag", "upload", str(missing)], ["batches", "create", str(missing)]):
        result = run(*argv, "--base-url", "http://127.0.0.1:9", "--token", "t")
        assert result.code == 2, argv
        assert result.err_lines == [f"meshapi: no such file: {missing}"]


def test_bad_jsonl_names_the_line(run: Run, tmp_path: Any) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"custom_id": "a", "body": {"messages": []}}\n{not json\n')
    result = run("batches", "create", str(path), "--base-url", "http://127.0.0.1:9", "--token", "t")
    assert result.code == 2
    assert f"{path}:2" in result.err


def test_compare_needs_two_models(run: Run) -> None:
    result = run("compare", "hi", "-m", "a", "-m", "a", "--base-url", "http://x", "--token", "t")
    assert result.code == 2
    assert "two different models" in result.err


def test_chat_rejects_prompt_with_interactive(run: Run) -> None:
    result = run("chat", "hi", "-i", "--base-url", "http://x", "--token", "t")
    assert result.code == 2


def test_empty_stdin_prompt_is_a_usage_error(run: Run) -> None:
    result = run("chat", "--base-url", "http://x", "--token", "t", stdin="  \n")
    assert result.code == 2
    assert "empty" in result.err


def test_keyboard_interrupt_exits_130(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    import meshapi.cli._models as commands

    def interrupted(context: Any) -> int:
        context.client()  # the client that main must close
        raise KeyboardInterrupt

    monkeypatch.setattr(commands, "run_models", interrupted)
    result = run("models", "--base-url", "http://127.0.0.1:9", "--token", "t")
    assert result.code == 130
    assert result.err_lines == ["meshapi: interrupted"]


def test_unexpected_error_is_one_line(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    import meshapi.cli._models as commands

    def broken(context: Any) -> int:
        raise RuntimeError("boom\nsecond line")

    monkeypatch.delenv("MESHAPI_CLI_DEBUG", raising=False)
    monkeypatch.setattr(commands, "run_models", broken)
    result = run("models", "--base-url", "http://127.0.0.1:9", "--token", "t")
    assert result.code == 1
    assert len(result.err_lines) == 1
    assert "RuntimeError: boom second line" in result.err


def test_describe_api_error_names_code_request_id_and_hint() -> None:
    from meshapi._errors import AuthenticationError, RateLimitError

    line, code = describe(
        AuthenticationError("Invalid API key", status=401, error_code="unauthorized", request_id="req_1"),
        "chat",
    )
    assert code == 1
    assert line == (
        "meshapi: chat failed: AuthenticationError: Invalid API key "
        "(code: unauthorized, HTTP 401, request id: req_1); check MESHAPI_TOKEN (or --token)"
    )
    line, _ = describe(
        RateLimitError(
            "slow", status=429, error_code="rate_limit_exceeded", request_id="", retry_after_seconds=3
        ),
        "x",
    )
    assert "retry in 3s" in line and "request id" not in line


def test_plain_table_alignment() -> None:
    lines = plain_table(["id", "n"], [["a", "1"], ["long-id", "22"]], right=("n",))
    assert lines == ["id        n", "-------  --", "a         1", "long-id  22"]


def test_python_dash_m_entry_point() -> None:
    import subprocess

    done = subprocess.run(
        [sys.executable, "-m", "meshapi", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0
    assert done.stdout.startswith("meshapi ")


def test_main_defaults_to_sys_argv(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["meshapi", "--version"])
    assert main() == 0
    assert capsys.readouterr().out.startswith("meshapi ")


def test_a_404_hint_tells_an_unknown_route_from_an_unknown_id(
    gw: Any, run: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    import re

    id_line = (
        r"meshapi: getting the batch failed: NotFoundError: Batch 'batch_nope' not found\. "
        r"\(code: not_found, HTTP 404, request id: req_\w+\); "
        r"check the id or name \(`meshapi batches list` shows yours\)"
    )
    unknown_id = run("batches", "get", "batch_nope")
    assert unknown_id.code == 1
    assert re.fullmatch(id_line, unknown_id.err_lines[0])
    monkeypatch.setenv("MESHAPI_BASE_URL", gw.base_url + "/api")  # no API under /api
    unknown_route = run("batches", "get", "batch_nope")
    assert unknown_route.code == 1
    assert re.fullmatch(
        r"meshapi: getting the batch failed: NotFoundError: No route for GET /api/v1/batches/batch_nope\. "
        r"\(code: not_found, HTTP 404, request id: req_\w+\); the server has no such endpoint: check "
        r"MESHAPI_BASE_URL \(or --base-url\); give the API's root URL, meshapi adds /v1/\.\.\. itself",
        unknown_route.err_lines[0],
    )
    monkeypatch.setenv("MESHAPI_BASE_URL", gw.base_url + "/v1/")  # openai-python's habit: accepted
    after_v1 = run("batches", "get", "batch_nope")
    assert after_v1.code == 1
    assert re.fullmatch(id_line, after_v1.err_lines[0])


def test_a_404_from_a_server_that_is_not_the_api_names_the_base_url() -> None:
    from meshapi import NotFoundError

    page = NotFoundError("<html>404 Not Found</html>", status=404, error_code="parse_error", request_id="")
    line, code = describe(page, "listing models")
    assert code == 1
    assert line.endswith(
        "; the server has no such endpoint: check MESHAPI_BASE_URL (or --base-url); "
        "give the API's root URL, meshapi adds /v1/... itself"
    )
