"""One benchmark trial per process: ``python -m benchmarks.workloads CASE VARIANT --port P --size N``.

Every trial runs in a fresh interpreter so trials cannot warm each other up, share a connection pool or
inherit each other's memory; it prints one JSON object on its last stdout line. ``raw`` variants are
httpx (or aiohttp) used by hand, doing the work the SDK does: ``client.post`` + ``json.loads`` for a
completion, ``iter_lines`` + ``json.loads`` of every ``data:`` line for a stream.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import time
from typing import Any, Callable, Dict, List, Optional

from .request import BODY, HEADERS, MESSAGES, MODEL, TOKEN

__all__ = ["main"]

CONCURRENCY = 64
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * _PAGE / 1e6


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3  # kB on Linux


# --- sync sequential completions -----------------------------------------------------------------------
def sync_chat(variant: str, base: str, size: int) -> Dict[str, Any]:
    warmup = max(10, size // 20)
    if variant == "raw":
        import httpx

        with httpx.Client() as client:
            url = base + "/v1/chat/completions"

            def call() -> None:
                response = client.post(url, json=BODY, headers=HEADERS)
                response.raise_for_status()
                json.loads(response.content)["choices"][0]["message"]["content"]

            return _time_calls(call, warmup, size)
    if variant == "floor":  # raw httpx + minimal pydantic models, validated from bytes
        import httpx

        from .floor import Completion

        with httpx.Client() as client:
            url = base + "/v1/chat/completions"
            validate = Completion.model_validate_json

            def call_floor() -> None:
                response = client.post(url, json=BODY, headers=HEADERS)
                response.raise_for_status()
                assert validate(response.content).choices[0].message.content

            return _time_calls(call_floor, warmup, size)
    from meshapi import MeshAPI

    with MeshAPI(base_url=base, token=TOKEN) as mesh:
        create = mesh.chat.completions.create

        def call_sdk() -> None:
            message = create(model=MODEL, messages=MESSAGES).choices[0].message
            assert message is not None and message.content

        return _time_calls(call_sdk, warmup, size)


def _time_calls(call: Callable[[], None], warmup: int, size: int) -> Dict[str, Any]:
    for _ in range(warmup):
        call()
    start = time.perf_counter()
    for _ in range(size):
        call()
    elapsed = time.perf_counter() - start
    return {"requests": size, "seconds": elapsed, "value": size / elapsed}


# --- async, 64 concurrent -------------------------------------------------------------------------------
async def _run_concurrent(call: Callable[[], Any], size: int) -> Dict[str, Any]:
    remaining = [CONCURRENCY * 2]

    async def worker() -> None:
        while remaining[0] > 0:
            remaining[0] -= 1
            await call()

    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))  # warm-up: opens the connections
    remaining[0] = size
    cpu = time.process_time()
    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    elapsed = time.perf_counter() - start
    cpu_us = (time.process_time() - cpu) / size * 1e6  # this process only: the server runs elsewhere
    return {
        "requests": size,
        "concurrency": CONCURRENCY,
        "seconds": elapsed,
        "value": size / elapsed,
        "cpu_us": cpu_us,
    }


async def _async_chat(variant: str, base: str, size: int) -> Dict[str, Any]:
    url = base + "/v1/chat/completions"
    if variant == "floor":  # raw httpx (its defaults) + minimal pydantic models, validated from bytes
        import httpx

        from .floor import Completion

        validate = Completion.model_validate_json
        async with httpx.AsyncClient() as floor_client:

            async def call_floor() -> None:
                response = await floor_client.post(url, json=BODY, headers=HEADERS)
                response.raise_for_status()
                assert validate(response.content).choices[0].message.content

            return await _run_concurrent(call_floor, size)
    if variant in ("raw", "raw_keepalive64", "raw_lean"):
        import httpx

        limits = (
            httpx.Limits(max_connections=100, max_keepalive_connections=20)  # httpx's defaults
            if variant == "raw"
            else httpx.Limits(max_connections=256, max_keepalive_connections=64)
        )
        async with httpx.AsyncClient(limits=limits) as client:
            if variant == "raw_lean":  # the same pool planning as the SDK's own pools
                from meshapi._transport.pool import speed_up

                assert speed_up(client)

            async def call() -> None:
                response = await client.post(url, json=BODY, headers=HEADERS)
                response.raise_for_status()
                json.loads(response.content)["choices"][0]["message"]["content"]

            return await _run_concurrent(call, size)
    if variant == "raw_aiohttp":
        import aiohttp

        async with aiohttp.ClientSession() as session:

            async def call_aiohttp() -> None:
                async with session.post(url, json=BODY, headers=HEADERS) as response:
                    response.raise_for_status()
                    json.loads(await response.read())["choices"][0]["message"]["content"]

            return await _run_concurrent(call_aiohttp, size)
    from meshapi import AsyncMeshAPI

    transport = "aiohttp" if variant == "sdk_aiohttp" else None
    async with AsyncMeshAPI(base_url=base, token=TOKEN, http_transport=transport) as mesh:
        create = mesh.chat.completions.create

        async def call_sdk() -> None:
            message = (await create(model=MODEL, messages=MESSAGES)).choices[0].message
            assert message is not None and message.content

        return await _run_concurrent(call_sdk, size)


def async_chat(variant: str, base: str, size: int) -> Dict[str, Any]:
    return asyncio.run(_async_chat(variant, base, size))


def async_cpu(variant: str, base: str, size: int) -> Dict[str, Any]:
    """The same run as ``async_chat``; the figure is this process's CPU time per call, in µs."""
    result = async_chat(variant, base, size)
    return {**result, "req_per_s": result["value"], "value": result["cpu_us"]}


