"""Export trained weights to the served LiteRT model (needs TensorFlow: training extra only).

Writes into the model folder (``app/inference/weights`` by default):
- ``emotiscan_cnn.tflite``: float16 weights, dynamic batch, served by LiteRT in the workers;
- ``emotiscan_cnn.weights.npz``: the Keras weights (float16), the resume point of training;
- ``model.json``: version, classes, architecture and validation figures.

Usage: ``KERAS_BACKEND=tensorflow python -m app.training.export WEIGHTS.npz --widths 32,64,128,256``
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")


from app.inference.labels import EMOTIONS  # noqa: E402

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "inference" / "weights"


def export(weights: Path, widths: tuple[int, ...], dense_units: int, out_dir: Path, version: str, metrics: dict) -> Path:
    import keras
    import tensorflow as tf

    from app.training.architecture import build_classifier
    from app.training.train import load_weights_npz, save_weights_npz

    model = build_classifier(widths=widths, dense_units=dense_units)
    load_weights_npz(model, weights)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        saved = Path(tmp) / "saved"
        model.export(str(saved), format="tf_saved_model",
                     input_signature=[keras.InputSpec(shape=(None, 48, 48, 1), dtype="float32")])
        converter = tf.lite.TFLiteConverter.from_saved_model(str(saved))
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
        (out_dir / "emotiscan_cnn.tflite").write_bytes(converter.convert())
    save_weights_npz(model, out_dir / "emotiscan_cnn.weights.npz")
    card = {
        "version": version,
        "file": "emotiscan_cnn.tflite",
        "keras_weights": "emotiscan_cnn.weights.npz",
        "classes": list(EMOTIONS),
        "input": {"shape": [48, 48, 1], "range": [0.0, 1.0], "grayscale": True},
        "architecture": {"widths": list(widths), "dense_units": dense_units},
        "flip_tta": True,
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "metrics": metrics,
    }
    (out_dir / "model.json").write_text(json.dumps(card, indent=2) + "\n")
    return out_dir


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("weights", type=Path)
    p.add_argument("--widths", default="32,64,128,256")
    p.add_argument("--dense-units", type=int, default=256)
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p.add_argument("--version", default="")
    p.add_argument("--metrics", type=Path, help="JSON file whose figures go into model.json")
    args = p.parse_args()
    metrics = json.loads(args.metrics.read_text()) if args.metrics else {}
    version = args.version or "cnn-" + datetime.now(UTC).strftime("%Y%m%d%H%M")
    export(args.weights, tuple(int(w) for w in args.widths.split(",")), args.dense_units, args.out, version, metrics)
    print(f"exported {version} to {args.out}")


if __name__ == "__main__":
    main()
