"""Deterministic text embeddings: hashed word and character-trigram features, L2-normalised.

Texts that share words or word fragments share features, so their cosine similarity is higher - enough
for similarity ordering and for RAG search to find the chunk containing a phrase. Vectors are also
available in sparse form (``{index: value}``) for fast dot products in search.
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


def embedding(text: str, dimensions: int) -> List[float]:
    return dense(sparse_embedding(text, dimensions), dimensions)


def dot(a: Sparse, b: Sparse) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(i, 0.0) for i, v in a.items())


def to_base64(values: List[float]) -> str:
    """Little-endian float32 bytes, base64-encoded (OpenAI's ``encoding_format: base64``)."""
    return base64.b64encode(struct.pack(f"<{len(values)}f", *values)).decode("ascii")
