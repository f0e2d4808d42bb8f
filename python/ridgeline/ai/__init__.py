"""``ridgeline.ai``: the AI layer as an embeddable engine (no server, no database, no network by
default): embeddings, vector and keyword search, tokenizers, chunking, extraction, providers."""
