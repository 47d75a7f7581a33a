"""``meshapi compare``: one prompt on several models, side by side, then the synthesis and the costs.

On a terminal with rich the answers fill a live table (one column per model) and the synthesis
streams into a panel below it. Elsewhere each answer is printed as a section when it is complete and
the synthesis streams as text. Then a table gives each model's latency, tokens and estimated cost
(tokens at the catalog price; ``-`` when the catalog has no price for it). When a model fails the
others are still shown, one stderr line per failed model names it, and the exit status is 1.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Dict, List, Optional

from .._errors import MeshAPIError
from ._args import Commands, add_budget, positive_int, temperature
from ._chat import read_prompt
from ._context import Context
from ._failures import EXIT_API, EXIT_OK, UsageError
from ._pricing import estimate_cost, format_usd

__all__ = ["cost_rows", "register", "run_compare", "show_costs", "stream_compare"]


def register(commands: Commands) -> None:
    compare = commands.leaf(
        "compare",
        help="run one prompt on several models side by side",
        handler=run_compare,
        action="compare",
    )
    add_budget(compare)
    compare.add_argument(
        "prompt", nargs="?", help="the prompt (default: read stdin when it is not a terminal)"
    )
    compare.add_argument(
        "-m",
        "--model",
        dest="models",
        action="append",
        required=True,
        metavar="MODEL",
        help="a model (repeat)",
    )
    compare.add_argument(
        "--skip-comparison", action="store_true", help="no synthesis: stream the raw answers"
    )
    compare.add_argument("--comparison-model", help="model that writes the synthesis")
    compare.add_argument("-s", "--system", help="system prompt")
    compare.add_argument("-t", "--temperature", type=temperature, help="sampling temperature (0-2)")
    compare.add_argument("--max-tokens", type=positive_int, help="maximum tokens per answer")


def _messages(system: Optional[str], prompt: str) -> List[Dict[str, Any]]:
    messages: List[Dict[str, Any]] = []
    if system:
        messages.append({"role": "system", "content": system})
    messages.append({"role": "user", "content": prompt})
    return messages


class _PlainView:
    """Sections printed as each answer completes; the synthesis written as it streams."""

    def __init__(self, context: Context, skip_comparison: bool) -> None:
        self.ui = context.ui
        self.skip = skip_comparison
        self.synthesis_started = False

    def _section(self, title: str, body: str) -> None:
        self.ui.line(f"── {title} ──")
        self.ui.line(body.rstrip("\n"))
        self.ui.line()

    def event(self, event: Any, acc: Any) -> None:
        kind = event.event
        if kind == "model_chunk" and not self.skip and event.model:
            body = f"error: {event.error}" if event.error else (event.delta or "")
            self._section(event.model, body)
        elif kind == "model_stream_done" and event.model:
            error = acc.errors.get(event.model)
            self._section(event.model, f"error: {error}" if error else acc.text(event.model))
        elif kind == "comparison_chunk" and event.delta:
            if not self.synthesis_started:
                self.synthesis_started = True
                self.ui.line(f"── synthesis ({acc.comparison_model or 'comparison model'}) ──")
            self.ui.write(event.delta)

    def finish(self) -> None:
        if self.synthesis_started:
            self.ui.end_line()
            self.ui.line()

    def close(self) -> None:
        return None


class _LiveView:
    """A rich ``Live`` table: one column per model, the synthesis in a panel underneath."""

    def __init__(self, context: Context, models: List[str]) -> None:
        from rich.live import Live

        self.models = list(models)
        self.live = Live(
            console=context.ui.console(),
            refresh_per_second=12,
            vertical_overflow="visible",
            auto_refresh=True,
        )
        self.live.start()

    def _render(self, acc: Any) -> Any:
        from rich.console import Group
        from rich.panel import Panel
        from rich.table import Table
        from rich.text import Text

        names = acc.models or self.models
        table = Table(expand=True, show_lines=False)
        for name in names:
            latency = acc.latency_ms(name)
            header = f"{name}" + (f"  ({latency} ms)" if latency is not None else "")
            table.add_column(header, ratio=1, overflow="fold")
        cells = []
        for name in names:
            error = acc.errors.get(name)
            if error:
                cells.append(Text(f"error: {error}", style="red"))
            else:
                cells.append(Text(acc.text(name) or "…", style="" if acc.text(name) else "dim"))
        table.add_row(*cells)
        parts: List[Any] = [table]
        if acc.synthesis:
            title = f"synthesis ({acc.comparison_model})" if acc.comparison_model else "synthesis"
            parts.append(Panel(Text(acc.synthesis), title=title, title_align="left"))
        return Group(*parts)

    def event(self, event: Any, acc: Any) -> None:
        self.live.update(self._render(acc))

    def finish(self) -> None:
        return None

    def close(self) -> None:
        self.live.stop()


def stream_compare(
    context: Context,
    prompt: str,
    models: List[str],
    *,
    skip_comparison: bool = False,
    comparison_model: Optional[str] = None,
    temperature: Optional[float] = None,
    max_tokens: Optional[int] = None,
    system: Optional[str] = None,
) -> Any:
    """Run the comparison with a live view (none with ``--json``); return the ``CompareAccumulator``."""
    ui = context.ui
    fields: Dict[str, Any] = {
        "models": models,
        "messages": _messages(system, prompt),
        "skip_comparison": skip_comparison,
    }
    if comparison_model:
        fields["comparison_model"] = comparison_model
    if temperature is not None:
        fields["temperature"] = temperature
    if max_tokens is not None:
        fields["max_tokens"] = max_tokens
    client = context.client()
    view: Any = None
    with client.compare.stream(**fields) as stream:
        if not ui.json_mode:
            view = _LiveView(context, models) if ui.live_capable else _PlainView(context, skip_comparison)
        try:
            for event in stream:
                if view is not None:
                    view.event(event, stream.accumulator)
            if view is not None:
                view.finish()
        finally:
            if view is not None:
                view.close()
        return stream.get_final()


def _catalog_pricing(context: Context) -> Dict[str, Any]:
    """``{model id: ModelPricing}``; empty when the catalog cannot be read (costs then show ``-``)."""
    try:
        return {info.id: info.pricing for info in context.client().models.list()}
    except MeshAPIError:
        return {}


def cost_rows(context: Context, acc: Any) -> List[Dict[str, Any]]:
    """Per model: latency, token counts, estimated cost (``Decimal`` or ``None``) and error."""
    pricing = _catalog_pricing(context)
    rows = []
    for name in acc.models:
        usage = acc.usage(name)
        prompt_tokens = usage.prompt_tokens if usage is not None else None
        completion_tokens = usage.completion_tokens if usage is not None else None
        cost: Optional[Decimal] = None
        if usage is not None and name in pricing:
            cost = estimate_cost(pricing[name], prompt_tokens, completion_tokens)
        rows.append(
            {
                "model": name,
                "latency_ms": acc.latency_ms(name),
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": usage.total_tokens if usage is not None else None,
                "estimated_cost_usd": cost,
                "error": acc.errors.get(name),
            }
        )
    return rows


def show_costs(context: Context, rows: List[Dict[str, Any]]) -> None:
    context.ui.table(
        ["model", "latency ms", "prompt", "completion", "total", "cost (est.)", "status"],
        [
            [
                row["model"],
                row["latency_ms"],
                row["prompt_tokens"],
                row["completion_tokens"],
                row["total_tokens"],
                format_usd(row["estimated_cost_usd"]),
                f"error: {row['error']}" if row["error"] else "ok",
            ]
            for row in rows
        ],
        title="usage and cost",
        right=("latency ms", "prompt", "completion", "total", "cost (est.)"),
    )


def run_compare(context: Context) -> int:
    args, ui = context.args, context.ui
    models = list(dict.fromkeys(args.models))
    if len(models) < 2:
        raise UsageError("compare needs at least two different models (-m A -m B)")
    prompt = read_prompt(args.prompt)
    context.client()
    acc = stream_compare(
        context,
        prompt,
        models,
        skip_comparison=args.skip_comparison,
        comparison_model=args.comparison_model,
        temperature=args.temperature,
        max_tokens=args.max_tokens,
        system=args.system,
    )
    rows = cost_rows(context, acc)
    if ui.json_mode:
        document = acc.to_response().model_dump(mode="json")
        document["estimated_cost_usd"] = {
            row["model"]: (str(row["estimated_cost_usd"]) if row["estimated_cost_usd"] is not None else None)
            for row in rows
        }
        ui.emit_json(document)
    else:
        show_costs(context, rows)
    return _report_failures(context, models, acc)


def _report_failures(context: Context, models: List[str], acc: Any) -> int:
    """One stderr line per failed model, then a summary; the exit status (1 if any model failed)."""
    failed = [name for name in (acc.models or models) if acc.errors.get(name)]
    if not failed:
        return EXIT_OK
    for name in failed:
        context.ui.note(f"meshapi: compare: {name} failed: {' '.join(str(acc.errors[name]).split())}")
    context.ui.note(f"meshapi: compare: {len(failed)} of {len(acc.models or models)} models failed")
    return EXIT_API
