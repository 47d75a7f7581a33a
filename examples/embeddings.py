"""Embeddings and cosine similarity: similar sentences land near each other."""

import math
from typing import Sequence

from meshapi import MeshAPI


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    return sum(x * y for x, y in zip(a, b)) / (
        math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    )


with MeshAPI() as client:
    texts = ["The cat sat on the mat.", "A cat was sitting on a mat.", "Bond yields fell sharply."]
    result = client.embeddings.create(model="openai/text-embedding-3-small", input=texts)
    vectors = [item.floats() for item in result.data]
    print(f"similar:   {cosine(vectors[0], vectors[1]):.3f}")
    print(f"unrelated: {cosine(vectors[0], vectors[2]):.3f}")
    packed = client.embeddings.create(
        model="openai/text-embedding-3-small", input="hello", dimensions=8, encoding_format="base64"
    )
    print("base64 decoded:", [round(x, 3) for x in packed.data[0].floats()])
