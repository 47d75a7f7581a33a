"""Compare streaming: the named-event decoder, the per-model accumulator and the stream objects.

``POST /v1/chat/compare`` with ``"stream": true`` sends named SSE events and no ``[DONE]``:
``meta``, ``model_chunk``, ``model_done``, ``comparison_chunk``, ``model_stream_done`` and finally
``done``. Each becomes a ``CompareStreamEvent`` (the JSON payload flattened, plus ``event``). The stream
is complete only after ``done``; a stream that ends before it raises ``StreamInterruptedError``.

A failed *model* is not a failed stream: its ``model_chunk`` / ``model_stream_done`` (or its
``model_done`` result) carries ``"error": "<message>"`` and is delivered like any other event, while the
other models go on (0.1.4 raised on the first such frame and lost the rest). An in-band error frame (an
``error`` event, or a top-level ``error`` object) that names a ``model`` is that model's failure too: it
is delivered as that model's ``model_stream_done`` event (``error``: the message, ``error_code``), and the
typed ``StreamEventError`` is kept as the model's ``failure`` (``accumulator.failures``, and
``result.failure`` on ``to_response()``). When every model of the stream (``meta``'s list) has failed,
the stream raises ``StreamEventError`` ``all_models_failed`` (``details``: each model's error), the body a
non-streaming call gets as a 502. An error frame that names no model is the whole stream's failure.

``CompareAccumulator`` (pure, public) keeps per-model text, usage, latency, finish reason and error, the
synthesis text and the ``done`` summary; ``to_response()`` shapes it like the non-streaming
``CompareResponse``.
"""

from __future__ import annotations

import time
from typing import Any, Dict, List, Optional

from .._core.frames import DONE, decode_item
from .._core.sse import ServerSentEvent
from .._core.stream import EventDecoder
from .._errors import StreamEventError
from .._streaming import AsyncStream, Stream
from ..types.compare import CompareResponse, CompareStreamEvent, ModelCompareResult, TokenUsage
from ._text import TextBuffer

__all__ = [
    "COMPARE_EVENTS",
    "AsyncCompareStream",
    "CompareAccumulator",
    "CompareEventDecoder",
    "CompareStream",
]

COMPARE_EVENTS = ("meta", "model_chunk", "model_done", "comparison_chunk", "model_stream_done", "done")


class _ModelState:
    __slots__ = (
        "error",
        "error_code",
        "failure",
        "finish_reason",
        "latency_ms",
        "request_id",
        "text",
        "usage",
    )

    def __init__(self) -> None:
        self.text = TextBuffer()
        self.usage: Optional[TokenUsage] = None
        self.latency_ms: Optional[int] = None
        self.finish_reason: Optional[str] = None
        self.error: Optional[str] = None
        self.error_code: Optional[str] = None
        self.request_id: Optional[str] = None
        self.failure: Optional[StreamEventError] = None

    def typed_failure(self) -> Optional[StreamEventError]:
        """The failure as a typed error (built from ``error`` / ``error_code`` when no frame gave one)."""
        if self.failure is None and self.error is not None:
            self.failure = StreamEventError(
                self.error, error_code=self.error_code or "upstream_error", request_id=self.request_id or ""
            )
        return self.failure


def _usage(value: Any) -> Optional[TokenUsage]:
    if isinstance(value, TokenUsage):
        return value
    if isinstance(value, dict):
        return TokenUsage.model_validate(value)
    return None


