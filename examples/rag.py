"""RAG: upload a document, wait until it is embedded, search it."""

from meshapi import MeshAPI

DOC = b"""# Refund policy

Refunds are issued within five business days. Contact support with your order number.

# Shipping

Orders ship from our warehouse within two days.
"""

with MeshAPI() as client:
    upload = client.rag.upload_file(file_name="policy.md", mime_type="text/markdown", content=DOC)
    status = client.rag.wait_until_ready(upload.file_id, timeout=60)
    print(status.file_name, status.upload_status, status.embedding_status)
    for hit in client.rag.search(query="how long do refunds take", top_k=2).results:
        print(f"{hit.score:.3f}  {hit.text!r}")
