"""The 0.1.4 module path of every model: ``from meshapi._types import ChatCompletionChunk`` keeps working.

The models are defined by family in ``meshapi.types``; this module only re-exports them, including the
ones ``meshapi`` itself does not export (``ToolCallFunctionChunk``, ``ToolCallChunk``, ``TemplateMessage``,
``ModelCompareResult``, ``ImageGenerationChunk``) and the aliases ``ChatRole``, ``ContentPart``, ``ToolChoice``.
"""

from .types import *  # noqa: F403
from .types import __all__ as __all__
