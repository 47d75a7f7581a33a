"""``meshapi demo``: a guided tour of every feature, one numbered step at a time.

Safe by default: it starts the local gateway inside the process unless ``--base-url`` names another
gateway on the command line. Exported ``MESHAPI_BASE_URL`` / ``MESHAPI_TOKEN`` alone never send the
tour (and its paid calls) anywhere; ``--token`` alone becomes the token of the local gateway. Against
a named gateway the fault-injection step only explains itself, since faults are a local-gateway
feature. Each step prints a heading and one line saying what it shows, then its result. A step that
fails stops the tour: one line names the step and the error, and the exit code is 1. The tour leaves
nothing behind: the template it creates is deleted and the generated image is written to a temporary
directory that is removed when the tour ends (the RAG file, which has no delete endpoint, dies with
the local gateway).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import pathlib
import time
import traceback
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

from .._errors import NotFoundError, RateLimitError
from ._args import Commands
from ._compare import cost_rows, show_costs, stream_compare
from ._context import Context
from ._demo_families import FAMILY_STEPS
from ._failures import EXIT_API, EXIT_OK, StepFailed, describe
from ._rag import cosine

__all__ = ["STEP_TITLES", "register", "run_demo"]

CHAT_MODEL = "openai/gpt-4o-mini"
OTHER_MODEL = "anthropic/claude-3.5-haiku"
EMBEDDING_MODEL = "openai/text-embedding-3-small"
IMAGE_MODEL = "openai/gpt-image-1"
REALTIME_MODEL = "openai/gpt-realtime-mini"

_RAG_DOCUMENT = """\
The lighthouse keeper of Carrow Point logs the tide tables every morning at six.
Storm warnings are raised with two red flags on the mast above the harbour office.
The lighthouse lamp was converted from paraffin to electricity in 1958.
"""


def register(commands: Commands) -> None:
    demo = commands.leaf(
        "demo",
        help="a guided tour of every feature (a local gateway unless --base-url names one)",
        handler=run_demo,
        action="demo",
    )
    demo.add_argument("--latency", type=float, default=0.005, help=argparse.SUPPRESS)


class _Tour:
    """State shared by the steps: the context, the local gateway (``None`` when remote), notes."""

    def __init__(self, context: Context, gateway: Any, workdir: pathlib.Path) -> None:
        self.context = context
        self.ui = context.ui
        self.gateway = gateway
        self.client = context.client()
        self.summary: Dict[str, Any] = {}
        self.workdir = workdir
        self.image_path: Optional[pathlib.Path] = None

    def say(self, text: str) -> None:
        self.ui.line(f"   {text}")


# --- the steps ----------------------------------------------------------------------------------------


def _models(tour: _Tour) -> None:
    models = list(tour.client.models.list())
    if not models:
        raise StepFailed("the gateway lists no models")
    free = sum(1 for info in models if info.is_free)
    tour.say(f"{len(models)} models ({free} free). A few of them:")
    tour.ui.table(
        ["id", "free", "context"],
        [[info.id, info.is_free, info.context_length] for info in models[:5]],
        right=("context",),
    )
    tour.summary["models"] = len(models)


def _chat(tour: _Tour) -> None:
    reply = tour.client.chat.completions.create(
        model=CHAT_MODEL,
        messages=[{"role": "user", "content": "In one sentence, what is a lighthouse for?"}],
        max_tokens=60,
    )
    message = reply.choices[0].message if reply.choices else None
    text = message.content if message is not None and isinstance(message.content, str) else ""
    if not text:
        raise StepFailed("the completion has no text")
    tour.say(f"{reply.model}: {text}")
    if reply.usage is not None:
        tour.say(
            f"usage: {reply.usage.prompt_tokens} prompt + {reply.usage.completion_tokens} completion tokens"
        )


def _stream(tour: _Tour) -> None:
    pieces = 0
    tour.ui.write("   ")
    with tour.client.chat.completions.stream(
        model=CHAT_MODEL,
        messages=[{"role": "user", "content": "Describe a harbour at dawn in two sentences."}],
        max_tokens=80,
    ) as stream:
        for piece in stream.text_stream:
            tour.ui.write(piece)
            pieces += 1
        final = stream.get_final_completion()
    tour.ui.write("\n")
    if pieces < 2:
        raise StepFailed(f"expected several streamed pieces, got {pieces}")
    tour.say(
        f"{pieces} pieces arrived one by one; the merged completion has finish_reason={_finish(final)!r}"
    )


def _finish(completion: Any) -> Optional[str]:
    return completion.choices[0].finish_reason if completion.choices else None


def _compare(tour: _Tour) -> None:
    acc = stream_compare(
        tour.context,
        "Name one benefit of unit tests.",
        [CHAT_MODEL, OTHER_MODEL],
        max_tokens=60,
    )
    if acc.errors:
        raise StepFailed(f"models failed: {acc.errors}")
    if not acc.synthesis:
        raise StepFailed("no synthesis was streamed")
    show_costs(tour.context, cost_rows(tour.context, acc))


def _embeddings(tour: _Tour) -> None:
    sentences = [
        "The cat sat on the warm mat by the fire.",
        "A cat was sitting on the mat near the fire.",
        "Quarterly revenue grew faster than expected.",
    ]
    result = tour.client.embeddings.create(model=EMBEDDING_MODEL, input=sentences)
    vectors = [item.floats() for item in sorted(result.data, key=lambda item: item.index)]
    similar = cosine(vectors[0], vectors[1])
    unrelated = cosine(vectors[0], vectors[2])
    tour.say(f"{len(vectors)} vectors of {len(vectors[0])} dimensions")
    tour.say(f"similar sentences:   {similar:.3f}  ({sentences[0]!r} vs {sentences[1]!r})")
    tour.say(f"unrelated sentences: {unrelated:.3f}  ({sentences[0]!r} vs {sentences[2]!r})")
    if not similar > unrelated:
        raise StepFailed(
            f"the similar pair ({similar:.3f}) does not score above the unrelated one ({unrelated:.3f})"
        )


def _rag(tour: _Tour) -> None:
    rag = tour.client.rag
    name = f"lighthouse-{os.urandom(4).hex()}.txt"
    created = rag.upload_file(
        file_name=name, mime_type="text/plain", content=_RAG_DOCUMENT.encode("utf-8"), embed=True
    )
    tour.say(f"uploaded {name} as {created.file_id}; waiting for its embedding ...")
    status = rag.wait_until_ready(created.file_id, timeout=30.0, poll_interval=0.1)
    tour.say(f"{status.embedding_status}: {status.total_tokens or '?'} tokens embedded")
    query = "When was the lamp converted to electricity?"
    hits = rag.search(query=query, top_k=3, file_ids=[created.file_id]).results
    if not hits or hits[0].file_id not in (created.file_id, None):
        raise StepFailed(f"searching {query!r} did not find the uploaded document")
    tour.say(f"search {query!r} → {hits[0].file_name or hits[0].file_id} (score {hits[0].score:.3f}):")
    tour.say(f"  {' '.join(hits[0].text.split())[:100]}")


def _batch(tour: _Tour) -> None:
    batches = tour.client.batches
    questions = ["What is a tide?", "What is a harbour?", "What is a lighthouse?"]
    batch = batches.create(
        requests=[
            {
                "custom_id": f"q{index}",
                "body": {
                    "model": CHAT_MODEL,
                    "messages": [{"role": "user", "content": question}],
                    "max_tokens": 30,
                },
            }
            for index, question in enumerate(questions, 1)
        ]
    )
    tour.say(f"created {batch.id} ({batch.status}); polling until it ends ...")
    seen: List[str] = []
    deadline = time.monotonic() + 45.0
    while True:
        batch = batches.get(batch.id)
        if batch.status and (not seen or seen[-1] != batch.status):
            seen.append(batch.status)
        if batch.status in ("completed", "failed", "cancelled", "expired"):
            break
        if time.monotonic() > deadline:
            raise StepFailed(f"batch {batch.id} still {batch.status} after 45s")
        time.sleep(0.1)
    tour.say("lifecycle: " + " → ".join(seen))
    if batch.status != "completed":
        raise StepFailed(f"batch {batch.id} ended {batch.status}")
    for result in batch.results or []:
        body = result.response.body if result.response is not None else None
        content = ""
        if isinstance(body, dict) and body.get("choices"):
            content = str((body["choices"][0].get("message") or {}).get("content") or "")
        tour.say(f"{result.custom_id}: {' '.join(content.split())[:80]}")


def _template(tour: _Tour) -> None:
    templates = tour.client.templates
    name = f"demo-pirate-{os.urandom(3).hex()}"
    template = templates.create(
        name=name,
        description="Answers like a ship's captain",
        system="You are a ship's captain. Answer briefly, in nautical terms.",
        model=CHAT_MODEL,
    )
    tour.say(f"created template {template.name} ({template.id})")
    try:
        reply = tour.client.chat.completions.create(
            template=template.id,
            messages=[{"role": "user", "content": "How is the weather today?"}],
            max_tokens=40,
        )
        message = reply.choices[0].message if reply.choices else None
        text = message.content if message is not None and isinstance(message.content, str) else ""
        if not text:
            raise StepFailed("the chat that used the template has no text")
        tour.say(f"chat with template={template.id} → {reply.model}: {text}")
    finally:
        templates.delete(template.id)
    tour.say(f"deleted template {template.id}")


def _image(tour: _Tour) -> None:
    result = tour.client.images.generate(
        model=IMAGE_MODEL, prompt="a lighthouse at night", size="256x256", response_format="b64_json"
    )
    if not result.data:
        raise StepFailed("no image came back")
    path = result.data[0].save(tour.workdir / "lighthouse.png")
    size = path.stat().st_size
    tour.say(f"wrote {path.name} ({size:,} bytes, a PNG); the tour removes it when it ends")
    tour.summary["image_bytes"] = size
    tour.image_path = path  # read by the image-edit step; gone with the tour's folder


def _realtime_available() -> Optional[str]:
    try:
        import websockets  # noqa: F401
    except ImportError:
        return "the realtime extra is not installed (pip install 'meshapi[realtime]')"
    try:
        import meshapi.resources.realtime  # noqa: F401
    except ImportError:
        return "this build has no realtime support"
    return None


def _realtime(tour: _Tour) -> None:
    missing = _realtime_available()
    if missing is not None:
        tour.say(f"skipped: {missing}")
        return
    with tour.client.realtime.connect(model=REALTIME_MODEL) as session:
        reply = session.send_text("Say hello to the harbour master.")
    if not reply:
        raise StepFailed("the realtime turn returned no text")
    tour.say(f"{REALTIME_MODEL}: {reply}")


def _error(tour: _Tour) -> None:
    try:
        tour.client.chat.completions.create(
            model="nosuch/model-that-does-not-exist", messages=[{"role": "user", "content": "hi"}]
        )
    except NotFoundError as exc:
        tour.say(
            f"{type(exc).__name__}: status {exc.status}, code {exc.error_code}, request id {exc.request_id}"
        )
        tour.say(f"the CLI would print: {describe(exc, 'chat')[0]}")
        if not exc.request_id:
            raise StepFailed("the error carries no request id") from None
        return
    raise StepFailed("an unknown model did not raise NotFoundError")


def _count_attempts(gateway: Any, path: str) -> int:
    """How many POSTs to ``path`` the local gateway has received (its request log)."""
    return len(gateway.requests.filter(path=path, method="POST"))


def _retry(tour: _Tour) -> None:
    path = "/v1/chat/completions"
    messages = [{"role": "user", "content": "Are you there?"}]
    if tour.gateway is None:
        tour.say("skipped the injected 429: fault plans are a local-gateway feature")
        tour.say(
            f"(the client retries 429/502/503/504 up to {tour.client.config.max_retries} times, honouring Retry-After)"
        )
        return
    before = _count_attempts(tour.gateway, path)
    tour.gateway.faults.add(path, status=429, retry_after="0", times=1)
    tour.say("the fault plan answers the next chat call with 429 (Retry-After: 0) ...")
    if tour.client.config.max_retries == 0:  # --max-retries 0: the 429 reaches the caller
        try:
            tour.client.chat.completions.create(model=CHAT_MODEL, messages=messages, max_tokens=20)
        except RateLimitError as exc:
            attempts = _count_attempts(tour.gateway, path) - before
            tour.say(
                f"... and with --max-retries 0 the client did not retry: {type(exc).__name__} "
                f"(status {exc.status}) after {attempts} attempt{'s' if attempts != 1 else ''}"
            )
            return
        raise StepFailed("the injected 429 did not raise RateLimitError")
    reply = tour.client.chat.completions.create(model=CHAT_MODEL, messages=messages, max_tokens=20)
    attempts = _count_attempts(tour.gateway, path) - before
    tour.say(
        f"... and the client retried: the call succeeded (id {reply.id}); the gateway saw {attempts} attempts"
    )
    if attempts != 2:
        raise StepFailed(f"expected the gateway to see 2 attempts, it saw {attempts}")


Step = Tuple[str, str, Callable[[_Tour], None]]

STEPS: List[Step] = [
    ("Models", "The catalog: every model with its price and context size.", _models),
    ("Chat", "One chat completion, answered in full.", _chat),
    ("Live stream", "The same API streamed: tokens are printed as they arrive.", _stream),
    ("Compare", "One prompt on two models side by side, then a synthesis, usage and cost.", _compare),
    ("Embeddings", "Vectors for three sentences: the similar pair scores higher.", _embeddings),
    ("RAG", "Upload a document, wait for its embedding, then search it.", _rag),
    ("Batch", "Three requests in one batch, followed until it completes.", _batch),
    ("Template", "A stored prompt template: create it, chat with it, delete it.", _template),
    ("Image", "Generate an image and write it to a file.", _image),
    *FAMILY_STEPS,  # model search, image edit, audio, video, moderation, web search, router
    ("Realtime", "One text turn over a realtime WebSocket session.", _realtime),
    ("Errors", "A typed error: an unknown model is a NotFoundError with a request id.", _error),
    ("Retries", "A 429 from the fault plan is retried transparently (unless --max-retries 0).", _retry),
]

STEP_TITLES = [title for title, _, _ in STEPS]


@contextlib.contextmanager
def _gateway(context: Context) -> Iterator[Any]:
    """The local gateway, unless ``--base-url`` names another one (the environment alone does not)."""
    args = context.args
    if getattr(args, "base_url", None):
        yield None
        return
    from meshapi_gateway import serve
    from meshapi_gateway.settings import mint_token

    token = getattr(args, "token", None) or mint_token()  # never $MESHAPI_TOKEN: it may be a real key
    latency = max(0.0, float(getattr(args, "latency", 0.005)))
    with serve(tokens=[token], latency=latency) as gateway:
        args.base_url, args.token = gateway.base_url, gateway.token
        yield gateway


def run_demo(context: Context) -> int:
    import shutil  # here, not at the top: every `meshapi` start imports this module
    import tempfile

    workdir = pathlib.Path(tempfile.mkdtemp(prefix="meshapi-demo-"))
    try:
        with _gateway(context) as gateway:
            try:
                return _tour(context, gateway, workdir)
            finally:
                context.close()  # before the local gateway stops
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _tour(context: Context, gateway: Any, workdir: pathlib.Path) -> int:
    ui = context.ui
    results: List[Dict[str, Any]] = []
    started = time.monotonic()
    context.client(retry_initial_delay=0.05, retry_max_delay=0.2)
    tour = _Tour(context, gateway, workdir)
    where = "a local gateway started for this demo" if gateway is not None else "the configured gateway"
    ui.heading(f"MeshAPI tour against {where} ({context.client().base_url})")
    ui.line()
    for number, (title, explanation, step) in enumerate(STEPS, 1):
        ui.heading(f"[{number}/{len(STEPS)}] {title}")
        ui.line(f"   {explanation}")
        step_started = time.monotonic()
        context.action = f"demo step {number} ({title})"
        try:
            step(tour)
        except Exception as exc:  # any failure ends the tour, naming the step
            if os.environ.get("MESHAPI_CLI_DEBUG"):
                traceback.print_exc()
            line, _ = describe(exc, context.action)
            ui.note(line)
            results.append({"step": number, "title": title, "ok": False, "error": line})
            if ui.json_mode:
                ui.emit_json({"ok": False, "steps": results})
            return EXIT_API
        results.append(
            {
                "step": number,
                "title": title,
                "ok": True,
                "seconds": round(time.monotonic() - step_started, 3),
            }
        )
        ui.line()
    elapsed = time.monotonic() - started
    ui.heading(f"All {len(STEPS)} steps passed in {elapsed:.1f}s.")
    if ui.json_mode:
        ui.emit_json({"ok": True, "seconds": round(elapsed, 3), "steps": results, **tour.summary})
    return EXIT_OK
