"""Every command against the local gateway, in process: happy paths, --json, error paths."""

from __future__ import annotations

import json
import sys
from typing import Any, Callable, Dict, List

import pytest

from .conftest import Result

Run = Callable[..., Result]

CHAT_MODEL = "openai/gpt-4o-mini"
OTHER_MODEL = "anthropic/claude-3.5-haiku"


def _json(result: Result) -> Any:
    assert result.code == 0, result.err
    return json.loads(result.out)  # stdout is exactly one JSON document


def _no_ansi(result: Result) -> None:
    assert "\x1b[" not in result.out


# --- chat ---------------------------------------------------------------------------------------------


def test_chat_streams_the_reply(gw: Any, run: Run) -> None:
    result = run("chat", "Tell me about lighthouses")
    assert result.code == 0, result.err
    assert result.out.strip()
    assert result.err == ""  # stdout is not a terminal: no stats line
    _no_ansi(result)
    document = _json(run("chat", "Tell me about lighthouses", "--json"))
    assert document["choices"][0]["message"]["content"] == result.out.rstrip("\n")
    assert document["model"] == CHAT_MODEL
    assert document["usage"]["completion_tokens"] > 0


def test_chat_options_reach_the_request(gw: Any, run: Run) -> None:
    document = _json(
        run(
            "chat",
            "Explain tides",
            "--system",
            "Be brief.",
            "--max-tokens",
            "5",
            "-t",
            "0",
            "-m",
            OTHER_MODEL,
            "--json",
        )
    )
    assert document["model"] == OTHER_MODEL
    assert document["usage"]["completion_tokens"] <= 5
    assert document["choices"][0]["finish_reason"] == "length"


def test_chat_reads_the_prompt_from_stdin(gw: Any, run: Run) -> None:
    from_stdin = _json(run("chat", "--json", stdin="What is a harbour?\n"))
    from_arg = _json(run("chat", "What is a harbour?", "--json"))
    assert from_stdin["choices"][0]["message"]["content"] == from_arg["choices"][0]["message"]["content"]
    dash = _json(run("chat", "-", "--json", stdin="What is a harbour?"))
    assert dash["choices"][0]["message"]["content"] == from_arg["choices"][0]["message"]["content"]


def test_chat_interactive_keeps_history(gw: Any, run: Run) -> None:
    before = len(gw.requests.filter(path="/v1/chat/completions"))
    result = run("chat", "-i", "--json", stdin="Hello there\n\nTell me more\n/exit\nnever sent\n")
    assert result.code == 0, result.err
    turns = [json.loads(line) for line in result.out.splitlines()]
    assert len(turns) == 2
    assert turns[1]["usage"]["prompt_tokens"] > turns[0]["usage"]["prompt_tokens"]  # history was sent
    requests = gw.requests.filter(path="/v1/chat/completions")[before:]
    assert len(requests) == 2
    second = requests[1].json["messages"]
    assert [m["role"] for m in second] == ["user", "assistant", "user"]
    assert second[1]["content"] == turns[0]["choices"][0]["message"]["content"]


def test_chat_interactive_plain_reset_and_eof(gw: Any, run: Run) -> None:
    before = len(gw.requests.filter(path="/v1/chat/completions"))
    result = run("chat", "-i", "--system", "Be brief.", stdin="one\n/reset\ntwo\n")
    assert result.code == 0, result.err
    assert "history cleared" in result.err
    requests = gw.requests.filter(path="/v1/chat/completions")[before:]
    assert [m["role"] for m in requests[1].json["messages"]] == ["system", "user"]
    assert len([line for line in result.out.splitlines() if line.strip()]) >= 2


def test_chat_interactive_failed_turn_goes_on(gw: Any, run: Run) -> None:
    gw.faults.add("/v1/chat/completions", status=400, times=1)
    result = run("chat", "-i", "--json", stdin="first\nsecond\n")
    assert result.code == 1
    assert len(result.out.splitlines()) == 1  # the second turn still ran
    assert "BadRequestError" in result.err


