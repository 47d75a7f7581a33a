"""``meshapi models``: the catalog as a table, ``models search`` (filters, sort, pages), ``models get``,
``models providers``.

Why it exists: the ways to look at the model catalog, with their prices shown per 1M tokens
(``_pricing``). Plain ``meshapi models`` lists (optionally ``--free``/``--paid``/``--search TEXT``,
filtered here); ``models search`` asks the gateway's search endpoint. Results go to stdout (a table,
or JSON with ``--json``); the count goes to stderr.
"""

from __future__ import annotations

from typing import Any, List, Optional, Tuple

from ._args import Commands, non_negative_int, positive_int
from ._context import Context
from ._failures import EXIT_OK, UsageError
from ._pricing import format_usd, per_million
from ._ui import dump

__all__ = ["SORTS", "register", "run_models", "run_models_get", "run_models_providers", "run_models_search"]

_PRICE_COLUMNS = ("context", "prompt $/1M", "completion $/1M")

#: ``models search --sort`` keys: ``ModelSearchParams.sort`` (a test keeps the two lists equal).
SORTS = ["brand", "name", "id", "context_length", "price"]
_PRICED_OUTPUTS = ("text", "image", "video")


def register(commands: Commands) -> None:
    models = commands.leaf("models", help="list the models", handler=run_models, action="listing models")
    price = models.add_mutually_exclusive_group()
    price.add_argument("--free", action="store_true", help="only free models")
    price.add_argument("--paid", action="store_true", help="only paid models")
    models.add_argument(
        "--search", metavar="TEXT", help="keep models whose id, name or description contain TEXT"
    )

    below = commands.below(models, dest="models_command", required=False)  # plain `meshapi models` lists
    search = below.leaf(
        "search",
        help="search the catalog (filters, sort, pages)",
        handler=run_models_search,
        action="searching models",
    )
    search.add_argument("q", nargs="?", metavar="TEXT", help="text to look for")
    search.add_argument("--free", action="store_true", default=None, help="only free models")
    search.add_argument(
        "--input-modality",
        dest="input_modality",
        action="append",
        metavar="KIND",
        help="only models that take KIND (text, image, audio, ...; repeat)",
    )
    search.add_argument(
        "--output-modality",
        dest="output_modality",
        action="append",
        metavar="KIND",
        help="only models that produce KIND (repeat)",
    )
    search.add_argument("--brand", action="append", metavar="BRAND", help="only this brand (repeat)")
    search.add_argument(
        "--sort",
        choices=SORTS,
        help="sort key (price needs exactly one --output-modality of text, image or video)",
    )
    search.add_argument("--order", choices=["asc", "desc"], help="sort order (default asc)")
    search.add_argument("--limit", type=positive_int, help="page size")
    search.add_argument("--offset", type=non_negative_int, help="how many results to skip")
    get = below.leaf("get", help="show one model", handler=run_models_get, action="getting the model")
    get.add_argument("model_id", metavar="ID", help="the model id, e.g. openai/gpt-4o-mini")
    providers = below.leaf(
        "providers",
        help="show the providers (routes) of one model",
        handler=run_models_providers,
        action="listing the model's providers",
    )
    providers.add_argument("model_id", metavar="ID", help="the model id, e.g. openai/gpt-5-nano")


def _row(info: Any, third: Any) -> List[Any]:
    """A model's table row: id, name, ``third`` (free, or its type), context and prices per 1M tokens."""
    prompt, completion = per_million(info.pricing)
    context = f"{info.context_length:,}" if info.context_length else None
    return [info.id, info.name, third, context, format_usd(prompt), format_usd(completion)]


