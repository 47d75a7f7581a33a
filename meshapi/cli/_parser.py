"""The argument parser of the ``meshapi`` command.

Connection options (``--base-url``, ``--token``, ``--timeout``) and ``--json`` are accepted both before
the subcommand and after it: the subcommands share a parent parser whose defaults are suppressed, so a
value given before the subcommand is not overwritten by an absent one after it. Each leaf parser sets
``handler`` (``"module:function"``, imported only when that command runs) and ``action`` (the words used
in the error line when it fails).
"""

from __future__ import annotations

import argparse
from typing import Any, List, NoReturn, Optional, Sequence

from .._version import __version__
from ._sanitize import redact_secrets

__all__ = ["DEFAULT_CHAT_MODEL", "DEFAULT_EMBEDDING_MODEL", "DEFAULT_REALTIME_MODEL", "build_parser"]

DEFAULT_CHAT_MODEL = "openai/gpt-4o-mini"
DEFAULT_EMBEDDING_MODEL = "openai/text-embedding-3-small"
DEFAULT_REALTIME_MODEL = "openai/gpt-realtime-mini"
DEFAULT_IMAGE_MODEL = "openai/gpt-image-1"

_EPILOG = """\
connection: --base-url/--token, else the MESHAPI_BASE_URL and MESHAPI_TOKEN environment variables.
exit codes: 0 ok, 1 API or network error, 2 usage or configuration error, 130 interrupted.
`meshapi demo` tours every feature against a local gateway started in the process."""


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text!r}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text!r}")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text!r}")
    return value