class CompareAccumulator:
    """Feed ``CompareStreamEvent`` items with :meth:`add`; read the per-model state at any time.

    ``models``: the model names (from ``meta``, then any other model seen); ``text(model)``,
    ``usage(model)``, ``latency_ms(model)``, ``finish_reason(model)``; ``errors`` / ``error_codes``: the
    failed models; ``succeeded``; ``synthesis``: the comparison text; ``comparison_id``, ``partial``,
    ``total_latency_ms``, ``comparison_model``, ``done``.
    """

    def __init__(self) -> None:
        self.comparison_id: Optional[str] = None
        self.comparison_model: Optional[str] = None
        self.comparison_fallback_used = False
        self.skip_comparison: Optional[bool] = None
        self.total_latency_ms: Optional[int] = None
        self.done = False
        self.created = int(time.time())
        self.results: List[ModelCompareResult] = []
        self._partial: Optional[bool] = None
        self._synthesis = TextBuffer()
        self._synthesis_finish: Optional[str] = None
        self._models: Dict[str, _ModelState] = {}
        self._announced = False  # ``meta`` seen: ``models`` is the stream's whole list

    def _model(self, name: str) -> _ModelState:
        state = self._models.get(name)
        if state is None:
            state = self._models[name] = _ModelState()
        return state

    def add(self, event: CompareStreamEvent) -> None:
        kind = event.event
        if event.comparison_id:
            self.comparison_id = event.comparison_id
        if kind == "meta":
            self._announced = bool(event.models)
            for name in event.models or []:
                self._model(name)
            self.comparison_model = event.comparison_model
            self.skip_comparison = event.skip_comparison
        elif kind in ("model_chunk", "model_stream_done") and event.model:
            state = self._model(event.model)
            if event.delta:
                state.text.add(event.delta)
            self._apply(
                state, event.usage, event.latency_ms, event.finish_reason, event.error, event.error_code
            )
        elif kind == "model_done":
            self._add_results(getattr(event, "results", None))
        elif kind == "comparison_chunk":
            if event.delta:
                self._synthesis.add(event.delta)
            if event.finish_reason:
                self._synthesis_finish = event.finish_reason
        elif kind == "done":
            self.done = True
            self.total_latency_ms = event.total_latency_ms
            if event.partial is not None:
                self._partial = event.partial
            if event.comparison_model is not None:
                self.comparison_model = event.comparison_model
            if event.comparison_fallback_used is not None:
                self.comparison_fallback_used = event.comparison_fallback_used
            if event.skip_comparison is not None:
                self.skip_comparison = event.skip_comparison

    def fail(self, model: str, error: StreamEventError) -> CompareStreamEvent:
        """Record ``error`` (an in-band error frame naming ``model``) as that model's failure.

        Returns the event the stream delivers for it: ``model_stream_done`` with ``error`` (the message)
        and ``error_code``.
        """
        state = self._model(model)
        state.error, state.error_code, state.failure = error.message, error.error_code, error
        body = error.body if isinstance(error.body, dict) else {}
        if isinstance(body.get("request_id"), str):
            state.request_id = body["request_id"]
        event = CompareStreamEvent(
            event="model_stream_done", model=model, error=error.message, error_code=error.error_code
        )
        self.add(event)
        return event

    @property
    def all_failed(self) -> bool:
        """Whether every model of the stream (``meta``'s list) has failed."""
        return self._announced and all(state.error is not None for state in self._models.values())

    def all_failed_error(self, request_id: str) -> StreamEventError:
        """The stream's error once every model failed: ``all_models_failed``, each model in ``details``."""
        details = [
            {"model": name, "error": state.error, "error_code": state.error_code}
            for name, state in self._models.items()
        ]
        return StreamEventError(
            "All models failed.", error_code="all_models_failed", request_id=request_id, details=details
        )

    @staticmethod
    def _apply(
        state: _ModelState,
        usage: Any,
        latency: Optional[int],
        finish: Optional[str],
        error: Any,
        error_code: Optional[str],
    ) -> None:
        parsed = _usage(usage)
        if parsed is not None:
            state.usage = parsed
        if latency is not None:
            state.latency_ms = latency
        if finish:
            state.finish_reason = finish
        if error is not None:
            state.error = error if isinstance(error, str) else str(error)
        if error_code:
            state.error_code = error_code

    def _add_results(self, results: Any) -> None:
        if not isinstance(results, list):
            return
        parsed: List[ModelCompareResult] = []
        for raw in results:
            if not isinstance(raw, dict) or not isinstance(raw.get("model"), str):
                continue
            state = self._model(raw["model"])
            if not state.text and isinstance(raw.get("content"), str):
                state.text.add(raw["content"])
            latency = raw.get("latency_ms")
            self._apply(
                state,
                raw.get("usage"),
                latency if isinstance(latency, int) else None,
                None,
                raw.get("error"),
                raw.get("error_code") if isinstance(raw.get("error_code"), str) else None,
            )
            if isinstance(raw.get("request_id"), str):
                state.request_id = raw["request_id"]
            try:
                parsed.append(ModelCompareResult.model_validate(raw))
            except ValueError:
                pass  # the per-model state above already has what could be read
        self.results = parsed

    # --- reading ------------------------------------------------------------------------------------
    @property
    def models(self) -> List[str]:
        return list(self._models)

    def text(self, model: str) -> str:
        """The text of ``model`` so far (``""`` for an unknown or failed model)."""
        state = self._models.get(model)
        return state.text.value() if state is not None else ""

    def usage(self, model: str) -> Optional[TokenUsage]:
        state = self._models.get(model)
        return state.usage if state is not None else None

    def latency_ms(self, model: str) -> Optional[int]:
        state = self._models.get(model)
        return state.latency_ms if state is not None else None

    def finish_reason(self, model: str) -> Optional[str]:
        state = self._models.get(model)
        return state.finish_reason if state is not None else None

    @property
    def texts(self) -> Dict[str, str]:
        return {name: state.text.value() for name, state in self._models.items()}

    @property
    def errors(self) -> Dict[str, str]:
        """``{model: error message}`` for every model that failed."""
        return {name: state.error for name, state in self._models.items() if state.error is not None}

    @property
    def failures(self) -> Dict[str, StreamEventError]:
        """``{model: typed error}`` for every model that failed (the error frame's, or built from its text)."""
        found = {name: state.typed_failure() for name, state in self._models.items()}
        return {name: failure for name, failure in found.items() if failure is not None}

    @property
    def error_codes(self) -> Dict[str, Optional[str]]:
        return {name: state.error_code for name, state in self._models.items() if state.error is not None}

    @property
    def succeeded(self) -> List[str]:
        return [name for name, state in self._models.items() if state.error is None]

    @property
    def synthesis(self) -> str:
        """The comparison model's text (``""`` with ``skip_comparison`` or fewer than two successes)."""
        return self._synthesis.value()

    @property
    def partial(self) -> bool:
        """The ``done`` event's flag; before ``done``, whether any model failed so far."""
        return self._partial if self._partial is not None else bool(self.errors)

    def to_response(self) -> CompareResponse:
        """The accumulated stream in the shape of the non-streaming ``CompareResponse``."""
        results = []
        for name, state in self._models.items():
            results.append(
                {
                    "model": name,
                    "content": state.text.value() if state.error is None else (state.text.value() or None),
                    "latency_ms": state.latency_ms or 0,
                    "error": state.error,
                    "error_code": state.error_code,
                    "usage": state.usage.model_dump() if state.usage is not None else None,
                    "request_id": state.request_id or "",
                }
            )
        synthesis = self._synthesis.value()
        response = CompareResponse.model_validate(
            {
                "comparison_id": self.comparison_id or "",
                "object": "compare.completion",
                "created": self.created,
                "models": self.models,
                "results": results,
                "comparison": synthesis or None,
                "comparison_model": self.comparison_model,
                "comparison_fallback_used": self.comparison_fallback_used,
                "total_latency_ms": self.total_latency_ms or 0,
                "partial": self.partial,
                "skip_comparison": bool(self.skip_comparison),
            }
        )
        for result in response.results:
            result._failure = self._models[result.model].typed_failure()
        return response

    def __repr__(self) -> str:
        return (
            f"<CompareAccumulator comparison_id={self.comparison_id!r} models={self.models!r} "
            f"errors={sorted(self.errors)!r} done={self.done!r}>"
        )


