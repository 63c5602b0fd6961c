"""rag: an end-to-end RAG pipeline that lets you choose the embedding stack by measurement."""

__version__ = "0.1.0"