def _temperature(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.0 <= value <= 2.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 2, got {text!r}")
    return value


def _add_common(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    default: Any = argparse.SUPPRESS if suppress else None
    group = parser.add_argument_group("connection and output")
    group.add_argument(
        "--base-url", default=default, metavar="URL", help="gateway URL (env MESHAPI_BASE_URL)"
    )
    group.add_argument("--token", default=default, metavar="TOKEN", help="API token (env MESHAPI_TOKEN)")
    group.add_argument(
        "--timeout",
        type=_positive_float,
        default=default,
        metavar="SECONDS",
        help="HTTP timeout (default 60)",
    )
    group.add_argument(
        "--max-retries",
        type=_non_negative_int,
        default=default,
        metavar="N",
        help="retries on 429/5xx and connection errors (default 3)",
    )
    group.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS if suppress else False,
        help="print machine-readable JSON on stdout (nothing else)",
    )


class _Parser(argparse.ArgumentParser):
    """argparse, except that a usage error never repeats a token the user typed (``_sanitize``)."""

    def parse_args(self, args: Any = None, namespace: Any = None) -> Any:  # type: ignore[override]
        _ARGV[:] = [str(a) for a in (args or [])]
        return super().parse_args(args, namespace)

    def error(self, message: str) -> NoReturn:
        super().error(redact_secrets(message, _ARGV))


_ARGV: List[str] = []  # the words being parsed, so an error can hide the value after a mistyped --tokn


class _Builder:
    def __init__(self) -> None:
        self.common = _Parser(add_help=False)
        _add_common(self.common, suppress=True)

    def leaf(
        self,
        subparsers: Any,
        name: str,
        *,
        help: str,
        handler: str,
        action: str,
        description: Optional[str] = None,
    ) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = subparsers.add_parser(
            name, help=help, description=description or help, parents=[self.common]
        )
        parser.set_defaults(handler=handler, action=action)
        return parser

    def group(self, subparsers: Any, name: str, *, help: str, dest: str) -> Any:
        parser: argparse.ArgumentParser = subparsers.add_parser(name, help=help, description=help)
        children = parser.add_subparsers(dest=dest, metavar="COMMAND", title="commands")
        children.required = True
        return children


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="meshapi",
        description="Command line for the MeshAPI gateway: chat, compare, embeddings, RAG, batches, ...",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"meshapi {__version__}")
    _add_common(parser, suppress=False)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    commands.required = True
    b = _Builder()

    # chat ------------------------------------------------------------------------------------------
    chat = b.leaf(
        commands, "chat", help="chat with a model (streamed)", handler="_chat:run_chat", action="chat"
    )
    chat.add_argument("prompt", nargs="?", help="the prompt (default: read stdin when it is not a terminal)")
    chat.add_argument(
        "-m",
        "--model",
        help=f"model id (default {DEFAULT_CHAT_MODEL}, or the template's model with --template)",
    )
    chat.add_argument("--template", metavar="ID_OR_NAME", help="chat with a stored prompt template")
    chat.add_argument(
        "--var",
        dest="vars",
        action="append",
        metavar="NAME=VALUE",
        help="a value for a template slot (repeat)",
    )
    chat.add_argument("-s", "--system", help="system prompt")
    chat.add_argument("-t", "--temperature", type=_temperature, help="sampling temperature (0-2)")
    chat.add_argument("--max-tokens", type=_positive_int, help="maximum tokens in the reply")
    chat.add_argument(
        "-i", "--interactive", action="store_true", help="conversation mode (/exit or EOF quits)"
    )

    # compare ---------------------------------------------------------------------------------------
    compare = b.leaf(
        commands,
        "compare",
        help="run one prompt on several models side by side",
        handler="_compare:run_compare",
        action="compare",
    )
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
    compare.add_argument("-t", "--temperature", type=_temperature, help="sampling temperature (0-2)")
    compare.add_argument("--max-tokens", type=_positive_int, help="maximum tokens per answer")

    # models ----------------------------------------------------------------------------------------
    models = b.leaf(
        commands, "models", help="list the models", handler="_commands:run_models", action="listing models"
    )
    price = models.add_mutually_exclusive_group()
    price.add_argument("--free", action="store_true", help="only free models")
    price.add_argument("--paid", action="store_true", help="only paid models")
    models.add_argument(
        "--search", metavar="TEXT", help="keep models whose id, name or description contain TEXT"
    )

    # embed -----------------------------------------------------------------------------------------
    embed = b.leaf(commands, "embed", help="embed texts", handler="_commands:run_embed", action="embedding")
    embed.add_argument("texts", nargs="+", metavar="TEXT", help="text to embed (several: similarities shown)")
    embed.add_argument(
        "-m", "--model", default=DEFAULT_EMBEDDING_MODEL, help=f"model id (default {DEFAULT_EMBEDDING_MODEL})"
    )
    embed.add_argument("--dimensions", type=_positive_int, help="vector size, when the model supports it")

    # rag -------------------------------------------------------------------------------------------
    rag = b.group(commands, "rag", help="files for retrieval: upload, list, search", dest="rag_command")
    upload = b.leaf(
        rag,
        "upload",
        help="upload files (embedded unless --no-embed)",
        handler="_commands:run_rag_upload",
        action="uploading",
    )
    upload.add_argument("files", nargs="+", metavar="FILE")
    upload.add_argument("--no-embed", action="store_true", help="store only; embed later")
    upload.add_argument("--wait", action="store_true", help="wait until each file is ready")
    upload.add_argument("--mime-type", help="content type for every file (default: guessed from the name)")
    upload.add_argument(
        "--wait-timeout",
        type=_positive_float,
        default=300.0,
        metavar="SECONDS",
        help="with --wait (default 300)",
    )
    rag_list = b.leaf(
        rag, "list", help="list your files", handler="_commands:run_rag_list", action="listing files"
    )
    rag_list.add_argument("--limit", type=_positive_int, help="show at most this many")
    search = b.leaf(
        rag,
        "search",
        help="search your embedded files",
        handler="_commands:run_rag_search",
        action="searching files",
    )
    search.add_argument("query")
    search.add_argument("-k", "--top-k", type=_positive_int, default=5, help="number of results (default 5)")
    search.add_argument(
        "--file-id", dest="file_ids", action="append", metavar="ID", help="only this file (repeat)"
    )

    # batches ---------------------------------------------------------------------------------------
    batches = b.group(commands, "batches", help="batches of chat requests", dest="batches_command")
    create = b.leaf(
        batches,
        "create",
        help="create a batch from a JSONL file",
        handler="_batches:run_batches_create",
        action="creating the batch",
    )
    create.add_argument(
        "file",
        metavar="FILE.jsonl",
        help='one request per line: {"custom_id": ..., "body": {...}} or a full request item',
    )
    create.add_argument("--completion-window", help="e.g. 24h")
    create.add_argument("--watch", action="store_true", help="then follow it until it ends")
    create.add_argument(
        "--interval", type=_positive_float, default=1.0, metavar="SECONDS", help="with --watch"
    )
    batches_list = b.leaf(
        batches, "list", help="list batches", handler="_batches:run_batches_list", action="listing batches"
    )
    batches_list.add_argument(
        "--limit", type=_positive_int, default=20, help="show at most this many (default 20)"
    )
    get = b.leaf(
        batches,
        "get",
        help="show a batch and its results",
        handler="_batches:run_batches_get",
        action="getting the batch",
    )
    get.add_argument("batch_id", metavar="ID")
    watch = b.leaf(
        batches,
        "watch",
        help="follow a batch until it ends",
        handler="_batches:run_batches_watch",
        action="watching the batch",
    )
    watch.add_argument("batch_id", metavar="ID")
    watch.add_argument(
        "--interval", type=_positive_float, default=1.0, metavar="SECONDS", help="poll interval (default 1)"
    )
    watch.add_argument(
        "--wait-timeout",
        type=_positive_float,
        default=3600.0,
        metavar="SECONDS",
        help="give up after (default 3600)",
    )
    cancel = b.leaf(
        batches,
        "cancel",
        help="cancel a batch",
        handler="_batches:run_batches_cancel",
        action="cancelling the batch",
    )
    cancel.add_argument("batch_id", metavar="ID")

    # templates -------------------------------------------------------------------------------------
    templates = b.group(commands, "templates", help="prompt templates", dest="templates_command")
    b.leaf(
        templates,
        "list",
        help="list templates",
        handler="_templates:run_templates_list",
        action="listing templates",
    )
    tget = b.leaf(
        templates,
        "get",
        help="show a template",
        handler="_templates:run_templates_get",
        action="getting the template",
    )
    tget.add_argument("template_id", metavar="ID_OR_NAME")
    tfill = b.leaf(
        templates,
        "fill",
        help="show a template's messages filled with --var values (nothing is sent to a model)",
        handler="_templates:run_templates_fill",
        action="filling the template",
    )
    tfill.add_argument("template_id", metavar="ID_OR_NAME")
    tfill.add_argument(
        "--var",
        dest="vars",
        action="append",
        metavar="NAME=VALUE",
        help="a value for a {{ NAME }} slot (repeat)",
    )
    tcreate = b.leaf(
        templates,
        "create",
        help="create a template",
        handler="_templates:run_templates_create",
        action="creating the template",
    )
    tcreate.add_argument("--name", required=True)
    tcreate.add_argument("--system", help="system prompt")
    tcreate.add_argument("--model", help="default model")
    tcreate.add_argument("--description")
    tupdate = b.leaf(
        templates,
        "update",
        help="change a template",
        handler="_templates:run_templates_update",
        action="updating the template",
    )
    tupdate.add_argument("template_id", metavar="ID_OR_NAME")
    tupdate.add_argument("--name")
    tupdate.add_argument("--system", help="system prompt")
    tupdate.add_argument("--model", help="default model")
    tupdate.add_argument("--description")
    tdelete = b.leaf(
        templates,
        "delete",
        help="delete a template",
        handler="_templates:run_templates_delete",
        action="deleting the template",
    )
    tdelete.add_argument("template_id", metavar="ID_OR_NAME")

    # images ----------------------------------------------------------------------------------------
    images = b.group(commands, "images", help="image generation", dest="images_command")
    generate = b.leaf(
        images,
        "generate",
        help="generate an image into a file",
        handler="_images:run_images_generate",
        action="generating the image",
    )
    generate.add_argument("prompt")
    generate.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="PATH",
        help="file to write; its extension picks the format (.png, .jpg, .webp)",
    )
    generate.add_argument(
        "-m", "--model", default=DEFAULT_IMAGE_MODEL, help=f"model id (default {DEFAULT_IMAGE_MODEL})"
    )
    generate.add_argument("--size", help="WIDTHxHEIGHT in pixels, e.g. 1024x1024")
    generate.add_argument("--force", action="store_true", help="overwrite existing files")
    generate.add_argument(
        "-n", type=_positive_int, default=1, help="number of images (files get -1, -2, ...)"
    )

    # audio, videos, images edit (cli/_media.py); moderate, search, route, models search|get (cli/_discovery.py)
    from . import _discovery, _media

    kinds = {
        "positive_int": _positive_int,
        "positive_float": _positive_float,
        "non_negative_int": _non_negative_int,
    }
    _media.register(b, commands, images, kinds)
    _discovery.register(b, commands, models, kinds)

    # realtime --------------------------------------------------------------------------------------
    realtime = b.leaf(
        commands,
        "realtime",
        help="one text or voice turn over a realtime session (WAV in/out, or the microphone)",
        handler="_realtime:run_realtime",
        action="realtime turn",
    )
    realtime.add_argument("text", nargs="?", help="the text to say (or use --in / --voice)")
    realtime.add_argument("--in", dest="input", metavar="FILE.wav", help="send this WAV as the question")
    realtime.add_argument("--out", dest="output", metavar="FILE.wav", help="write the spoken answer here")
    realtime.add_argument(
        "--voice", action="store_true", help="talk through the microphone and speaker (extra 'voice')"
    )
    realtime.add_argument(
        "-m", "--model", default=DEFAULT_REALTIME_MODEL, help=f"model id (default {DEFAULT_REALTIME_MODEL})"
    )

    # gateway (forwarded before parsing; listed here for --help) ------------------------------------
    commands.add_parser(
        "gateway",
        help="run the local gateway (arguments go to the gateway; see `meshapi gateway --help`)",
        add_help=False,
    )

    # demo ------------------------------------------------------------------------------------------
    demo = b.leaf(
        commands,
        "demo",
        help="a guided tour of every feature (a local gateway unless --base-url names one)",
        handler="_demo:run_demo",
        action="demo",
    )
    demo.add_argument("--latency", type=float, default=0.005, help=argparse.SUPPRESS)
    return parser


def split_gateway(argv: Sequence[str]) -> Optional[Sequence[str]]:
    """The arguments after ``gateway`` when that is the command (they are not parsed here), else None."""
    with_value = {"--base-url", "--token", "--timeout", "--max-retries"}
    index = 0
    while index < len(argv):
        token = argv[index]
        if token in with_value:
            index += 2
            continue
        if token.startswith("-"):
            index += 1
            continue
        return argv[index + 1 :] if token == "gateway" else None
    return None
