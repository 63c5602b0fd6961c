"""One question answered in a worker thread, as a stream of events.

``Pipeline.ask`` reports through callbacks (passages found, each piece of answer text); a
streaming response needs an iterator. The worker runs ``ask`` under the server's pipeline lock
and puts each callback's value on a queue the response reads from.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Iterator
from typing import Any

from rag.pipeline import Pipeline

_END = object()


def ask_events(pipeline: Pipeline, lock: threading.Lock, question: str,
               top_k: int) -> Iterator[tuple[str, Any]]:
    """Yield ("retrieval", hits), ("delta", text)…, then ("response", Response); an exception
    in the worker is raised here, in the reader."""
    events: queue.Queue = queue.Queue()

    def work() -> None:
        try:
            with lock:
                response = pipeline.ask(question, top_k,
                                        stream=lambda text: events.put(("delta", text)),
                                        on_passages=lambda hits: events.put(("retrieval", hits)))
            events.put(("response", response))
        except BaseException as exc:  # noqa: BLE001 - handed to the reader, which raises it
            events.put(("error", exc))
        finally:
            events.put(_END)

    threading.Thread(target=work, daemon=True, name="rag-ask").start()
    while (item := events.get()) is not _END:
        if item[0] == "error":
            raise item[1]
        yield item


def sse(event: str, data: Any) -> str:
    """One server-sent event; the data is JSON on one line."""
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"

