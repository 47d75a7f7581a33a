"""The SSE decoder, cut at every byte offset, with every line ending, sync and async."""

from __future__ import annotations

from typing import AsyncIterator, List

import pytest

from meshapi._core.sse import ServerSentEvent, SSEDecoder, aiter_sse, iter_sse
from meshapi._core.timeouts import EventGap, EventGapTimeout

CHAT = (
    'data: {"id":"c","choices":[{"delta":{"content":"h\u00e9llo \u2603 \U0001f600"}}]}\n\n'
    ": keep-alive\n\n"
    "event: model_chunk\n"
    "id: 7\n"
    "retry: 1500\n"
    'data: {"model":"a"}\n\n'
    "data:[DONE]\n\n"
)
EXPECTED = [
    ServerSentEvent('{"id":"c","choices":[{"delta":{"content":"h\u00e9llo \u2603 \U0001f600"}}]}'),
    ServerSentEvent('{"model":"a"}', "model_chunk", "7", 1500),
    ServerSentEvent("[DONE]", None, "7", 1500),
]


def decode_all(chunks: List[bytes]) -> List[ServerSentEvent]:
    return list(iter_sse(chunks))


def with_endings(text: str, ending: str) -> bytes:
    return text.replace("\n", ending).encode("utf-8")


@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r"])
def test_every_split_point(ending: str) -> None:
    raw = with_endings(CHAT, ending)
    for cut in range(len(raw) + 1):
        assert decode_all([raw[:cut], raw[cut:]]) == EXPECTED, (ending, cut)


@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r"])
def test_every_pair_of_split_points_and_single_bytes(ending: str) -> None:
    raw = with_endings(CHAT, ending)
    assert decode_all([raw[i : i + 1] for i in range(len(raw))]) == EXPECTED
    step = 7
    for a in range(0, len(raw), step):
        for b in range(a, len(raw), step):
            assert decode_all([raw[:a], raw[a:b], raw[b:]]) == EXPECTED


async def test_async_every_split_point() -> None:
    raw = with_endings(CHAT, "\r\n")

    async def chunks(cut: int) -> AsyncIterator[bytes]:
        yield raw[:cut]
        yield raw[cut:]

    for cut in range(len(raw) + 1):
        assert [e async for e in aiter_sse(chunks(cut))] == EXPECTED


def test_multibyte_character_split_across_chunks_survives() -> None:
    raw = 'data: {"t":"h\u00e9"}\n\n'.encode()
    cut = raw.index(b"\xc3") + 1  # between the two bytes of the e-acute
    assert decode_all([raw[:cut], raw[cut:]])[0].data == '{"t":"h\u00e9"}'


def test_last_event_without_trailing_blank_line_is_delivered() -> None:
    assert decode_all([b"data: one\n\ndata: two"]) == [ServerSentEvent("one"), ServerSentEvent("two")]
    assert decode_all([b"data: two\n"]) == [ServerSentEvent("two")]


def test_bom_is_dropped_even_when_split() -> None:
    raw = b"\xef\xbb\xbfdata: x\n\n"
    for cut in range(len(raw) + 1):
        assert decode_all([raw[:cut], raw[cut:]]) == [ServerSentEvent("x")]


def test_multiline_data_comments_and_unknown_fields() -> None:
    raw = b": hello\ndata: a\ndata\ndata:  b\nfoo: bar\n\n"
    assert decode_all([raw]) == [ServerSentEvent("a\n\n b")]


def test_event_without_data_is_not_dispatched_and_name_resets() -> None:
    raw = b"event: ping\n\ndata: x\n\n"
    assert decode_all([raw]) == [ServerSentEvent("x")]


def test_id_with_nul_is_ignored_and_retry_must_be_digits() -> None:
    raw = b"id: a\x00b\nretry: soon\ndata: x\n\n"
    assert decode_all([raw]) == [ServerSentEvent("x")]


def test_whatwg_examples() -> None:
    # the field-parsing examples of the HTML standard's event stream section
    assert [e.data for e in decode_all([b"data: YHOO\ndata: +2\ndata: 10\n\n"])] == ["YHOO\n+2\n10"]
    stream = b": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n\n"
    events = decode_all([stream])
    assert [(e.data, e.id) for e in events] == [
        ("first event", "1"),
        ("second event", ""),
        (" third event", ""),
    ]
    assert [e.data for e in decode_all([b"data\n\ndata\ndata\n\ndata:\n"])] == ["", "\n", ""]


