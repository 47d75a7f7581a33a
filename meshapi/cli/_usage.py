"""``meshapi usage`` (summary, ``events``, ``attempts``, ``trend``, ``rate-limits``), ``meshapi cost REQUEST_ID...``
and ``meshapi balance``.

Why it exists: what the calling key spent, per model and per request, and what it has left, without
writing code. Money is printed exactly as the gateway sent it (the SDK keeps it as ``Decimal``); ``--json``
prints the same values as strings.
"""

from __future__ import annotations

import argparse
import datetime
from typing import Any, Dict, List, Optional

from ._args import Commands, positive_int, window
from ._context import Context
from ._failures import EXIT_OK, UsageError
from ._ui import dump

__all__ = [
    "register",
    "run_balance",
    "run_cost",
    "run_usage",
    "run_usage_attempts",
    "run_usage_events",
    "run_usage_rate_limits",
    "run_usage_trend",
]


def _window(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--window", type=window, metavar="SPAN",
                        help="the last SPAN up to now: 30m, 1h, 24h, 7d, 2w (instead of --since)")  # fmt: skip


def _filters(parser: argparse.ArgumentParser) -> None:
    _window(parser)
    parser.add_argument("--since", metavar="WHEN", help="from this ISO 8601 date or time (inclusive)")
    parser.add_argument("--until", metavar="WHEN", help="up to this ISO 8601 date or time (exclusive)")
    parser.add_argument("--model", metavar="ID", help="only this model")
    parser.add_argument("--status", choices=["success", "error"], help="only successful or failed requests")


def register(commands: Commands) -> None:
    usage = commands.leaf(
        "usage", help="what this key used and spent", handler=run_usage, action="reading usage"
    )
    _filters(usage)
    below = commands.below(usage, dest="usage_command", required=False)  # plain `meshapi usage` sums up
    events = below.leaf("events", help="one line per request, newest first", handler=run_usage_events,
                        action="listing usage events")  # fmt: skip
    _filters(events)
    events.add_argument("--limit", type=positive_int, default=20, help="show at most this many (default 20)")
    attempts = below.leaf("attempts", help="every attempt behind one event", handler=run_usage_attempts,
                          action="listing the attempts")  # fmt: skip
    attempts.add_argument("event_id", metavar="EVENT_ID", help="the event id (evt_...)")
    trend = below.leaf(
        "trend", help="spend per hour or day", handler=run_usage_trend, action="reading the trend"
    )
    trend.add_argument(
        "--granularity", choices=["hour", "day"], default="day", help="bucket size (default day)"
    )
    _window(trend)
    trend.add_argument("--since", metavar="WHEN", help="window start (ISO 8601)")
    trend.add_argument("--until", metavar="WHEN", help="window end (ISO 8601)")
    below.leaf("rate-limits", help="live rate-limit counters", handler=run_usage_rate_limits,
               action="reading the rate limits")  # fmt: skip
    cost = commands.leaf("cost", help="what given requests cost, by request id", handler=run_cost,
                         action="looking costs up")  # fmt: skip
    cost.add_argument("request_ids", nargs="+", metavar="REQUEST_ID", help="request ids (X-Request-Id)")
    cost.add_argument("--since", metavar="WHEN", help="search usage events from this ISO 8601 date or time")
    cost.add_argument("--max-pages", type=positive_int, default=10, help="read at most this many pages of 200 events (default 10)")  # fmt: skip
    commands.leaf("balance", help="balance, reserved funds and what is available", handler=run_balance,
                  action="reading the balance")  # fmt: skip


def _since(args: argparse.Namespace) -> Optional[str]:
    """``--since``, or the start of ``--window`` (ISO 8601, UTC); both given is a usage error."""
    span = getattr(args, "window", None)
    since: Optional[str] = getattr(args, "since", None)
    if span is None:
        return since
    if since is not None:
        raise UsageError("give either --window or --since, not both")
    start: datetime.datetime = datetime.datetime.now(datetime.timezone.utc) - span
    return start.isoformat(timespec="seconds").replace("+00:00", "Z")


def _chosen(context: Context) -> Dict[str, Any]:
    args = context.args
    chosen = {
        name: getattr(args, name)
        for name in ("until", "model", "status")
        if getattr(args, name, None) is not None
    }
    since = _since(args)
    return chosen if since is None else {"since": since, **chosen}


