"""Generate an image and write it to a file."""

import sys

from meshapi import MeshAPI

out = sys.argv[1] if len(sys.argv) > 1 else "fox.png"
with MeshAPI() as client:
    result = client.images.generate(
        model="openai/gpt-image-1", prompt="A watercolor fox", response_format="b64_json"
    )
    print("wrote", result.data[0].save(out))
