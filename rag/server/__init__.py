"""The HTTP server over one warmed Pipeline (``python -m rag.serve``).

app.py      the FastAPI app: REST (/v1/search, /v1/answer), uploads, health, errors, auth
openai.py   the OpenAI-compatible routes (/v1/models, /v1/chat/completions)
uploads.py  what an uploaded file may be, and where it is written
errors.py   errors as JSON
events.py   a Pipeline.ask run in a worker thread, as a stream of events (SSE)
page.html   the web page at /
"""
