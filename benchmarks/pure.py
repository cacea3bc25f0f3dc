"""The pure pipeline's frames/s on this machine's cores, now: one process per core decoding,
detecting and classifying the same one-face 640x480 frame for a few seconds, as the workers
would with nothing else to do. `make loadtest` measures it before and after its load and
states every figure as a ratio to it: on a shared machine one core's speed varies by tens of
percent from minute to minute, and a ratio measured in the same run does not."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time


def run_one(seconds: float) -> dict:
    """This process: frames analysed in ``seconds`` of wall time, and the CPU they took."""
    from app.inference.pipeline import analyze_jpeg
    from app.inference.registry import get_models
    from benchmarks.run import frame_640

    jpeg = frame_640("deepface_img15.jpg")
    models = get_models()
    for _ in range(5):
        analyze_jpeg(jpeg, models.detector, models.classifier)
    frames, c0, t0 = 0, time.process_time(), time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        analyze_jpeg(jpeg, models.detector, models.classifier)
        frames += 1
    return {"frames": frames, "wall_s": time.perf_counter() - t0, "cpu_s": time.process_time() - c0}


def measure(seconds: float = 5.0, cores: int | None = None) -> dict:
    """{"fps": frames/s of all cores together, "ms": CPU ms per frame} from ``cores`` processes."""
    cores = cores or os.cpu_count() or 1
    env = {**os.environ, "INFERENCE_THREADS": "1"}
    cmd = [sys.executable, "-m", "benchmarks.pure", str(seconds)]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env) for _ in range(cores)]
    rows = [json.loads(p.communicate()[0].strip().splitlines()[-1]) for p in procs]
    frames = sum(r["frames"] for r in rows)
    return {"fps": sum(r["frames"] / r["wall_s"] for r in rows), "ms": sum(r["cpu_s"] for r in rows) * 1000 / max(1, frames)}


if __name__ == "__main__":
    print(json.dumps(run_one(float(sys.argv[1]) if len(sys.argv) > 1 else 5.0)))
