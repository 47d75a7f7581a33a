"""The demo tour's steps for the families 0.1.5 .. 0.1.12 added (see ``_demo.py`` for the tour itself).

Each step takes the tour and prints what it shows. Against a configured (remote) gateway, a family the
deployment switches off (403, 404 or 501) is reported as skipped; against the local gateway every step
must work. Files the steps write go to the tour's temporary folder. They live apart from ``_demo.py``
to keep each module a readable size.
"""

from __future__ import annotations

import contextlib
import pathlib
from typing import Any, Callable, Iterator, List, Tuple

from .._errors import APIStatusError
from ._failures import StepFailed

__all__ = ["FAMILY_STEPS"]

TTS_MODEL = "sarvam/bulbul:v2"
STT_MODEL = "sarvam/saaras:v3"
VIDEO_MODEL = "byteplus/seedance-1-5-pro-251215"
EDIT_MODEL = "openai/gpt-image-1"


class _Skipped(Exception):
    pass


@contextlib.contextmanager
def _offered(tour: Any, family: str) -> Iterator[None]:
    try:
        yield
    except APIStatusError as exc:
        if tour.gateway is None and exc.status in (403, 404, 501):
            tour.say(f"skipped: {family} is not offered by this gateway ({exc.status} {exc.error_code})")
            raise _Skipped from None
        raise


def _skippable(step: Callable[[Any], None]) -> Callable[[Any], None]:
    def run(tour: Any) -> None:
        try:
            step(tour)
        except _Skipped:
            pass

    run.__name__ = step.__name__
    return run


def _folder(tour: Any) -> pathlib.Path:
    workdir = getattr(tour, "workdir", None)
    if workdir is not None:  # the tour's own temporary folder, removed when the tour ends
        return pathlib.Path(workdir)
    if "folder" not in tour.summary:
        import tempfile  # only without the tour's folder (a step run on its own)

        image = tour.summary.get("image")
        tour.summary["folder"] = str(
            pathlib.Path(image).parent if image else tempfile.mkdtemp(prefix="meshapi-demo-")
        )
    return pathlib.Path(tour.summary["folder"])


def _model_search(tour: Any) -> None:
    page = tour.client.models.search(output_modality=["text"], sort="id", limit=3)
    tour.say(f"{page.total} models answer in text; the first three by id:")
    tour.ui.table(["id", "context"], [[m.id, m.context_length] for m in page.items], right=("context",))
    if not page.items:
        raise StepFailed("the model search returned nothing")
    info = tour.client.models.get(page.items[0].id)
    tour.say(f"models.get({info.id!r}): {info.name}, inputs {', '.join(info.input_modalities or [])}")


def _image_edit(tour: Any) -> None:
    source = getattr(tour, "image_path", None) or tour.summary.get("image")
    if source:
        original = pathlib.Path(source).read_bytes()
    else:
        made = tour.client.images.generate(
            model=EDIT_MODEL, prompt="a lighthouse", response_format="b64_json"
        )
        original = made.data[0].image_bytes()
    with _offered(tour, "image editing"):
        edited = tour.client.images.edit(model=EDIT_MODEL, image=original, prompt="add a full moon",
                                         response_format="b64_json")  # fmt: skip
    path = edited.data[0].save(_folder(tour) / "lighthouse-moon.png")
    if path.read_bytes() == original:
        raise StepFailed("the edited image is identical to the original")
    tour.say(f"wrote {path} ({path.stat().st_size:,} bytes)")


def _audio(tour: Any) -> None:
    text = "Storm warnings are raised with two red flags."
    with _offered(tour, "text to speech"):
        path = tour.client.audio.synthesize_to_file(
            _folder(tour) / "warning.wav", input=text, model=TTS_MODEL
        )
    tour.say(f"{TTS_MODEL} spoke {text!r} into {path} ({path.stat().st_size:,} bytes)")
    with _offered(tour, "speech to text"):
        heard = tour.client.audio.transcribe(path, model=STT_MODEL)
    tour.say(f"{STT_MODEL} heard: {heard.text!r}")
    if tour.gateway is not None and heard.text != text:
        raise StepFailed("the local gateway's transcription did not return the spoken text")
    voices = tour.client.audio.list_voices(page_size=3)
    tour.say("voices: " + ", ".join(f"{v.name} ({v.voice_id})" for v in voices.voices))


def _video(tour: Any) -> None:
    with _offered(tour, "video generation"):
        task = tour.client.videos.generate(model=VIDEO_MODEL, prompt="A paper boat drifting down a rainy street",
                                           duration=2)  # fmt: skip
    tour.say(f"task {task.id} started")
    if tour.gateway is None:
        status = tour.client.videos.retrieve(task.id).status
        tour.say(f"status {status}; follow it with `meshapi videos generate ... --wait -o FILE`")
        return
    seen: List[str] = []
    done = tour.client.videos.wait(task.id, timeout=60, poll_interval=0.05,
                                   on_poll=lambda t: seen.append(t.status) if t.status not in seen else None)  # fmt: skip
    tour.say("statuses: " + " -> ".join(seen))
    if done.status != "succeeded":
        raise StepFailed(f"the video task ended {done.status}")
    path = tour.client.videos.download(done, _folder(tour))
    tour.say(f"wrote {path} ({path.stat().st_size:,} bytes)")


def _moderation(tour: Any) -> None:
    inputs = ["The harbour is calm tonight.", "I will hurt you if you come closer."]
    with _offered(tour, "moderation"):
        result = tour.client.moderations.create(input=inputs)
    for text, item in zip(inputs, result.results):
        verdict = ", ".join(item.flagged_categories) if item.flagged else "not flagged"
        tour.say(f"{text!r}: {verdict}")
    if tour.gateway is not None and [r.flagged for r in result.results] != [False, True]:
        raise StepFailed("the threat was not flagged (or the calm sentence was)")


def _web(tour: Any) -> None:
    with _offered(tour, "web search"):
        found = tour.client.web.search("latest stable Python release", max_results=3, include_answer=True)
    if found.answer:
        tour.say(f"answer: {found.answer}")
    for hit in found.results:
        tour.say(f"- {hit.title} <{hit.url}>")
    if not found.results:
        raise StepFailed("the web search found nothing")


def _router(tour: Any) -> None:
    prompts = ["Write a haiku about rain", "Fix this Python: def f(x) return x+1"]
    for prompt in prompts:
        with _offered(tour, "the auto router"):
            picked = tour.client.router.select(messages=[{"role": "user", "content": prompt}])
        reason = (picked.auto_router.model_extra or {}).get("reason") or picked.auto_router.fallback_reason
        tour.say(f"{prompt!r} -> {picked.model}" + (f" ({reason})" if reason else ""))


FAMILY_STEPS: List[Tuple[str, str, Callable[[Any], None]]] = [
    ("Model search", "Search the catalog on the server, then fetch one model by id.", _model_search),
    ("Image edit", "Edit the generated image: the same picture, changed.", _skippable(_image_edit)),
    ("Audio", "Text to speech into a WAV file, transcribed back, and a few voices.", _skippable(_audio)),
    ("Video", "A video task moving through its statuses, then downloaded.", _skippable(_video)),
    ("Moderation", "Two sentences checked: only the threat is flagged.", _skippable(_moderation)),
    ("Web search", "A search with a short answer and ranked results.", _skippable(_web)),
    ("Router", "Which model the auto router would pick for two different prompts.", _skippable(_router)),
]
