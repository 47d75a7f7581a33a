"""The CLI's rough edges, removed: exact stderr lines and exit codes, in process, against the gateway."""

from __future__ import annotations

import builtins
import json
import re
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Iterator, List

import pytest

from meshapi.cli import _chat
from meshapi.cli._ui import UI

from .conftest import Result

Run = Callable[..., Result]
CHAT_MODEL = "openai/gpt-4o-mini"


def _last_rid(gw: Any, path: str) -> str:
    return str(gw.requests.filter(path=path)[-1].request_id)


# --- retries, 422 details, hints ----------------------------------------------------------------------


def test_a_retry_is_announced_on_stderr(gw: Any, run: Run) -> None:
    gw.faults.add("/v1/models", status=429, retry_after="0", times=1)
    result = run("models", "--json")
    assert result.code == 0
    first = gw.requests.filter(path="/v1/models")[-2]
    assert first.status == 429
    assert result.err_lines == [
        f"meshapi: GET /v1/models -> 429; retrying in 0.00s (retry 1, request id {first.request_id})"
    ]
    json.loads(result.out)  # stdout is still only the JSON document


def test_a_network_retry_is_announced_too(run: Run, sentinel: Any) -> None:
    port = sentinel.url.rsplit(":", 1)[1]
    sentinel.close()  # nothing listens there any more: connection refused
    result = run("models", "--base-url", f"http://127.0.0.1:{port}", "--token", "t", "--max-retries", "1")
    assert result.code == 1
    assert len(result.err_lines) == 2
    assert re.fullmatch(
        r"meshapi: GET /v1/models failed \(ConnectError\); retrying in 0\.\d\ds \(retry 1\)",
        result.err_lines[0],
    ), result.err_lines[0]
    assert result.err_lines[1].startswith("meshapi: listing models failed: APIConnectionError")


def test_422_details_name_the_field(gw: Any, run: Run) -> None:
    result = run("templates", "create", "--name", "")
    assert result.code == 1
    rid = _last_rid(gw, "/v1/templates")
    assert result.err_lines == [
        "meshapi: creating the template failed: UnprocessableEntityError: Request validation failed. "
        "[name: String should have at least 1 character] "
        f"(code: validation_error, HTTP 422, request id: {rid}); check the arguments"
    ]


def test_configuration_errors_name_cli_options(run: Run) -> None:
    result = run("--base-url", "ftp://x", "--token", "t", "models")
    assert result.code == 2
    assert result.err_lines == [
        "meshapi: listing models: --base-url must start with http:// or https:// and name a host, "
        "got 'ftp://x' (configuration_error); set MESHAPI_BASE_URL and MESHAPI_TOKEN "
        "(or pass --base-url and --token)"
    ]


def test_wait_and_processing_hints_name_cli_commands() -> None:
    from meshapi import ProcessingFailedError, WaitTimeoutError
    from meshapi.cli._failures import describe

    batch = WaitTimeoutError(
        "Batch 'batch_1' did not finish within 5s (last status: 'in_progress'); it keeps running on the "
        "gateway: wait again or cancel it.",
        resource_id="batch_1",
        request_id="req_1",
    )
    line, code = describe(batch, "waiting")
    assert code == 1
    assert line == (
        "meshapi: waiting failed: WaitTimeoutError: Batch 'batch_1' did not finish within 5s (last status: "
        "'in_progress') (code: wait_timeout, request id: req_1); it keeps running: `meshapi batches watch "
        "batch_1` follows it, `meshapi batches cancel batch_1` stops it"
    )
    rag = WaitTimeoutError(
        "File 'f1' was not embedded within 1s (upload_status='uploaded', embedding_status='pending'); it "
        "may still finish: wait again or check rag.get().",
        resource_id="f1",
        request_id="",
    )
    assert describe(rag, "waiting")[0].endswith("; it may still finish: `meshapi rag list` shows its status")
    assert "rag.get()" not in describe(rag, "waiting")[0]
    failed = ProcessingFailedError(
        "The embedding of file 'f1' failed (bad_file); retry the embedding with rag.embed(file_ids=[...])",
        error_code="bad_file",
        request_id="req_2",
    )
    line = describe(failed, "uploading a.txt")[0]
    assert "rag.embed" not in line
    assert line.endswith("; upload the file again with `meshapi rag upload FILE`")