# --- one long stream ---------------------------------------------------------------------------------------
class _Probe:
    """Counts chunks and samples RSS every ``every`` chunks."""

    def __init__(self, every: int) -> None:
        self.every = every
        self.count = 0
        self.samples: List[float] = []
        self.first: Optional[float] = None
        self.text_bytes = 0

    def tick(self) -> None:
        self.count += 1
        if self.count == 1:
            self.first = time.perf_counter()
        if self.count % self.every == 0:
            self.samples.append(_rss_mb())


def _raw_stream(client: Any, url: str, count: int, probe: _Probe, keep_text: bool = True) -> int:
    """The stream read by hand; the text pieces are kept (as the SDK keeps the text) unless told not to."""
    text: List[str] = []
    with client.stream(
        "POST", url, json={**BODY, "stream": True}, headers=_stream_headers(count)
    ) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if line.startswith("data:"):
                data = line[5:].strip()
                if data == "[DONE]":
                    break
                chunk = json.loads(data)
                for choice in chunk["choices"]:
                    piece = choice["delta"].get("content")
                    if piece and keep_text:
                        text.append(piece)
                probe.tick()
        return int(response.num_bytes_downloaded)


def _floor_stream(client: Any, url: str, count: int, probe: _Probe) -> int:
    from .floor import stream_floor

    return stream_floor(client, url, {**BODY, "stream": True}, _stream_headers(count), probe)


def _stream_headers(count: int) -> Dict[str, str]:
    return {**HEADERS, "x-bench-chunks": str(count)}


def _sdk_stream(mesh: Any, variant: str, count: int, probe: _Probe) -> int:
    stream = mesh.chat.completions.stream(
        model=MODEL, messages=MESSAGES, extra_headers={"x-bench-chunks": str(count)}
    )
    with stream:
        if variant == "sdk_text":
            for piece in stream.text_stream:
                probe.text_bytes += len(piece)
                probe.tick()
        else:
            for chunk in stream:  # the floor's reading: each choice's content (the SDK keeps the text)
                for choice in chunk.choices:
                    delta = choice.delta
                    piece = delta.content if delta is not None else None
                probe.tick()
        assert stream.get_final_text().startswith("tok0000 ")
        response = stream.response
        assert response is not None
        return int(response.num_bytes_downloaded)


