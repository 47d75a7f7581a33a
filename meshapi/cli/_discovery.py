"""Discovery commands: ``moderate``, ``search`` (web), ``route`` and ``models search|get``.

Same conventions as the other commands (stdout results or ``--json``, one-line errors, exit codes).
``register()`` adds the parsers; ``build_parser`` calls it.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Mapping, Optional

from ._context import Context
from ._failures import EXIT_OK
from ._pricing import format_usd, per_million

__all__ = ["register", "run_models_get", "run_models_search", "run_moderate", "run_route", "run_search"]

DEFAULT_MODERATION_MODEL = "omni-moderation-latest"


def register(builder: Any, commands: Any, models: Any, types: Mapping[str, Callable[[str], Any]]) -> None:
    """Add ``moderate``, ``search``, ``route`` and the optional ``search``/``get`` under ``models``."""
    positive_int, non_negative_int = types["positive_int"], types["non_negative_int"]
    moderate = builder.leaf(commands, "moderate", help="check texts against the moderation categories",
                            handler="_discovery:run_moderate", action="moderating")  # fmt: skip
    moderate.add_argument("texts", nargs="+", metavar="TEXT")
    moderate.add_argument("-m", "--model", default=DEFAULT_MODERATION_MODEL,
                          help=f"model id (default {DEFAULT_MODERATION_MODEL})")  # fmt: skip

    search = builder.leaf(commands, "search", help="search the web", handler="_discovery:run_search",
                          action="searching the web")  # fmt: skip
    search.add_argument("query")
    search.add_argument("-n", "--max-results", type=positive_int, default=5, help="1-20 (default 5)")
    search.add_argument("--answer", action="store_true", help="also ask for a short answer")
    search.add_argument("--deep", action="store_true", help='search_depth "advanced"')
    search.add_argument("--include-domain", dest="include_domains", action="append", metavar="DOMAIN")
    search.add_argument("--exclude-domain", dest="exclude_domains", action="append", metavar="DOMAIN")

    route = builder.leaf(commands, "route", help="which model the auto router would pick for a prompt",
                         handler="_discovery:run_route", action="selecting a model")  # fmt: skip
    route.add_argument("prompt")
    route.add_argument(
        "--api-type", default="completions", choices=["completions", "responses", "embeddings"]
    )
    route.add_argument(
        "--exclude", dest="exclude_models", action="append", metavar="MODEL", help="never pick (repeat)"
    )

    children = models.add_subparsers(dest="models_command", metavar="COMMAND", title="commands")
    children.required = False  # plain `meshapi models` still lists
    msearch = builder.leaf(children, "search", help="search the catalog (filters, sort, pages)",
                           handler="_discovery:run_models_search", action="searching models")  # fmt: skip
    msearch.add_argument("q", nargs="?", metavar="TEXT", help="text to look for")
    msearch.add_argument("--free", action="store_true", default=None, help="only free models")
    msearch.add_argument("--input-modality", dest="input_modality", action="append", metavar="KIND")
    msearch.add_argument("--output-modality", dest="output_modality", action="append", metavar="KIND")
    msearch.add_argument("--brand", action="append", metavar="BRAND")
    msearch.add_argument("--sort", choices=["brand", "name", "id", "context_length"])
    msearch.add_argument("--order", choices=["asc", "desc"])
    msearch.add_argument("--limit", type=positive_int)
    msearch.add_argument("--offset", type=non_negative_int)
    mget = builder.leaf(children, "get", help="show one model", handler="_discovery:run_models_get",
                        action="getting the model")  # fmt: skip
    mget.add_argument("model_id", metavar="ID")


def _dump(model: Any) -> Any:
    return model.model_dump(mode="json", exclude_none=True)


def _short(text: Optional[str], limit: int = 70) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def run_moderate(context: Context) -> int:
    args, ui = context.args, context.ui
    result = context.client().moderations.create(input=list(args.texts), model=args.model)
    if ui.json_mode:
        ui.emit_json(_dump(result))
        return EXIT_OK
    rows = []
    for text, item in zip(args.texts, result.results):
        top = sorted(item.category_scores.items(), key=lambda pair: -pair[1])[:2]
        scores = ", ".join(f"{name} {score:.2f}" for name, score in top)
        rows.append([_short(text, 40), item.flagged, ", ".join(item.flagged_categories) or "-", scores])
    ui.table(["input", "flagged", "categories", "top scores"], rows)
    return EXIT_OK


def run_search(context: Context) -> int:
    args, ui = context.args, context.ui
    fields: Dict[str, Any] = {
        "query": args.query,
        "max_results": args.max_results,
        "include_answer": args.answer,
    }
    if args.deep:
        fields["search_depth"] = "advanced"
    for name in ("include_domains", "exclude_domains"):
        if getattr(args, name):
            fields[name] = getattr(args, name)
    result = context.client().web.search(**fields)
    if ui.json_mode:
        ui.emit_json(_dump(result))
        return EXIT_OK
    if result.answer:
        ui.line(result.answer)
        ui.line()
    for number, item in enumerate(result.results, 1):
        score = f"  ({item.score:.2f})" if item.score is not None else ""
        ui.line(f"{number}. {item.title}{score}")
        ui.line(f"   {item.url}")
        if item.content:
            ui.line(f"   {_short(item.content, 100)}")
    ui.note(f"{len(result.results)} result{'s' if len(result.results) != 1 else ''} from {result.provider}")
    return EXIT_OK


def run_route(context: Context) -> int:
    args, ui = context.args, context.ui
    fields: Dict[str, Any] = {
        "messages": [{"role": "user", "content": args.prompt}],
        "api_type": args.api_type,
    }
    if args.exclude_models:
        fields["exclude_models"] = args.exclude_models
    picked = context.client().router.select(**fields)
    if ui.json_mode:
        ui.emit_json(_dump(picked))
        return EXIT_OK
    ui.line(picked.model)
    meta = picked.auto_router
    extra = meta.model_extra or {}
    reason = meta.fallback_reason if meta.fallback_used else extra.get("reason")
    details = [f"reasoning effort {picked.reasoning_effort}"] if picked.reasoning_effort else []
    if meta.fallback_used:
        details.append("fallback")
    if reason:
        details.append(str(reason))
    if details:
        ui.note("; ".join(details))
    return EXIT_OK


def run_models_search(context: Context) -> int:
    args, ui = context.args, context.ui
    names = ("q", "free", "input_modality", "output_modality", "brand", "sort", "order", "limit", "offset")
    fields = {name: getattr(args, name) for name in names if getattr(args, name) is not None}
    page = context.client().models.search(**fields)
    if ui.json_mode:
        ui.emit_json(_dump(page))
        return EXIT_OK
    rows: List[List[Any]] = []
    for info in page.items:
        prompt, completion = per_million(info.pricing)
        rows.append([info.id, info.name, info.model_type, f"{info.context_length:,}" if info.context_length else None,
                     format_usd(prompt) if prompt is not None else "-",
                     format_usd(completion) if completion is not None else "-"])  # fmt: skip
    ui.table(["id", "name", "type", "context", "prompt $/1M", "completion $/1M"], rows,
             right=("context", "prompt $/1M", "completion $/1M"))  # fmt: skip
    ui.note(f"{len(page.items)} of {page.total} (offset {page.offset})")
    return EXIT_OK


def run_models_get(context: Context) -> int:
    args, ui = context.args, context.ui
    info = context.client().models.get(args.model_id)
    if ui.json_mode:
        ui.emit_json(_dump(info))
        return EXIT_OK
    prompt, completion = per_million(info.pricing)
    pairs = [
        ("id", info.id), ("name", info.name), ("type", info.model_type), ("provider", info.provider),
        ("brand", info.brand), ("free", "yes" if info.is_free else "no"),
        ("context", f"{info.context_length:,}" if info.context_length else None),
        ("input", ", ".join(info.input_modalities or []) or None),
        ("output", ", ".join(info.output_modalities or []) or None),
        ("prompt $/1M", format_usd(prompt) if prompt is not None else None),
        ("completion $/1M", format_usd(completion) if completion is not None else None),
        ("description", info.description),
    ]  # fmt: skip
    shown = [(key, value) for key, value in pairs if value is not None]
    width = max(len(key) for key, _ in shown)
    for key, value in shown:
        ui.line(f"{key.ljust(width)}  {value}")
    return EXIT_OK