# --- compare ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("as_json", [False, True])
def test_compare_exits_1_and_names_the_failed_model(gw: Any, run: Run, as_json: bool) -> None:
    argv = ["compare", "Name a benefit of tests", "-m", CHAT_MODEL, "-m", "nosuch/model"]
    result = run(*argv, *(["--json"] if as_json else []))
    assert result.code == 1
    assert result.err_lines == [
        "meshapi: compare: nosuch/model failed: Model 'nosuch/model' not found.",
        "meshapi: compare: 1 of 2 models failed",
    ]
    if as_json:
        assert json.loads(result.out)["models"]  # the answers that worked are still there
    else:
        assert CHAT_MODEL in result.out


# --- interactive chat ---------------------------------------------------------------------------------


def _chat_requests(gw: Any) -> List[Any]:
    return list(gw.requests.filter(path="/v1/chat/completions"))


def test_slash_commands_are_not_prompts(gw: Any, run: Run) -> None:
    before = len(_chat_requests(gw))
    script = "/help\n/nosuch\n/model anthropic/claude-3.5-haiku\n/history\n//literal slash\n/system Be brief.\n/exit\n"
    result = run("chat", "-i", stdin=script)
    assert result.code == 0, result.err
    sent = _chat_requests(gw)[before:]
    assert len(sent) == 1  # only "//literal slash" went to the model
    assert sent[0].json["model"] == "anthropic/claude-3.5-haiku"
    assert sent[0].json["messages"] == [{"role": "user", "content": "/literal slash"}]
    assert "commands:" in result.err and "/model [ID]" in result.err
    assert "unknown command /nosuch; /help lists the commands (//text sends a message starting with /)" in (
        result.err_lines
    )
    assert "model: anthropic/claude-3.5-haiku (from the next answer)" in result.err_lines
    assert "0 messages in the next request" in result.err_lines


