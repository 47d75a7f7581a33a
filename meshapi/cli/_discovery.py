"""Discovery commands: ``moderate``, ``search`` (the web) and ``route`` (the auto router's pick).

Why it exists: the commands that ask the gateway about content rather than generate it. Same
conventions as the other commands (stdout results or ``--json``, one-line errors, exit codes).
"""

from __future__ import annotations

from typing import Any, Dict

from ._args import Commands, add_budget, positive_int
from ._context import Context
from ._failures import EXIT_OK
from ._ui import dump, one_line

__all__ = ["DEFAULT_MODERATION_MODEL", "register", "run_moderate", "run_route", "run_search"]

DEFAULT_MODERATION_MODEL = "omni-moderation-latest"


def register(commands: Commands) -> None:
    moderate = commands.leaf(
        "moderate",
        help="check texts against the moderation categories",
        handler=run_moderate,
        action="moderating",
    )
    add_budget(moderate)
    moderate.add_argument(
        "texts", nargs="+", metavar="TEXT", help="text to check (several: one verdict each)"
    )
    moderate.add_argument(
        "-m",
        "--model",
        default=DEFAULT_MODERATION_MODEL,
        help=f"model id (default {DEFAULT_MODERATION_MODEL})",
    )

    search = commands.leaf("search", help="search the web", handler=run_search, action="searching the web")

    add_budget(search)
    search.add_argument("query", help="what to search the web for")
    search.add_argument("-n", "--max-results", type=positive_int, default=5, help="1-20 (default 5)")
    search.add_argument("--answer", action="store_true", help="also ask for a short answer")
    search.add_argument("--deep", action="store_true", help='search_depth "advanced"')
    search.add_argument(
        "--page-content",
        action="store_true",
        help="also return each result's page text (pins the tinyfish engine, the only one that has it)",
    )
    search.add_argument(
        "--include-domain",
        dest="include_domains",
        action="append",
        metavar="DOMAIN",
        help="only results from DOMAIN (repeat)",
    )
    search.add_argument(
        "--exclude-domain",
        dest="exclude_domains",
        action="append",
        metavar="DOMAIN",
        help="no results from DOMAIN (repeat)",
    )

    route = commands.leaf(
        "route",
        help="which model the auto router would pick for a prompt",
        handler=run_route,
        action="selecting a model",
    )
    route.add_argument("prompt", help="the prompt the router picks a model for")
    route.add_argument(
        "--api-type",
        default="completions",
        choices=["completions", "responses", "embeddings"],
        help="the API the request is for (default completions)",
    )
    route.add_argument(
        "--exclude", dest="exclude_models", action="append", metavar="MODEL", help="never pick (repeat)"
    )


def run_moderate(context: Context) -> int:
    args, ui = context.args, context.ui
    result = context.client().moderations.create(input=list(args.texts), model=args.model)
    if ui.json_mode:
        ui.emit_json(dump(result))
        return EXIT_OK
    rows = []
    for text, item in zip(args.texts, result.results):
        top = sorted(item.category_scores.items(), key=lambda pair: -pair[1])[:2]
        scores = ", ".join(f"{name} {score:.2f}" for name, score in top)
        rows.append([one_line(text, 40), item.flagged, ", ".join(item.flagged_categories) or "-", scores])
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
    if args.page_content:
        fields.update(include_page_content=True, provider="tinyfish")
    for name in ("include_domains", "exclude_domains"):
        if getattr(args, name):
            fields[name] = getattr(args, name)
    result = context.client().web.search(**fields)
    if ui.json_mode:
        ui.emit_json(dump(result))
        return EXIT_OK
    if result.answer:
        ui.line(result.answer)
        ui.line()
    for number, item in enumerate(result.results, 1):
        score = f"  ({item.score:.2f})" if item.score is not None else ""
        ui.line(f"{number}. {item.title}{score}")
        ui.line(f"   {item.url}")
        if item.content:
            ui.line(f"   {one_line(item.content, 100)}")
        if item.page_content is not None:
            cut = " [truncated]" if item.page_content_truncated else ""
            ui.line(f"   page ({len(item.page_content):,} characters{cut}):")
            for line in item.page_content.splitlines():
                ui.line(f"     {line}" if line else "")
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
        ui.emit_json(dump(picked))
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
