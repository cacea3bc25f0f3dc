"""The one place that creates LiteRT interpreters (detector and classifier alike)."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
from ai_edge_litert.interpreter import Interpreter


def make_interpreter(path: str | Path, threads: int | None = None) -> Interpreter:
    """A ready interpreter; ``INFERENCE_THREADS`` (default 1) sets its CPU threads, since a
    worker process handles one frame at a time per core. OpenCV's own pool gets as many: on a
    frame this small its second thread cost more CPU than it saved (1.5 against 1.1 ms of CPU for
    the detector's resize), and the cores are already shared out by processes."""
    threads = threads or int(os.environ.get("INFERENCE_THREADS", "1"))
    cv2.setNumThreads(threads)
    interpreter = Interpreter(model_path=str(path), num_threads=threads)
    interpreter.allocate_tensors()
    return interpreter
