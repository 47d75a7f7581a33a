"""Deterministic stand-ins for what production calls providers for: models (text, tool calls,
structured answers from schemas), the catalog and its routing, speech, pictures, video, voices,
search documents, moderation, embeddings, text extraction, scripted replies and templates.

Same request, same answer: tests can assert exact values. Modules import what they need from the
module itself; this package imports nothing.
"""
