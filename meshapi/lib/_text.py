"""``TextBuffer``: text accumulated from many stream pieces, in linear time and memory.

Every stream accumulator (chat, responses, compare) joins deltas with it, and the chat stream events
read their snapshots from it (``value()[:length]`` at the length an event was made at).
"""

from __future__ import annotations

from typing import List

__all__ = ["TextBuffer"]

_JOIN_EVERY = 256


class TextBuffer:
    """A string built from many small pieces without keeping every piece alive.

    Every ``_JOIN_EVERY`` pieces are joined into one block; blocks are joined only when the value is read.
    (Joining into the text so far instead would copy it again every ``_JOIN_EVERY`` pieces: quadratic.)
    ``length`` is the length of the text so far, kept as pieces arrive.
    """

    __slots__ = ("_blocks", "_parts", "length")

    def __init__(self) -> None:
        self._blocks: List[str] = []
        self._parts: List[str] = []
        self.length = 0

    def add(self, piece: str) -> None:
        self.length += len(piece)
        parts = self._parts
        parts.append(piece)
        if len(parts) >= _JOIN_EVERY:
            self._blocks.append("".join(parts))
            self._parts = []

    def value(self) -> str:
        if self._parts or len(self._blocks) > 1:
            self._blocks = ["".join(self._blocks + self._parts)]
            self._parts = []
        return self._blocks[0] if self._blocks else ""

    def __bool__(self) -> bool:
        return self.length > 0 or bool(self._parts)


_Text = TextBuffer  # the name the accumulators used before the module existed
