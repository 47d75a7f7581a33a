"""``meshapi templates ...``: prompt templates by id or by name, and filling them from the command line.

Every command that takes a template accepts its id or its name, as the SDK's ``template=`` does at
chat time: a UUID is used as is, anything else is looked up among your templates by exact name.
``templates fill REF --var key=value`` shows the messages the template produces with those values
(nothing is sent to a model); ``meshapi chat --template REF --var key=value`` chats with it.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Sequence

from .._errors import NotFoundError
from ._args import Commands
from ._context import Context
from ._failures import EXIT_OK, UsageError
from ._ui import dump, one_line

__all__ = [
    "fill_messages",
    "parse_vars",
    "register",
    "resolve_template_id",
    "run_templates_create",
    "run_templates_delete",
    "run_templates_fill",
    "run_templates_get",
    "run_templates_list",
    "run_templates_update",
]

_SLOT = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
_VAR_NAME = re.compile(r"^[A-Za-z0-9_]+$")


def register(commands: Commands) -> None:
    templates = commands.group("templates", help="prompt templates", dest="templates_command")
    templates.leaf("list", help="list templates", handler=run_templates_list, action="listing templates")
    get = templates.leaf(
        "get", help="show a template", handler=run_templates_get, action="getting the template"
    )
    get.add_argument("template_id", metavar="ID_OR_NAME", help="the template id or its name")
    fill = templates.leaf(
        "fill",
        help="show a template's messages filled with --var values (nothing is sent to a model)",
        handler=run_templates_fill,
        action="filling the template",
    )
    fill.add_argument("template_id", metavar="ID_OR_NAME", help="the template id or its name")
    fill.add_argument(
        "--var",
        dest="vars",
        action="append",
        metavar="NAME=VALUE",
        help="a value for a {{ NAME }} slot (repeat)",
    )
    create = templates.leaf(
        "create", help="create a template", handler=run_templates_create, action="creating the template"
    )
    create.add_argument("--name", required=True, help="the template's name (unique)")
    create.add_argument("--system", help="system prompt")
    create.add_argument("--model", help="default model")
    create.add_argument("--description", help="what the template is for")
    update = templates.leaf(
        "update", help="change a template", handler=run_templates_update, action="updating the template"
    )
    update.add_argument("template_id", metavar="ID_OR_NAME", help="the template id or its name")
    update.add_argument("--name", help="a new name")
    update.add_argument("--system", help="system prompt")
    update.add_argument("--model", help="default model")
    update.add_argument("--description", help="a new description")
    delete = templates.leaf(
        "delete", help="delete a template", handler=run_templates_delete, action="deleting the template"
    )
    delete.add_argument("template_id", metavar="ID_OR_NAME", help="the template id or its name")


def parse_vars(pairs: Optional[Sequence[str]]) -> Dict[str, str]:
    """``["key=value", ...]`` as a dict; a usage error names a malformed pair."""
    values: Dict[str, str] = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or not _VAR_NAME.match(name):
            raise UsageError(f"--var takes NAME=VALUE (NAME of letters, digits, _), got {pair!r}")
        values[name] = value
    return values


def _is_uuid(text: str) -> bool:
    import uuid  # here, not at the top: every `meshapi` start imports this module

    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def resolve_template_id(context: Context, ref: str) -> str:
    """The id of the template ``ref`` names (an id is returned as is; a name is looked up)."""
    if _is_uuid(ref):
        return ref
    for template in context.client().templates.list():
        if template.name == ref:
            return str(template.id)
    raise NotFoundError(
        f"No template with the id or name {ref!r}; `meshapi templates list` shows yours.",
        status=404,
        error_code="not_found",
        request_id="",
    )


def _show_template(context: Context, template: Any) -> None:
    context.ui.fields(
        [
            ("id", template.id),
            ("name", template.name),
            ("model", template.model),
            ("description", template.description),
            ("system", template.system),
            ("variables", ", ".join(template.variables) if template.variables else None),
            ("updated", template.updated_at),
        ],
    )


def _emit(context: Context, template: Any) -> int:
    if context.ui.json_mode:
        context.ui.emit_json(dump(template))
    else:
        _show_template(context, template)
    return EXIT_OK


def run_templates_list(context: Context) -> int:
    ui = context.ui
    templates = list(context.client().templates.list())
    if ui.json_mode:
        ui.emit_json([dump(t) for t in templates])
        return EXIT_OK
    ui.table(
        ["id", "name", "model", "description", "updated"],
        [[t.id, t.name, t.model, one_line(t.description, 50) or None, t.updated_at] for t in templates],
    )
    return EXIT_OK


def run_templates_get(context: Context) -> int:
    template_id = resolve_template_id(context, context.args.template_id)
    return _emit(context, context.client().templates.get(template_id))


def _template_fields(args: Any) -> Dict[str, Any]:
    return {
        key: getattr(args, key)
        for key in ("name", "system", "model", "description")
        if getattr(args, key, None) is not None
    }


def run_templates_create(context: Context) -> int:
    return _emit(context, context.client().templates.create(**_template_fields(context.args)))


def run_templates_update(context: Context) -> int:
    fields = _template_fields(context.args)
    if not fields:
        raise UsageError("nothing to update: give --name, --system, --model or --description")
    template_id = resolve_template_id(context, context.args.template_id)
    return _emit(context, context.client().templates.update(template_id, **fields))


def run_templates_delete(context: Context) -> int:
    template_id = resolve_template_id(context, context.args.template_id)
    context.client().templates.delete(template_id)
    if context.ui.json_mode:
        context.ui.emit_json({"id": template_id, "deleted": True})
    else:
        context.ui.line(f"deleted template {template_id}")
    return EXIT_OK


def fill_messages(template: Any, values: Dict[str, str]) -> List[Dict[str, Any]]:
    """The template's system prompt and messages with every ``{{ name }}`` slot filled.

    A slot without a value is a usage error naming all the missing ones.
    """
    missing: List[str] = []

    def fill(text: str) -> str:
        def slot(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in values:
                if name not in missing:
                    missing.append(name)
                return match.group(0)
            return values[name]

        return _SLOT.sub(slot, text)

    messages: List[Dict[str, Any]] = []
    if template.system:
        messages.append({"role": "system", "content": fill(template.system)})
    for message in template.messages or []:
        content = message.get("content")
        messages.append({**message, "content": fill(content) if isinstance(content, str) else content})
    if missing:
        flags = " ".join(f"--var {name}=..." for name in missing)
        raise UsageError(f"template {template.name!r} needs a value for {', '.join(missing)}: add {flags}")
    return messages


def run_templates_fill(context: Context) -> int:
    values = parse_vars(context.args.vars)
    template_id = resolve_template_id(context, context.args.template_id)
    template = context.client().templates.get(template_id)
    messages = fill_messages(template, values)
    if context.ui.json_mode:
        context.ui.emit_json(
            {"id": template.id, "name": template.name, "model": template.model, "messages": messages}
        )
        return EXIT_OK
    if not messages:
        context.ui.note(f"template {template.name!r} has no system prompt or messages")
    for message in messages:
        context.ui.line(f"{message.get('role', '?')}: {message.get('content')}")
    return EXIT_OK