class CompareEventDecoder(EventDecoder[CompareStreamEvent]):
    """Compare SSE: named events, complete after ``done``; per-model string errors are items."""

    end_marker = "'done' event"

    def __init__(self) -> None:
        super().__init__()
        self.accumulator = CompareAccumulator()

    def decode(self, event: ServerSentEvent) -> Optional[CompareStreamEvent]:
        # [DONE] is not sent by the gateway; it is accepted as an explicit end
        try:
            item = decode_item(event, CompareStreamEvent, self.request_id, string_errors_fatal=False)
        except StreamEventError as error:
            model = error.body.get("model") if isinstance(error.body, dict) else None
            if not isinstance(model, str) or not model:
                raise  # an error frame that names no model: the whole stream's
            item = self.accumulator.fail(model, error)
        else:
            if not isinstance(item, CompareStreamEvent):  # None, or DONE
                if item is DONE:
                    self.stop = self.complete = True
                return None
            self.accumulator.add(item)
        if item.error is not None and self.accumulator.all_failed:
            raise self.accumulator.all_failed_error(self.request_id)
        if item.event == "done":
            self.stop = self.complete = True
        return item

    def text(self, item: CompareStreamEvent) -> Optional[str]:
        return item.delta if item.event == "comparison_chunk" else None

    def final(self) -> CompareAccumulator:
        return self.accumulator


class CompareStream(Stream[CompareStreamEvent]):
    """The stream of ``compare.stream()``: iterate ``CompareStreamEvent`` items (switch on ``.event``).

    ``get_final()`` consumes the rest and returns the ``CompareAccumulator`` (per-model text, usage,
    errors, the synthesis); ``get_final_response()`` the same as a ``CompareResponse``; ``text_stream``
    yields the synthesis text (``comparison_chunk`` deltas).
    """

    _decoder: CompareEventDecoder

    @property
    def accumulator(self) -> CompareAccumulator:
        return self._decoder.accumulator

    def get_final(self) -> CompareAccumulator:
        self.until_done()
        return self._decoder.accumulator

    def get_final_response(self) -> CompareResponse:
        self.until_done()
        return self._decoder.accumulator.to_response()

    def get_final_text(self) -> str:
        """Consume the rest and return the synthesis text (``""`` when comparison was skipped)."""
        self.until_done()
        return self._decoder.accumulator.synthesis or ""


class AsyncCompareStream(AsyncStream[CompareStreamEvent]):
    """Asyncio twin of :class:`CompareStream`."""

    _decoder: CompareEventDecoder

    @property
    def accumulator(self) -> CompareAccumulator:
        return self._decoder.accumulator

    async def get_final(self) -> CompareAccumulator:
        await self.until_done()
        return self._decoder.accumulator

    async def get_final_response(self) -> CompareResponse:
        await self.until_done()
        return self._decoder.accumulator.to_response()

    async def get_final_text(self) -> str:
        """Consume the rest and return the synthesis text (``""`` when comparison was skipped)."""
        await self.until_done()
        return self._decoder.accumulator.synthesis or ""