def run_usage(context: Context) -> int:
    ui = context.ui
    summary = context.client().usage.summary(**_chosen(context))
    if ui.json_mode:
        ui.emit_json(dump(summary))
        return EXIT_OK
    ui.fields([
        ("requests", f"{summary.total_requests} ({summary.successful_requests} ok, {summary.error_requests} failed)"),
        ("tokens", f"{summary.total_tokens} ({summary.prompt_tokens} in, {summary.completion_tokens} out)"),
        ("cost (USD)", summary.total_cost_usd),
    ])  # fmt: skip
    if summary.by_model:
        rows = [[r.model, r.requests, r.total_tokens, r.cost_usd] for r in summary.by_model]
        ui.table(
            ["model", "requests", "tokens", "cost (USD)"], rows, right=("requests", "tokens", "cost (USD)")
        )
    return EXIT_OK


def _event_rows(events: List[Any]) -> List[List[Any]]:
    return [[e.id, e.created_at, e.model, e.status if e.status == "success" else f"{e.status} ({e.error_code})",
             e.total_tokens, e.cost_usd, e.request_id] for e in events]  # fmt: skip


_EVENT_COLUMNS = ["event", "time", "model", "status", "tokens", "cost (USD)", "request id"]


def run_usage_events(context: Context) -> int:
    ui = context.ui
    page = context.client().usage.events(limit=min(context.args.limit, 200), **_chosen(context))
    if ui.json_mode:
        ui.emit_json(dump(page))
        return EXIT_OK
    ui.table(_EVENT_COLUMNS, _event_rows(page.events), right=("tokens", "cost (USD)"))
    ui.note(f"{len(page.events)} of {page.total} events")
    return EXIT_OK


def run_usage_attempts(context: Context) -> int:
    ui = context.ui
    found = context.client().usage.attempts(context.args.event_id)
    if ui.json_mode:
        ui.emit_json(dump(found))
        return EXIT_OK
    ui.table(_EVENT_COLUMNS, _event_rows(found.attempts), right=("tokens", "cost (USD)"))
    return EXIT_OK


def run_usage_trend(context: Context) -> int:
    ui = context.ui
    args = context.args
    trend = context.client().usage.spend_trend(
        granularity=args.granularity, since=_since(args), until=args.until
    )
    if ui.json_mode:
        ui.emit_json(dump(trend))
        return EXIT_OK
    rows = [[b.start, b.requests, b.cost_usd, b.moving_average_usd] for b in trend.buckets]
    ui.table(["from", "requests", "cost (USD)", "3-bucket average"], rows, right=("requests", "cost (USD)"))
    ui.fields([("total (USD)", trend.total_cost_usd)])
    return EXIT_OK


def _limit_text(limit: Optional[int]) -> str:
    return "no limit" if limit is None else str(limit)


def run_usage_rate_limits(context: Context) -> int:
    ui = context.ui
    limits = context.client().usage.rate_limits()
    if ui.json_mode:
        ui.emit_json(dump(limits))
        return EXIT_OK
    rows = []
    for name, metric in (("requests/minute", limits.key and limits.key.rpm),
                         ("requests/day", limits.key and limits.key.rpd),
                         ("tokens/minute", limits.key and limits.key.tpm)):  # fmt: skip
        if metric:
            rows.append([name, metric.current, _limit_text(metric.limit), metric.resets_in_seconds])
    ui.table(["counter", "used", "limit", "resets in (s)"], rows, right=("used", "resets in (s)"))
    return EXIT_OK


def run_cost(context: Context) -> int:
    ui = context.ui
    args = context.args
    found = context.client().costs.lookup(args.request_ids, since=args.since, max_pages=args.max_pages)
    if ui.json_mode:
        ui.emit_json(dump(found))
        return EXIT_OK
    rows = [[c.request_id, c.model, c.cost_usd if c.cost_usd is not None else "unknown",
             "estimate" if c.estimated else "usage event"] for c in found.costs]  # fmt: skip
    ui.table(["request id", "model", "cost (USD)", "from"], rows, right=("cost (USD)",))
    missing = sum(1 for c in found.costs if c.estimated)
    if missing:
        pages = f"{found.pages_read} page" + ("" if found.pages_read == 1 else "s")
        ui.note(f"{missing} of {len(found.costs)} not found in the usage events ({pages} read)")
    return EXIT_OK


def run_balance(context: Context) -> int:
    ui = context.ui
    balance = context.client().balance.get()
    if ui.json_mode:
        ui.emit_json(dump(balance))
        return EXIT_OK
    held = ", ".join(f"{name} {amount}" for name, amount in balance.reserved_breakdown.items())
    ui.fields([
        ("balance (USD)", balance.balance_usd),
        ("reserved (USD)", f"{balance.reserved_usd}" + (f" ({held})" if held else "")),
        ("available (USD)", balance.available_usd),
    ])  # fmt: skip
    if balance.message:
        ui.note(balance.message)
    return EXIT_OK
