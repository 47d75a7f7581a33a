"""CLI fixtures: one local gateway for the package, and ``run(*argv)`` calling ``main`` in process."""

from __future__ import annotations

import io
import sys
from dataclasses import dataclass
from typing import Any, Callable, Iterator, List, Optional

import pytest

from meshapi.cli import main


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def err_lines(self) -> List[str]:
        return [line for line in self.err.splitlines() if line.strip()]


@pytest.fixture(scope="session")
def cli_gateway() -> Iterator[Any]:
    from meshapi_gateway import serve

    with serve() as gw:
        yield gw


@pytest.fixture
def gw(cli_gateway: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The gateway, with MESHAPI_BASE_URL / MESHAPI_TOKEN pointing at it; faults and the response cache
    cleared afterwards."""
    monkeypatch.setenv("MESHAPI_BASE_URL", cli_gateway.base_url)
    monkeypatch.setenv("MESHAPI_TOKEN", cli_gateway.token)
    monkeypatch.delenv("MESHAPI_CLI_DEBUG", raising=False)
    yield cli_gateway
    cli_gateway.faults.clear()
    cli_gateway.state.response_cache.clear()  # one test's answers are not the next one's hits


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """``run(*argv, stdin=None)``: ``main(list(argv))`` with captured stdout/stderr."""

    def runner(*argv: str, stdin: Optional[str] = None) -> Result:
        capsys.readouterr()
        if stdin is not None:
            monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = main(list(argv))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return runner