def test_bad_token_is_one_line_with_request_id(gw: Any, run: Run) -> None:
    result = run("chat", "hello", "--token", "rsk_definitely_wrong_token")
    assert result.code == 1
    assert result.out == ""
    assert len(result.err_lines) == 1
    line = result.err_lines[0]
    assert "AuthenticationError" in line and "HTTP 401" in line
    assert "request id: " in line
    assert "check MESHAPI_TOKEN" in line
    assert "rsk_definitely_wrong_token" not in result.err


def test_unknown_model_exits_1(gw: Any, run: Run) -> None:
    result = run("chat", "hello", "-m", "nosuch/model")
    assert result.code == 1
    assert len(result.err_lines) == 1
    assert "NotFoundError" in result.err and "request id: " in result.err


def test_server_error_after_retries(gw: Any, run: Run) -> None:
    gw.faults.add("/v1/models", status=503, retry_after="0", times=1)
    result = run("models", "--json")  # retried once, then succeeds
    assert result.code == 0
    gw.faults.add("/v1/models", status=500, times=1)
    result = run("models", "--max-retries", "0")
    assert result.code == 1
    assert "InternalServerError" in result.err


def test_stream_interrupted_is_reported(gw: Any, run: Run) -> None:
    gw.faults.add("/v1/chat/completions", drop_after_events=2, times=1)
    result = run("chat", "Tell me a long story about the sea")
    assert result.code == 1
    assert "StreamInterruptedError" in result.err_lines[-1]


# --- compare ------------------------------------------------------------------------------------------


def test_compare_plain(gw: Any, run: Run) -> None:
    result = run("compare", "Name a benefit of tests", "-m", CHAT_MODEL, "-m", OTHER_MODEL)
    assert result.code == 0, result.err
    assert f"── {CHAT_MODEL} ──" in result.out and f"── {OTHER_MODEL} ──" in result.out
    assert "── synthesis" in result.out
    assert "usage and cost" in result.out
    assert "$0." in result.out
    _no_ansi(result)


def test_compare_json(gw: Any, run: Run) -> None:
    document = _json(run("compare", "Name a benefit of tests", "-m", CHAT_MODEL, "-m", OTHER_MODEL, "--json"))
    assert [r["model"] for r in document["results"]] == [CHAT_MODEL, OTHER_MODEL]
    assert document["comparison"]
    assert set(document["estimated_cost_usd"]) == {CHAT_MODEL, OTHER_MODEL}
    assert all(value is not None for value in document["estimated_cost_usd"].values())


def test_compare_skip_comparison(gw: Any, run: Run) -> None:
    result = run("compare", "Say hi", "-m", CHAT_MODEL, "-m", OTHER_MODEL, "--skip-comparison")
    assert result.code == 0, result.err
    assert "── synthesis" not in result.out
    assert f"── {OTHER_MODEL} ──" in result.out
    document = _json(
        run("compare", "Say hi", "-m", CHAT_MODEL, "-m", OTHER_MODEL, "--skip-comparison", "--json")
    )
    assert document["comparison"] is None
    assert all(r["content"] for r in document["results"])


def test_compare_live_view_on_a_terminal(gw: Any, run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("rich")
    import meshapi.cli._ui as ui

    monkeypatch.setattr(ui, "_is_tty", lambda stream: True)
    result = run("compare", "Name a benefit of tests", "-m", CHAT_MODEL, "-m", OTHER_MODEL)
    assert result.code == 0, result.err
    assert CHAT_MODEL in result.out and "synthesis" in result.out and "usage and cost" in result.out


# --- models -------------------------------------------------------------------------------------------


def test_models_table_and_filters(gw: Any, run: Run) -> None:
    result = run("models")
    assert result.code == 0, result.err
    assert CHAT_MODEL in result.out and "prompt $/1M" in result.out
    _no_ansi(result)
    everything = _json(run("models", "--json"))
    free = _json(run("models", "--free", "--json"))
    paid = _json(run("models", "--paid", "--json"))
    assert len(free) + len(paid) == len(everything)
    assert all(m["is_free"] for m in free) and not any(m["is_free"] for m in paid)
    found = _json(run("models", "--search", "EMBEDDING", "--json"))
    assert found and all(
        "embedding" in (m["id"] + m["name"] + (m.get("description") or "")).lower() for m in found
    )
    assert run("models", "--free", "--paid").code == 2


def test_models_plain_text_without_rich(gw: Any, run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "rich", None)  # import rich -> ImportError
    result = run("models")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0].split()[:2] == ["id", "name"] and set(lines[1].replace(" ", "")) == {"-"}
    assert any(line.startswith(CHAT_MODEL) for line in lines)