def run_models(context: Context) -> int:
    args, ui = context.args, context.ui
    free: Optional[bool] = True if args.free else (False if args.paid else None)
    models = list(context.client().models.list(free=free))
    if args.search:
        needle = args.search.lower()
        models = [
            info
            for info in models
            if needle in info.id.lower()
            or needle in info.name.lower()
            or needle in (info.description or "").lower()
        ]
    if ui.json_mode:
        ui.emit_json([dump(info) for info in models])
        return EXIT_OK
    rows = [_row(info, info.is_free) for info in models]
    ui.table(["id", "name", "free", *_PRICE_COLUMNS], rows, right=_PRICE_COLUMNS)
    ui.note(f"{len(models)} model{'s' if len(models) != 1 else ''}")
    return EXIT_OK


def run_models_search(context: Context) -> int:
    args, ui = context.args, context.ui
    names = ("q", "free", "input_modality", "output_modality", "brand", "sort", "order", "limit", "offset")
    fields = {name: getattr(args, name) for name in names if getattr(args, name) is not None}
    outputs = args.output_modality or []
    if args.sort == "price" and (len(outputs) != 1 or outputs[0] not in _PRICED_OUTPUTS):
        raise UsageError(
            "--sort price compares one kind of price: give exactly one --output-modality "
            "(text, image or video)"
        )
    page = context.client().models.search(**fields)
    if ui.json_mode:
        ui.emit_json(dump(page))
        return EXIT_OK
    rows = [_row(info, info.model_type) for info in page.items]
    ui.table(["id", "name", "type", *_PRICE_COLUMNS], rows, right=_PRICE_COLUMNS)
    ui.note(f"{len(page.items)} of {page.total} (offset {page.offset})")
    return EXIT_OK


def run_models_get(context: Context) -> int:
    args, ui = context.args, context.ui
    info = context.client().models.get(args.model_id)
    if ui.json_mode:
        ui.emit_json(dump(info))
        return EXIT_OK
    prompt, completion = per_million(info.pricing)
    ui.fields(
        [
            ("id", info.id),
            ("name", info.name),
            ("type", info.model_type),
            ("provider", info.provider),
            ("brand", info.brand),
            ("free", "yes" if info.is_free else "no"),
            ("context", f"{info.context_length:,}" if info.context_length else None),
            ("input", ", ".join(info.input_modalities or []) or None),
            ("output", ", ".join(info.output_modalities or []) or None),
            ("prompt $/1M", format_usd(prompt) if prompt is not None else None),
            ("completion $/1M", format_usd(completion) if completion is not None else None),
            *_unit_fields(info.pricing),
            ("flex", "yes" if info.supports_flex else None),
            ("description", info.description),
        ]
    )
    return EXIT_OK


def _unit_fields(pricing: Any) -> List[Tuple[str, Optional[str]]]:
    """``models get`` lines for a row not priced per 1M tokens: its per-unit pair, in its own unit."""
    unit = getattr(pricing, "pricing_unit", None)
    if pricing is None or unit in (None, "per_1m_tokens"):
        return []
    return [
        (f"input $ ({unit})", pricing.input_usd_per_unit),
        (f"output $ ({unit})", pricing.output_usd_per_unit),
    ]


def run_models_providers(context: Context) -> int:
    args, ui = context.args, context.ui
    answer = context.client().models.providers(args.model_id)
    if ui.json_mode:
        ui.emit_json(dump(answer))
        return EXIT_OK
    rows = []
    for route in answer.providers:
        prompt, completion = per_million(route.pricing)
        rows.append(
            [
                route.provider,
                "yes" if route.is_default else "",
                route.status,
                "yes" if route.supports_flex else "no",
                ", ".join(route.video_inputs or []) or None,
                format_usd(prompt) if prompt is not None else None,
                format_usd(completion) if completion is not None else None,
            ]
        )
    columns = ["provider", "default", "status", "flex", "video inputs", "prompt $/1M", "completion $/1M"]
    ui.table(columns, rows, right=("prompt $/1M", "completion $/1M"))
    ui.note(f"{len(rows)} provider{'s' if len(rows) != 1 else ''} of {answer.model}")
    return EXIT_OK
