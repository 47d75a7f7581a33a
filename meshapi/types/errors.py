"""The error envelope the gateway sends (``{"error": {...}, "request_id": ...}``), as pydantic models.

Exported for users who handle raw bodies; the SDK's own error parsing (``meshapi._errors``) is more
lenient than these models. Unknown keys are ignored.
"""

from typing import Any, Dict, List, Optional

from ._base import MeshModel

__all__ = ["ApiErrorBody", "ApiErrorEnvelope"]


class ApiErrorBody(MeshModel):
    code: str
    message: str
    details: Optional[List[Any]] = None
    provider_error: Optional[Dict[str, Any]] = None
    retry_after_seconds: Optional[int] = None
    # Later additions seen on the wire.
    param: Optional[str] = None
    provider_code: Optional[str] = None


class ApiErrorEnvelope(MeshModel):
    error: ApiErrorBody
    request_id: str