# --- embeddings ---------------------------------------------------------------------------------------


def test_embed(gw: Any, run: Run) -> None:
    result = run("embed", "the cat sat on the mat", "a cat sat on a mat", "stock prices fell")
    assert result.code == 0, result.err
    assert "cosine similarity" in result.out
    document = _json(run("embed", "red apple", "green pear", "--dimensions", "8", "--json"))
    assert [len(item["embedding"]) for item in document["data"]] == [8, 8]


# --- rag ----------------------------------------------------------------------------------------------


def test_rag_upload_list_search(gw: Any, run: Run, tmp_path: Any) -> None:
    doc = tmp_path / "tides.txt"
    doc.write_text("The spring tide at Carrow Point peaks at dawn.\nFishing boats leave at low water.\n")
    uploaded = _json(run("rag", "upload", str(doc), "--wait", "--json"))
    assert uploaded[0]["embedding_status"] == "ready"
    file_id = uploaded[0]["file_id"]
    listed = _json(run("rag", "list", "--json"))
    assert file_id in [f["file_id"] for f in listed]
    found = _json(run("rag", "search", "When does the spring tide peak?", "--top-k", "3", "--json"))
    assert found["results"][0]["file_id"] == file_id
    table = run("rag", "search", "spring tide", "--file-id", file_id)
    assert table.code == 0 and "tides.txt" in table.out
    listing = run("rag", "list", "--limit", "1")
    assert listing.code == 0 and "1 file" in listing.err


def test_rag_upload_plain_and_no_embed(gw: Any, run: Run, tmp_path: Any) -> None:
    one, two = tmp_path / "a.md", tmp_path / "b.txt"
    one.write_text("# Notes\nAnchors hold ships in place.\n")
    two.write_text("Sails catch the wind.\n")
    result = run("rag", "upload", str(one), str(two))
    assert result.code == 0, result.err
    assert "a.md" in result.out and "b.txt" in result.out
    stored = _json(run("rag", "upload", str(two), "--no-embed", "--wait", "--json"))
    assert stored[0]["upload_status"] == "ready"


# --- batches ------------------------------------------------------------------------------------------


def _batch_file(tmp_path: Any, lines: List[Dict[str, Any]]) -> str:
    path = tmp_path / "requests.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    return str(path)


def test_batches_lifecycle(gw: Any, run: Run, tmp_path: Any) -> None:
    path = _batch_file(
        tmp_path,
        [
            {
                "custom_id": "a",
                "body": {"model": CHAT_MODEL, "messages": [{"role": "user", "content": "Hi"}]},
            },
            {"model": CHAT_MODEL, "messages": [{"role": "user", "content": "Hello"}]},  # bare request
        ],
    )
    created = _json(run("batches", "create", path, "--json"))
    batch_id = created["id"]
    watched = _json(run("batches", "watch", batch_id, "--interval", "0.05", "--json"))
    assert watched["status"] == "completed"
    assert sorted(r["custom_id"] for r in watched["results"]) == ["a", "line-2"]
    assert _json(run("batches", "get", batch_id, "--json"))["id"] == batch_id
    assert batch_id in [b["id"] for b in _json(run("batches", "list", "--json"))]
    shown = run("batches", "get", batch_id)
    assert shown.code == 0 and "completed" in shown.out and "results" in shown.out
    listed = run("batches", "list", "--limit", "5")
    assert listed.code == 0 and batch_id in listed.out


def test_batches_create_watch_plain(gw: Any, run: Run, tmp_path: Any) -> None:
    path = _batch_file(
        tmp_path,
        [{"custom_id": "x", "body": {"model": CHAT_MODEL, "messages": [{"role": "user", "content": "Yo"}]}}],
    )
    result = run("batches", "create", path, "--watch", "--interval", "0.05")
    assert result.code == 0, result.err
    assert "completed" in result.out and "x" in result.out


