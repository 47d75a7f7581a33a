"""The ``--webhook*`` options of ``meshapi gateway`` (``cli.py``): their checks and how they pair up.

``--webhook URL`` is repeatable; ``--webhook-secret`` is given once (the secret of every URL) or once per
URL (paired in order). ``--webhook-speed``, ``--balance-low`` and ``--spend-cap`` set the retry speed and
the alert thresholds (``webhooks/``).
"""

from __future__ import annotations

import argparse
from typing import Any, List, Optional, Tuple

from ..settings import GatewaySettings
from ..store.balance import parse_amount
from ..webhooks.endpoints import check_secret, check_url
from ..webhooks.hub import SPEED_RANGE

__all__ = ["add_webhook_options", "paired_webhooks", "usd_amount"]


def usd_amount(text: str) -> str:
    """An option's amount in USD (the text, checked): ``--balance-low``, ``--spend-cap``, ``--balance``."""
    try:
        parse_amount(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an amount in USD of at least 0: {text!r}") from None
    return text.strip()


def _webhook_url(text: str) -> str:
    try:
        return check_url(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _webhook_speed(text: str) -> float:
    low, high = SPEED_RANGE
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not low <= value <= high:
        raise argparse.ArgumentTypeError(f"the webhook speed is {low:g} to {high:g}, got {text}")
    return value


def paired_webhooks(urls: Optional[List[str]], secrets: Optional[List[str]]) -> Tuple[Any, ...]:
    """``--webhook`` URLs paired with ``--webhook-secret``s: one secret for all, or one each, in order."""
    urls, secrets = urls or [], secrets or []
    for secret in secrets:
        check_secret(secret)
    if not urls:
        if secrets:
            raise ValueError("--webhook-secret needs --webhook URL")
        return ()
    if not secrets:
        raise ValueError("--webhook needs --webhook-secret SECRET (one for all, or one per --webhook)")
    if len(secrets) == 1:
        return tuple((url, secrets[0]) for url in urls)
    if len(secrets) != len(urls):
        raise ValueError(
            f"give one --webhook-secret for every --webhook, or one per --webhook "
            f"({len(urls)} URLs, {len(secrets)} secrets)"
        )
    return tuple(zip(urls, secrets))


def add_webhook_options(parser: argparse.ArgumentParser) -> None:
    """The webhook options, in their own group of ``--help``."""
    hooks = parser.add_argument_group(
        "webhooks (signed deliveries of balance, spend-cap and rate-limit alerts)"
    )
    hooks.add_argument(
        "--webhook",
        action="append",
        dest="webhook_urls",
        type=_webhook_url,
        metavar="URL",
        help="deliver webhook events to URL (repeatable; each needs a --webhook-secret)",
    )
    hooks.add_argument(
        "--webhook-secret",
        action="append",
        dest="webhook_secrets",
        metavar="SECRET",
        help="signing secret: one for every --webhook, or one per --webhook, paired in order",
    )
    hooks.add_argument(
        "--webhook-speed",
        type=_webhook_speed,
        default=GatewaySettings.webhook_speed,
        metavar="X",
        help="run the retry schedule (30 s, 2 min, 10 min, 1 h, 6 h) X times faster (default 1)",
    )
    hooks.add_argument(
        "--balance-low",
        dest="balance_low_usd",
        type=usd_amount,
        default=GatewaySettings.balance_low_usd,
        metavar="USD",
        help="send balance.low when a balance falls below USD (default 10)",
    )
    hooks.add_argument(
        "--spend-cap",
        dest="spend_cap_usd",
        type=usd_amount,
        metavar="USD",
        help="what each token may spend: spend_cap.approaching at 80%%, spend_cap.hit, then 402 (default: none)",
    )
