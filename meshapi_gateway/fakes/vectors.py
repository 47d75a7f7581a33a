"""Deterministic text embeddings: hashed word and character-trigram features, L2-normalised.

Texts that share words or word fragments share features, so their cosine similarity is higher - enough
for similarity ordering and for RAG search to find the chunk containing a phrase. Vectors are also
available in sparse form (``{index: value}``) for fast dot products in search.

What ``/v1/embeddings`` returns is that vector turned by a fixed orthogonal transform (signs from a
hash, then a Walsh-Hadamard transform per power-of-two block, 1536 = 1024 + 512): each dimension mixes
every feature hashed into its block, so ``vec[:5]`` is not zeros, while dot products, and so every
similarity, stay those of the sparse vectors (RAG and web search use those directly).
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
import struct
from functools import lru_cache
from typing import Dict, List, Tuple

_WORDS = re.compile(r"\w+")
_WORD_WEIGHT = 1.0
_TRIGRAM_WEIGHT = 0.35

Sparse = Dict[int, float]


@lru_cache(maxsize=65536)
def _feature_hash(feature: str) -> Tuple[int, float]:
    digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest[:6], "little"), (1.0 if digest[6] & 1 else -1.0)


def features(text: str) -> Dict[str, float]:
    weights: Dict[str, float] = {}
    for word in _WORDS.findall(text.lower()):
        weights["w:" + word] = weights.get("w:" + word, 0.0) + _WORD_WEIGHT
        padded = f" {word} "
        for i in range(len(padded) - 2):
            key = "t:" + padded[i : i + 3]
            weights[key] = weights.get(key, 0.0) + _TRIGRAM_WEIGHT
    return weights


def sparse_embedding(text: str, dimensions: int) -> Sparse:
    """Unit vector for ``text`` as ``{index: value}`` (empty text maps to the first basis vector)."""
    vec: Sparse = {}
    for feature, weight in features(text).items():
        hashed, sign = _feature_hash(feature)
        index = hashed % dimensions
        vec[index] = vec.get(index, 0.0) + sign * weight
    norm = math.sqrt(sum(v * v for v in vec.values()))
    if norm == 0.0:
        return {0: 1.0}
    return {i: v / norm for i, v in vec.items() if v != 0.0}


def dense(vec: Sparse, dimensions: int) -> List[float]:
    out = [0.0] * dimensions
    for i, v in vec.items():
        out[i] = v
    return out


@lru_cache(maxsize=64)
def _signs(dimensions: int) -> Tuple[float, ...]:
    """A fixed +1/-1 per dimension (the transform's diagonal), from a hash of the index."""
    return tuple(
        -1.0 if hashlib.blake2b(b"sign%d" % i, digest_size=1).digest()[0] & 1 else 1.0
        for i in range(dimensions)
    )


def _hadamard(values: List[float]) -> List[float]:
    """The orthonormal Walsh-Hadamard transform of ``values`` (a power-of-two length)."""
    out = list(values)
    size = len(out)
    half = 1
    while half < size:  # each level in at most sqrt(size) list operations: strided or contiguous
        step = 2 * half
        if half <= size // step:
            for offset in range(half):
                left, right = out[offset::step], out[offset + half :: step]
                out[offset::step] = [a + b for a, b in zip(left, right)]
                out[offset + half :: step] = [a - b for a, b in zip(left, right)]
        else:
            for start in range(0, size, step):
                left, right = out[start : start + half], out[start + half : start + step]
                out[start : start + half] = [a + b for a, b in zip(left, right)]
                out[start + half : start + step] = [a - b for a, b in zip(left, right)]
        half = step
    scale = 1.0 / math.sqrt(size)
    return [round(v * scale, 9) + 0.0 for v in out]  # 9 places: no 1e-17 noise where a sum is 0


def spread(values: List[float]) -> List[float]:
    """``values`` under the fixed orthogonal transform (dot products unchanged): the signs, then a
    Walsh-Hadamard transform on each power-of-two block, largest first (1536 = 1024 + 512)."""
    signed = [v * s for v, s in zip(values, _signs(len(values)))]
    out: List[float] = []
    start, left = 0, len(signed)
    while left:
        size = 1 << (left.bit_length() - 1)
        out.extend(_hadamard(signed[start : start + size]))
        start, left = start + size, left - size
    return out


def embedding(text: str, dimensions: int) -> List[float]:
    """What ``/v1/embeddings`` returns for ``text``: a dense unit vector (``spread`` of the sparse one)."""
    return spread(dense(sparse_embedding(text, dimensions), dimensions))


def dot(a: Sparse, b: Sparse) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(i, 0.0) for i, v in a.items())


def to_base64(values: List[float]) -> str:
    """Little-endian float32 bytes, base64-encoded (OpenAI's ``encoding_format: base64``)."""
    return base64.b64encode(struct.pack(f"<{len(values)}f", *values)).decode("ascii")