def test_decoder_state_is_incremental() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: par") == []
    assert decoder.feed(b"tial\n") == []
    assert decoder.feed(b"\n") == [ServerSentEvent("partial")]
    assert decoder.flush() == []


def test_huge_event_is_linear() -> None:
    payload = b"x" * 5_000_000
    chunks = [b"data: "] + [payload[i : i + 65536] for i in range(0, len(payload), 65536)] + [b"\n\n"]
    events = decode_all(chunks)
    assert len(events) == 1 and len(events[0].data) == len(payload)


# -- limits (hostile servers) --------------------------------------------------------------------------


def test_a_line_that_never_ends_is_refused_at_the_limit() -> None:
    from meshapi._core.sse import SSELimitError

    decoder = SSEDecoder(max_line_bytes=1000)
    decoder.feed(b"data: " + b"x" * 900)
    with pytest.raises(SSELimitError) as caught:
        decoder.feed(b"y" * 200)
    assert caught.value.limit == 1000 and "1000-byte limit" in str(caught.value)
    assert decoder._parts == []  # nothing kept after the refusal


def test_a_long_line_inside_one_chunk_is_refused() -> None:
    from meshapi._core.sse import SSELimitError

    with pytest.raises(SSELimitError):
        SSEDecoder(max_line_bytes=100).feed(b"data: " + b"x" * 200 + b"\n\n")
    with pytest.raises(SSELimitError):
        SSEDecoder(max_line_bytes=100).feed(b": comment " + b"x" * 200 + b"\n")


def test_an_event_of_many_short_lines_is_refused_at_the_event_limit() -> None:
    from meshapi._core.sse import SSELimitError

    decoder = SSEDecoder(max_event_bytes=10_000)
    with pytest.raises(SSELimitError, match="one event"):
        for _ in range(1000):
            decoder.feed(b"data: " + b"z" * 50 + b"\n")
    assert decoder._data == []


def test_limits_are_per_event_and_default_to_64_mib() -> None:
    from meshapi._core.sse import DEFAULT_MAX_EVENT_BYTES

    assert DEFAULT_MAX_EVENT_BYTES == 64 * 1024 * 1024
    assert SSEDecoder().max_event_bytes == SSEDecoder().max_line_bytes == DEFAULT_MAX_EVENT_BYTES
    decoder = SSEDecoder(max_event_bytes=100, max_line_bytes=100)
    events = []
    for _ in range(50):  # each event is under the limit; together far over it
        events += decoder.feed(b"data: " + b"a" * 80 + b"\n\n")
    assert len(events) == 50


def test_a_retry_field_with_thousands_of_digits_is_ignored() -> None:
    decoder = SSEDecoder()
    events = decoder.feed(b"retry: " + b"9" * 5000 + b"\ndata: x\n\n")
    assert events[0].data == "x" and events[0].retry is None
    assert SSEDecoder().feed(b"retry: 1500\ndata: y\n\n")[0].retry == 1500
    assert SSEDecoder().feed("retry: \u0661\u0662\ndata: z\n\n".encode())[0].retry is None


# --- the gap between events (``EventGap``): comments and blank lines are not events --------------------

KEEPALIVES = [b": ping\n\n", b"\n", b"\r\n", b":\r\n:x\r\r", b": a\n: b\n\n"]
EVENTS = [b"data: {}\n\n", b"event: x\ndata: 1\n\n", b": c\ndata: 1\r\n\r\n", b"id: 7\n\n"]


@pytest.mark.parametrize("body", KEEPALIVES)
def test_keepalives_cut_anywhere_never_reset_the_gap(body: bytes) -> None:
    for cut in range(len(body) + 1):
        gap = EventGap(1.0, now=0.0)
        gap.feed(body[:cut], now=0.5)
        gap.feed(body[cut:], now=0.9)
        with pytest.raises(EventGapTimeout, match="no event arrived within the 1 s read timeout"):
            gap.feed(body, now=1.01)


@pytest.mark.parametrize("body", EVENTS)
def test_an_event_cut_anywhere_resets_the_gap(body: bytes) -> None:
    for cut in range(len(body) + 1):
        gap = EventGap(1.0, now=0.0)
        gap.feed(b": ping\n\n", now=0.9)
        gap.feed(body[:cut], now=0.95)
        gap.feed(body[cut:], now=0.96)
        gap.feed(b": ping\n\n", now=1.9)  # within 1 s of the event
        with pytest.raises(EventGapTimeout):
            gap.feed(b": ping\n\n", now=2.0)


