"""Drive the realtime paths (good token, wrong token, a socket closed under the session) for the secrets
scan. Returns every exception raised on the way and the reprs of what was produced, so the caller can
look for the token in all of them (the realtime URL carries the key in its query string, so this is
where a leak into a message, repr or log line is most likely)."""

from __future__ import annotations

from typing import Any, List, Tuple

from tests.conftest import close, resolve

MODEL = "openai/gpt-realtime"
SESSION_UPDATE = {"type": "session.update", "session": {"type": "realtime", "instructions": "Be brief."}}


async def _one_round(client: Any, texts: List[str], errors: List[BaseException], auth: str = "auto") -> None:
    try:
        session = await resolve(client.realtime.connect(model=MODEL, auth=auth, timeout=5.0))
    except BaseException as exc:  # collected for scanning; the caller checks their type
        errors.append(exc)
        return
    texts.append(repr(session))
    try:
        await resolve(session.send(SESSION_UPDATE))
        message = await resolve(session.receive())
        texts.append(repr(message))
        await resolve(session.send({"type": "not.a.real.event"}))
        for _ in range(5):
            texts.append(repr(await resolve(session.receive())))
    except BaseException as exc:
        errors.append(exc)
    finally:
        await close(session)
        texts.append(repr(session))


async def exercise_realtime(
    harness: Any, gateway: Any, *, good_token: str, wrong_token: str
) -> Tuple[List[BaseException], List[str]]:
    errors: List[BaseException] = []
    texts: List[str] = []
    good = harness.client(gateway.base_url, token=good_token)
    bad = harness.client(gateway.base_url, token=wrong_token)
    texts.append(repr(good.realtime))
    # every auth form, including "query" where the key is in the URL the library sees
    for auth in ("auto", "subprotocol", "header", "query"):
        before = len(errors)
        await _one_round(good, texts, errors, auth)
        # the only error of a good round is the gateway's answer to the unknown event it was sent
        assert [getattr(e, "error_code", e) for e in errors[before:]] == ["unknown_event_type"], (
            f"auth={auth}: {errors[before:]!r}"
        )
        await _one_round(bad, texts, errors, auth)
        assert len(errors) == before + 2 and getattr(errors[-1], "status", 0) == 401, (
            f"auth={auth}: the wrong token was not refused with a 401: {errors[before + 1 :]!r}"
        )
        gateway.faults.add("/v1/realtime", ws_close_code=1011, ws_close_after_events=1)
        await _one_round(good, texts, errors, auth)
        assert len(errors) == before + 3, f"auth={auth}: the forced 1011 close went unreported"
        gateway.faults.clear()
    return errors, texts
