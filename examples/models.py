"""The model catalog: free and paid models with prices."""

from meshapi import MeshAPI

with MeshAPI() as client:
    for model in client.models.list():
        price = model.pricing.prompt_usd_per_1k if model.pricing else None
        print(f"{model.id:40} {'free' if model.is_free else 'paid':5} prompt/1k={price}")
