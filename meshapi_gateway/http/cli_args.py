"""The command line of ``meshapi gateway``: every option, its type check and its help line.

Split from ``cli.py`` (which runs the gateway with what is parsed here) so that neither file grows past
the size limit: argparse's types turn a bad value into one ``meshapi gateway: argument --x: ...`` line,
and :func:`build_parser` declares the options in their ``--help`` order. Checks that need several options
at once (pairs, exclusions, files) stay in ``cli.py`` and ``cli_webhooks.py``.
"""

from __future__ import annotations

import argparse
from typing import NoReturn, Tuple

from ..fakes.routing import RoutingPolicy, parse_policy
from ..settings import GatewaySettings, replay_speed_problem
from .cli_webhooks import add_webhook_options, usd_amount
from .hosts import host_name
from .ratelimit import DEFAULT_RPD, DEFAULT_RPM, parse_rate_limits

__all__ = ["build_parser"]


def _routing_policy(spec: str) -> Tuple[str, RoutingPolicy]:
    try:
        return parse_policy(spec)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


_LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")


class _OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line on stderr (and exit status 2), not usage + error."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see `{self.prog} --help`)\n")


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 0 to 65535 (0 picks a free one), got {text}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0.0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be 0 or more seconds, got {text}")
    return value


def _positive_seconds(text: str) -> float:
    value = _seconds(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds, got {text}")
    return value


def _replay_speed(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    problem = replay_speed_problem(value)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return value


def _limit(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text}")
    return value


def _rate_limit(text: str) -> str:
    try:
        parse_rate_limits(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not RPM or RPM/DAY with whole numbers of at least 1 (e.g. 100/10000): {text!r}"
        ) from None
    return text.strip()


def _allowed_host(text: str) -> str:
    if host_name(text) is None:
        raise argparse.ArgumentTypeError(f"not a host name or address: {text!r}")
    return text


def _log_level(text: str) -> str:
    if text.lower() not in _LOG_LEVELS:
        raise argparse.ArgumentTypeError(f"unknown log level {text!r} (one of {', '.join(_LOG_LEVELS)})")
    return text.lower()


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``meshapi gateway``: every option, its type check and its help line."""
    parser = _OneLineParser(
        prog="meshapi gateway",
        description="Run the local MeshAPI gateway (deterministic models, no network, no keys).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument(
        "--allowed-host",
        action="append",
        dest="allowed_hosts",
        type=_allowed_host,
        metavar="NAME",
        help="serve requests for this Host too, besides localhost and --host (repeatable; e.g. a container name)",
    )
    parser.add_argument("--port", type=_port, default=8000, help="port (default 8000; 0 picks a free one)")
    parser.add_argument(
        "--token",
        action="append",
        dest="tokens",
        metavar="TOKEN",
        help="accepted bearer token (repeatable; default $MESHAPI_TOKEN, else a random one, printed)",
    )
    parser.add_argument("--data-dir", help="keep files, templates and batches in SQLite under this directory")
    parser.add_argument("--latency", type=_seconds, default=0.0, help="seconds between streamed events")
    parser.add_argument("--admin-token", help="token for the /_admin routes (default: random, printed)")
    limits = parser.add_mutually_exclusive_group()
    limits.add_argument(
        "--rate-limit",
        type=_rate_limit,
        metavar="RPM[/DAY]",
        help=f"requests per minute (and per day) per token (default: {DEFAULT_RPM}/{DEFAULT_RPD}, as documented)",
    )
    limits.add_argument(
        "--no-rate-limit", action="store_true", help="no request rate limits (default: the documented ones)"
    )
    parser.add_argument(
        "--rpm", type=_limit, help="requests per minute per token only (no daily limit unless --rpd)"
    )
    parser.add_argument(
        "--rpd", type=_limit, help="requests per day per token only (no minute limit unless --rpm)"
    )
    parser.add_argument(
        "--balance",
        type=usd_amount,
        metavar="USD",
        help="USD each token starts with; requests' costs come off it, then paid ones get 402 (default: 1000)",
    )
    parser.add_argument(
        "--replies",
        metavar="FILE",
        help=(
            "JSON array of scripted-reply rules ({match, model?, content | json | tool_calls | turns}); "
            "first match wins"
        ),
    )
    parser.add_argument(
        "--routing-policy",
        action="append",
        dest="routing",
        type=_routing_policy,
        metavar="[TOKEN=]retries=N,fallback=on|off",
        help="server-side retry and fallback along the chat 'models' list, per token (repeatable)",
    )
    parser.add_argument(
        "--log-level", type=_log_level, default="info", help=f"uvicorn log level: {', '.join(_LOG_LEVELS)}"
    )
    parser.add_argument(
        "--body-timeout",
        type=_positive_seconds,
        default=GatewaySettings.body_timeout,
        metavar="SECONDS",
        help="time a client has to send a whole request body, then a 408 and the connection closed (default 30)",
    )
    parser.add_argument("--no-inspector", action="store_true", help="do not serve the /_inspector/ web page")
    parser.add_argument(
        "--no-response-cache",
        dest="response_cache",
        action="store_false",
        help="never answer chat completions from the response cache (default: on, 24 h per key)",
    )
    add_webhook_options(parser)
    tls = parser.add_argument_group("HTTP/2 over TLS (through hypercorn; extra gateway-http2)")
    tls.add_argument(
        "--http2",
        action="store_true",
        help="serve https:// with HTTP/2 (and HTTP/1.1) through hypercorn instead of http:// through uvicorn",
    )
    tls.add_argument(
        "--certfile",
        metavar="PEM",
        help="certificate for --http2 (default: a self-signed one for localhost, made for this run, printed)",
    )
    tls.add_argument("--keyfile", metavar="PEM", help="the private key of --certfile")
    proxy = parser.add_argument_group("record and replay (in front of a real gateway)")
    proxy.add_argument("--upstream", metavar="URL", help="send /v1 requests on to this gateway")
    proxy.add_argument(
        "--upstream-token-env",
        metavar="VAR",
        default="MESHAPI_UPSTREAM_TOKEN",
        help="environment variable holding the upstream token (default MESHAPI_UPSTREAM_TOKEN)",
    )
    proxy.add_argument(
        "--upstream-timeout",
        type=_positive_seconds,
        metavar="SECONDS",
        help="seconds the upstream may stay silent before a 504 (default 600)",
    )
    proxy.add_argument("--record", metavar="FILE", help="append every proxied exchange to FILE (JSON Lines)")
    proxy.add_argument(
        "--record-max-bytes",
        type=_limit,
        metavar="N",
        help="longest response body recorded; longer ones are relayed, not recorded (default 64 MiB)",
    )
    proxy.add_argument("--replay", metavar="FILE", help="answer from the exchanges recorded in FILE")
    proxy.add_argument(
        "--replay-fallback",
        action="store_true",
        help="answer unmatched requests with the local models instead of a 404",
    )
    proxy.add_argument(
        "--replay-speed",
        type=_replay_speed,
        default=0.0,
        metavar="X",
        help="stream replays at X times the recorded pace, 0.01 to 100 (1 = as recorded; default 0 = at once)",
    )
    return parser