def test_batches_cancel(gw: Any, run: Run, tmp_path: Any) -> None:
    path = _batch_file(
        tmp_path,
        [{"custom_id": "x", "body": {"model": CHAT_MODEL, "messages": [{"role": "user", "content": "Yo"}]}}],
    )
    batch_id = _json(run("batches", "create", path, "--json"))["id"]
    result = run("batches", "cancel", batch_id)
    # A batch may already have finished on a fast gateway: then the CLI says so (exit 1).
    assert result.code in (0, 1)
    if result.code == 1:
        assert "already ended" in result.err
    else:
        assert batch_id in result.out


def test_batches_get_unknown(gw: Any, run: Run) -> None:
    result = run("batches", "get", "batch_nope")
    assert result.code == 1
    assert "NotFoundError" in result.err


# --- templates ----------------------------------------------------------------------------------------


def test_templates_crud(gw: Any, run: Run) -> None:
    created = _json(
        run(
            "templates",
            "create",
            "--name",
            "cli-test",
            "--system",
            "Be terse.",
            "--model",
            CHAT_MODEL,
            "--json",
        )
    )
    template_id = created["id"]
    assert created["system"] == "Be terse."
    assert _json(run("templates", "get", template_id, "--json"))["name"] == "cli-test"
    assert template_id in [t["id"] for t in _json(run("templates", "list", "--json"))]
    updated = _json(run("templates", "update", template_id, "--description", "short answers", "--json"))
    assert updated["description"] == "short answers"
    shown = run("templates", "get", template_id)
    assert shown.code == 0 and "short answers" in shown.out
    assert run("templates", "list").code == 0
    assert run("templates", "update", template_id).code == 2  # nothing to update
    deleted = run("templates", "delete", template_id)
    assert deleted.code == 0 and template_id in deleted.out
    gone = run("templates", "get", template_id)
    assert gone.code == 1 and "NotFoundError" in gone.err


# --- images -------------------------------------------------------------------------------------------


def test_images_generate(gw: Any, run: Run, tmp_path: Any) -> None:
    target = tmp_path / "out.png"
    result = run("images", "generate", "a lighthouse at night", "-o", str(target), "--size", "256x256")
    assert result.code == 0, result.err
    assert str(target) in result.out
    assert target.read_bytes().startswith(b"\x89PNG")
    document = _json(
        run("images", "generate", "two boats", "-o", str(tmp_path / "b.png"), "-n", "2", "--json")
    )
    assert [entry["path"] for entry in document["images"]] == [
        str(tmp_path / "b-1.png"),
        str(tmp_path / "b-2.png"),
    ]
    assert run("images", "generate", "x", "-o", str(tmp_path / "missing" / "x.png")).code == 2


# --- realtime -----------------------------------------------------------------------------------------


def test_realtime_turn(gw: Any, run: Run) -> None:
    pytest.importorskip("websockets")
    pytest.importorskip("meshapi.resources.realtime", reason="realtime resource not written yet")
    result = run("realtime", "Say hello")
    assert result.code == 0, result.err
    assert result.out.strip()
    document = _json(run("realtime", "Say hello", "--json"))
    assert document["reply"]


# --- gateway ------------------------------------------------------------------------------------------


def test_gateway_arguments_are_forwarded(run: Run) -> None:
    pytest.importorskip("meshapi_gateway")
    from meshapi import gateway

    if not hasattr(gateway, "main"):
        pytest.skip("meshapi.gateway.main not written yet")
    result = run("gateway", "--help")
    assert result.code == 0
    assert "usage" in (result.out + result.err).lower()


def test_ctrl_c_mid_stream_closes_stream_and_client(
    gw: Any, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    from meshapi import MeshAPI
    from meshapi._streaming import Stream
    from meshapi.cli._ui import UI

    closed: List[str] = []
    stream_close, client_close = Stream.close, MeshAPI.close

    def record_stream(self: Any) -> None:
        closed.append("stream")
        stream_close(self)

    def record_client(self: Any) -> None:
        closed.append("client")
        client_close(self)

    def interrupt(self: Any, text: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(Stream, "close", record_stream)
    monkeypatch.setattr(MeshAPI, "close", record_client)
    monkeypatch.setattr(UI, "write", interrupt)
    result = run("chat", "Tell me a story")
    assert result.code == 130
    assert result.err_lines == ["meshapi: interrupted"]
    assert closed[0] == "stream" and "client" in closed
