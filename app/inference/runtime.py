"""The one place that creates LiteRT interpreters (detector and classifier alike)."""

from __future__ import annotations

import os
from pathlib import Path

from ai_edge_litert.interpreter import Interpreter


def make_interpreter(path: str | Path, threads: int | None = None) -> Interpreter:
    """A ready interpreter; ``INFERENCE_THREADS`` (default 1) sets its CPU threads, since a
    worker process handles one frame at a time per core."""
    threads = threads or int(os.environ.get("INFERENCE_THREADS", "1"))
    interpreter = Interpreter(model_path=str(path), num_threads=threads)
    interpreter.allocate_tensors()
    return interpreter