def stream(variant: str, base: str, size: int) -> Dict[str, Any]:
    """Chunks/s and MB/s of one ``size``-chunk stream, then the median time to first chunk."""
    url = base + "/v1/chat/completions"
    ttfc_runs = 5 if size < 10_000 else 25

    def run(one: Callable[[int, _Probe], int]) -> Dict[str, Any]:
        one(5, _Probe(10**9))  # warm-up: connection open, code paths hot
        probe = _Probe(10**9)
        start = time.perf_counter()
        received = one(size, probe)
        elapsed = time.perf_counter() - start
        firsts = []
        for _ in range(ttfc_runs):
            short = _Probe(10**9)
            began = time.perf_counter()
            one(5, short)
            assert short.first is not None
            firsts.append(short.first - began)
        firsts.sort()
        return {
            "chunks": probe.count,
            "seconds": elapsed,
            "value": probe.count / elapsed,
            "mb_per_s": received / elapsed / 1e6,
            "ttfc_ms": firsts[len(firsts) // 2] * 1e3,
        }

    if variant == "raw":
        import httpx

        with httpx.Client() as client:
            return run(lambda count, probe: _raw_stream(client, url, count, probe))
    if variant == "floor":
        import httpx

        with httpx.Client() as client:
            return run(lambda count, probe: _floor_stream(client, url, count, probe))
    from meshapi import MeshAPI

    with MeshAPI(base_url=base, token=TOKEN) as mesh:
        return run(lambda count, probe: _sdk_stream(mesh, variant, count, probe))


def rss(variant: str, base: str, size: int) -> Dict[str, Any]:
    """RSS before, along (every ``size // 20`` chunks) and at the peak of one ``size``-chunk stream."""
    url = base + "/v1/chat/completions"
    probe = _Probe(max(1, size // 20))
    if variant in ("raw", "raw_discard"):
        import httpx

        with httpx.Client() as client:
            _raw_stream(client, url, 5, _Probe(10**9))
            before = _rss_mb()
            _raw_stream(client, url, size, probe, keep_text=variant == "raw")
    elif variant == "floor":
        import httpx

        with httpx.Client() as client:
            _floor_stream(client, url, 5, _Probe(10**9))
            before = _rss_mb()
            _floor_stream(client, url, size, probe)
    else:
        from meshapi import MeshAPI

        with MeshAPI(base_url=base, token=TOKEN) as mesh:
            _sdk_stream(mesh, variant, 5, _Probe(10**9))
            before = _rss_mb()
            _sdk_stream(mesh, variant, size, probe)
    samples = probe.samples
    return {
        "chunks": probe.count,
        "rss_before_mb": before,
        "samples_mb": samples,
        "value": _peak_rss_mb(),
        "stream_delta_mb": max(samples) - before if samples else 0.0,
        "growth_mb": samples[-1] - samples[0] if samples else 0.0,
    }


# --- connection reuse ---------------------------------------------------------------------------------------
REUSE_STREAMS = 10


def reuse(variant: str, base: str, size: int) -> Dict[str, Any]:
    """``REUSE_STREAMS`` streams of ``size`` chunks on one warm client; ``value``: connections they used.

    1 means every stream after the first went out on the connection the first one used (the body was
    read to its end after ``[DONE]``); ``REUSE_STREAMS`` means each paid a new connection.
    """
    url = base + "/v1/chat/completions"
    used: List[str] = []
    if variant in ("raw", "sdk"):
        if variant == "raw":  # read to the end of the body, past [DONE]: httpx then reuses it
            import httpx

            with httpx.Client() as client:
                for _ in range(REUSE_STREAMS):
                    body = {**BODY, "stream": True}
                    with client.stream("POST", url, json=body, headers=_stream_headers(size)) as response:
                        for _line in response.iter_lines():
                            pass
                        used.append(response.headers["x-bench-connection"])
            return {"value": float(len(set(used))), "streams": REUSE_STREAMS}
        from meshapi import MeshAPI

        with MeshAPI(base_url=base, token=TOKEN) as mesh:
            for _ in range(REUSE_STREAMS):
                with mesh.chat.completions.stream(
                    model=MODEL, messages=MESSAGES, extra_headers={"x-bench-chunks": str(size)}
                ) as stream:
                    stream.until_done()
                    used.append(stream.headers["x-bench-connection"])
    else:

        async def run() -> None:
            from meshapi import AsyncMeshAPI

            async with AsyncMeshAPI(base_url=base, token=TOKEN) as mesh:
                for _ in range(REUSE_STREAMS):
                    stream = mesh.chat.completions.stream(
                        model=MODEL, messages=MESSAGES, extra_headers={"x-bench-chunks": str(size)}
                    )
                    async with stream:
                        await stream.until_done()
                        used.append(stream.headers["x-bench-connection"])

        asyncio.run(run())
    return {"value": float(len(set(used))), "streams": REUSE_STREAMS, "connections": sorted(set(used))}


from .clients import clients, idle, with_options  # noqa: E402 - beside the cases they join
from .http2 import http2_chat  # noqa: E402
from .startup import cold, import_time, sse  # noqa: E402
from .structured import structured_call, structured_stream  # noqa: E402

CASES: Dict[str, Callable[[str, str, int], Dict[str, Any]]] = {
    "structured_stream": structured_stream,
    "structured_call": structured_call,
    "sync_chat": sync_chat,
    "async_chat": async_chat,
    "async_cpu": async_cpu,
    "reuse": reuse,
    "cold": cold,
    "stream": stream,
    "rss": rss,
    "import": import_time,
    "sse": sse,
    "with_options": with_options,
    "clients": clients,
    "idle": idle,
    "http2_chat": http2_chat,
}


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.workloads")
    parser.add_argument("case", choices=sorted(CASES))
    parser.add_argument("variant")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--size", type=int, default=1000)
    args = parser.parse_args(argv)
    result = CASES[args.case](args.variant, f"http://127.0.0.1:{args.port}", args.size)
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