def test_ctrl_c_cancels_the_answer_not_the_session(
    gw: Any, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = len(_chat_requests(gw))
    original = UI.write
    pieces = {"n": 0}

    def write(self: UI, text: str) -> None:
        pieces["n"] += 1
        if pieces["n"] == 3:  # Ctrl-C while the first answer streams
            raise KeyboardInterrupt
        original(self, text)

    monkeypatch.setattr(UI, "write", write)
    result = run("chat", "-i", stdin="Tell me a long story\nAnd now a short one\n")
    assert result.code == 0, result.err
    assert result.err_lines == ["(answer cancelled; Ctrl-D or /exit ends the session)"]
    sent = _chat_requests(gw)[before:]
    assert len(sent) == 2
    assert sent[1].json["messages"] == [{"role": "user", "content": "And now a short one"}]
    assert result.out.endswith("\n")
    # The partial first answer was ended with a newline before the second one started.
    assert len([line for line in result.out.splitlines() if line.strip()]) == 2


def test_a_note_never_starts_on_a_partial_reply_line(gw: Any, run: Run) -> None:
    gw.faults.add("/v1/chat/completions", drop_after_events=3, times=1)
    result = run("chat", "-i", stdin="Tell me a long story about the sea\nhi\n")
    assert result.code == 1
    assert result.out.count("\n") == 2 and result.out.endswith("\n")
    assert result.err_lines[0].startswith("meshapi: chat turn failed: StreamInterruptedError")


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> Iterator[List[Any]]:
    """A pretend terminal: ``input()`` answers from the list (an exception in it is raised)."""
    answers: List[Any] = []

    def fake_input(prompt: str = "") -> str:
        import sys

        sys.stdout.write(prompt)
        answer = answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return str(answer)

    monkeypatch.setattr(_chat, "is_tty", lambda stream: True)
    monkeypatch.setattr(builtins, "input", fake_input)
    yield answers


def test_ctrl_d_ends_on_a_new_line_and_ctrl_c_at_the_prompt_goes_on(
    gw: Any, run: Run, terminal: List[Any]
) -> None:
    terminal.extend([KeyboardInterrupt(), "/model", EOFError()])
    result = run("chat", "-i")
    assert result.code == 0, result.err
    assert result.out == "you> \nyou> you> \n"
    assert result.err_lines == [
        f"chatting with {CHAT_MODEL}; /help lists the commands, /exit or Ctrl-D quits",
        f"model: {CHAT_MODEL}",
    ]


# --- images -------------------------------------------------------------------------------------------


def test_images_size_format_and_force(gw: Any, run: Run, tmp_path: Path) -> None:
    target = tmp_path / "out.png"
    bad = run("images", "generate", "x", "-o", str(target), "--size", "huge")
    assert bad.code == 2
    assert bad.err_lines == [
        "meshapi: --size must be WIDTHxHEIGHT in pixels, each 1 to 4096 (e.g. 1024x1024), got 'huge'"
    ]
    sent = len(gw.requests.filter(path="/v1/images/generations"))
    gif = run("images", "generate", "x", "-o", str(tmp_path / "out.gif"))
    assert gif.code == 2
    assert gif.err_lines == [
        f"meshapi: -o {tmp_path / 'out.gif'}: the gateway returns PNG images and meshapi does not convert "
        "them; name the file .png (e.g. out.png)"
    ]
    jpeg = run("images", "generate", "x", "-o", str(tmp_path / "out.jpg"))
    assert jpeg.code == 2  # refused before calling (tests/cli/test_newcomer_cli.py)
    assert len(gw.requests.filter(path="/v1/images/generations")) == sent
    assert not (tmp_path / "out.jpg").exists()

    made = run("images", "generate", "x", "-o", str(target), "--size", "32x16")
    assert made.code == 0, made.err
    data = target.read_bytes()
    assert int.from_bytes(data[16:20], "big") == 32 and int.from_bytes(data[20:24], "big") == 16
    assert made.out == f"wrote {target} (32x16 px, {len(data):,} bytes)\n"
    assert made.err == ""
    again = run("images", "generate", "y", "-o", str(target))
    assert again.code == 2
    assert again.err_lines == [f"meshapi: {target} already exists; pass --force to overwrite"]
    assert target.read_bytes() == data
    forced = run("images", "generate", "y", "-o", str(target), "--size", "1024x512", "--force")
    assert forced.code == 0
    assert target.read_bytes() != data
    assert forced.err_lines == ["meshapi: asked for 1024x512 pixels, the gateway drew 64x32"]


# --- realtime -----------------------------------------------------------------------------------------


def test_realtime_refuses_an_empty_text_and_reads_stdin(gw: Any, run: Run) -> None:
    empty = run("realtime", "")
    assert empty.code == 2
    assert empty.err_lines == ["meshapi: the text is empty"]
    blank = run("realtime", stdin="   \n")
    assert blank.code == 2
    assert blank.err_lines == ["meshapi: the text read from stdin is empty"]
    pytest.importorskip("websockets")
    piped = run("realtime", "--json", stdin="Say hello\n")
    assert piped.code == 0, piped.err
    document = json.loads(piped.out)
    assert document["text"] == "Say hello" and document["reply"]


# --- batches ------------------------------------------------------------------------------------------


def _finished_batch(gw: Any, run: Run, tmp_path: Path) -> str:
    path = tmp_path / "b.jsonl"
    line = {"custom_id": "x", "body": {"model": CHAT_MODEL, "messages": [{"role": "user", "content": "Yo"}]}}
    path.write_text(json.dumps(line) + "\n" + json.dumps({**line, "custom_id": "y"}) + "\n")
    created = run("batches", "create", str(path), "--watch", "--interval", "0.05", "--json")
    assert created.code == 0, created.err
    document = json.loads(created.out)
    assert document["status"] == "completed"
    return str(document["id"])


def test_batches_list_counts_and_cancel_on_a_finished_batch(gw: Any, run: Run, tmp_path: Path) -> None:
    batch_id = _finished_batch(gw, run, tmp_path)
    listed = run("batches", "list", "--limit", "3")
    assert listed.code == 0
    row = next(line for line in listed.out.splitlines() if batch_id in line)
    assert "2/2" in row
    as_json = json.loads(run("batches", "list", "--limit", "3", "--json").out)
    assert next(b for b in as_json if b["id"] == batch_id)["request_counts"]["total"] == 2
    cancel = run("batches", "cancel", batch_id)
    assert cancel.code == 1
    assert cancel.err_lines == [
        f"meshapi: batch {batch_id} already ended (completed); there is nothing to cancel"
    ]
    assert "completed" in cancel.out


# --- templates ----------------------------------------------------------------------------------------


def test_templates_by_name_fill_and_chat(gw: Any, run: Run) -> None:
    name = f"greet-{uuid.uuid4().hex[:6]}"
    created = run(
        "templates", "create", "--name", name, "--system", "Greet {{ who }} in {{ lang }}.", "--json"
    )
    template_id = json.loads(created.out)["id"]
    shown = json.loads(run("templates", "get", name, "--json").out)
    assert shown["id"] == template_id
    missing = run("templates", "fill", name, "--var", "who=Ann")
    assert missing.code == 2
    assert missing.err_lines == [f"meshapi: template {name!r} needs a value for lang: add --var lang=..."]
    filled = run("templates", "fill", name, "--var", "who=Ann", "--var", "lang=Dutch")
    assert filled.code == 0
    assert filled.out == "system: Greet Ann in Dutch.\n"
    bad_var = run("templates", "fill", name, "--var", "who")
    assert bad_var.code == 2
    assert bad_var.err_lines == ["meshapi: --var takes NAME=VALUE (NAME of letters, digits, _), got 'who'"]

    chat = run("chat", "--template", name, "--var", "who=Ann", "--var", "lang=Dutch", "hello")
    assert chat.code == 0, chat.err
    assert chat.out.strip()
    body = gw.requests.filter(path="/v1/chat/completions")[-1].json
    assert body["template"] == name and body["variables"] == {"who": "Ann", "lang": "Dutch"}
    assert "model" not in body  # the template's (or the key's) default model applies
    unfilled = run("chat", "--template", name, "hello")
    assert unfilled.code == 1
    assert unfilled.err_lines[0].endswith("; give each missing value with --var NAME=VALUE")
    unknown = run("chat", "--template", "no-such-template", "hello")
    assert unknown.err_lines[0].endswith("; check the id or name (`meshapi templates list` shows yours)")
    lone = run("chat", "--var", "who=Ann", "hello")
    assert lone.code == 2
    assert lone.err_lines == ["meshapi: --var fills a template's slots: give --template too"]

    renamed = run("templates", "update", name, "--description", "by name", "--json")
    assert json.loads(renamed.out)["description"] == "by name"
    deleted = run("templates", "delete", name)
    assert deleted.out == f"deleted template {template_id}\n"
    gone = run("templates", "get", name)
    assert gone.code == 1
    assert gone.err_lines[0].startswith(
        f"meshapi: getting the template failed: NotFoundError: No template with the id or name {name!r}; "
        "`meshapi templates list` shows yours."
    )


def test_global_options_after_the_command_are_honoured(gw: Any, run: Run) -> None:
    started = time.monotonic()
    result = run("templates", "list", "--json", "--token", gw.token, "--base-url", gw.base_url)
    assert result.code == 0
    assert isinstance(json.loads(result.out), list)
    wrong = run("--token", "rsk_not_this_one", "models")
    assert wrong.code == 1 and "HTTP 401" in wrong.err
    assert time.monotonic() - started < 10