def test_an_event_arriving_slowly_is_progress_not_a_gap() -> None:
    gap = EventGap(1.0, now=0.0)
    for piece, now in ((b"data: aaaa", 0.5), (b"bbbb", 1.1), (b"cccc", 1.7), (b"\n\n", 2.3), (b"\n", 2.6)):
        gap.feed(piece, now=now)  # each piece of the data line comes within 1 s of the one before
    with pytest.raises(EventGapTimeout):
        gap.feed(b": ping\n\n", now=2.8)


def test_a_comment_split_after_its_colon_stays_a_comment() -> None:
    gap = EventGap(1.0, now=0.0)
    for piece, now in ((b"\n:", 0.2), (b" long comment", 0.4), (b" still", 0.6), (b"\n", 0.8)):
        gap.feed(piece, now=now)
    with pytest.raises(EventGapTimeout):
        gap.feed(b"", now=1.2)  # an empty read after the limit counts too


PLAIN = b"".join(b'data: {"n":%d,"t":"x\xc3\xa9"}\n\n' % i for i in range(40))
MIXED = [
    PLAIN,
    b"data: a\n\ndata: b\ndata: c\n\ndata: d\n\n",  # an event of two lines
    b"data: a\n\n: ping\n\ndata: b\n\n",  # a comment between events
    b"data: a\n\nid: 9\ndata: b\n\ndata: c\n\n",  # an id, kept by the events after it
    b"data: a\n\nretry: 20\n\ndata: b\n\nevent: e\ndata: c\n\ndata: d\n\n",
    b"data: a\n\n\ndata: b\n\n\n\ndata: c\n\n",  # extra blank lines
    b"data: a\r\n\r\ndata: b\r\rdata: c\n\n",  # other line endings
    b"data: \n\ndata:x\n\ndata: y\n\ndata\n\n",  # empty data, no space, a bare field name
    b"data: a\n\ndata: b",  # the last event unterminated
    b"data: \xff\xe9\n\ndata: \xe2\x82\n\ndata: \xe2\x82\xac\xc3\n\ndata: ok\n\n",  # invalid UTF-8 at ends
]


@pytest.mark.parametrize("body", MIXED)
def test_whole_buffers_decode_as_byte_by_byte(body: bytes) -> None:
    # one byte at a time never holds a blank line, so it is the line-by-line path alone
    expected = decode_all([body[i : i + 1] for i in range(len(body))])
    assert decode_all([body]) == expected
    for cut in range(len(body) + 1):
        assert decode_all([body[:cut], body[cut:]]) == expected, cut


def test_plain_events_are_cut_at_blank_lines_at_once() -> None:
    decoder, events = SSEDecoder(), []
    rest = decoder._feed_plain(PLAIN + b'data: {"n":40', events)
    assert rest == b'data: {"n":40'
    # with no id or retry so far, each plain event is its data string (ServerSentEvent(data) is the event)
    assert events == [f'{{"n":{i},"t":"x\u00e9"}}' for i in range(40)]
    assert [e.data for e in decoder.feed(PLAIN)] == events
    assert all(e.event is None and e.id is None and e.retry is None for e in decoder.feed(PLAIN))
    # anything else in a buffer, or a buffer past a limit: left whole for the line-by-line path
    for other in [*MIXED[1:6], MIXED[7]]:
        kept: List[ServerSentEvent] = []
        assert decoder._feed_plain(other, kept) == other and kept == []
    small = SSEDecoder(max_line_bytes=100, max_event_bytes=100)
    assert small._feed_plain(PLAIN, events) == PLAIN


def test_feed_data_gives_plain_events_as_strings_and_others_as_events() -> None:
    decoder = SSEDecoder()
    assert decoder.feed_data(b"data: a\n\ndata: b\n\ndata: c") == ["a", "b"]
    # a buffer that is not all plain events goes line by line: events, as feed() gives them
    assert decoder.feed_data(b"\n\nevent: e\ndata: d\n\n") == [
        ServerSentEvent("c"),
        ServerSentEvent("d", "e"),
    ]
    # once an id was seen, plain events carry it, so they come as events
    decoder = SSEDecoder()
    got = decoder.feed_data(b"id: 7\ndata: a\n\n") + decoder.feed_data(b"data: b\n\ndata: c\n\n")
    assert got == [ServerSentEvent(x, None, "7") for x in "abc"]
