"""``foreign_errors``: httpx exceptions raised inside become their MeshAPIError, chained; others pass."""

import httpx
import pytest

from meshapi import APIConnectionError, APITimeoutError
from meshapi._core.response import foreign_errors


def test_foreign_errors_maps_httpx_and_passes_the_rest() -> None:
    with pytest.raises(APITimeoutError) as e, foreign_errors("stream"):
        raise httpx.ReadTimeout("x")
    assert "stream timed out" in str(e.value) and isinstance(e.value.__cause__, httpx.ReadTimeout)
    with pytest.raises(APIConnectionError), foreign_errors():
        raise httpx.ConnectError("boom")
    with pytest.raises(KeyError), foreign_errors():
        raise KeyError(1)
