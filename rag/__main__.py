print("usage: python -m rag.index [overrides] | python -m rag.query \"question\" [overrides]")
