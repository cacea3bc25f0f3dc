"""Export trained weights to the served LiteRT model (needs TensorFlow: training extra only).

Writes into the model folder (``app/inference/weights`` by default):
- ``emotiscan_cnn.tflite``: the served network (one member, or the mean of several in one
  graph), dynamic batch, weights stored as float16 or, with ``--int8``, as int8 (dynamic range);
- ``emotiscan_cnn_m<i>.weights.npz``: each member's Keras weights (float16), its training resume
  point;
- ``model.json``: version, classes, architecture (the members), files and validation figures.

Usage: ``KERAS_BACKEND=tensorflow python -m app.training.export A.npz B.npz
--widths 32,64,128,256 48,96,192,384 --dense-units 256 256 --int8``
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


def member_weights_name(index: int) -> str:
    return f"emotiscan_cnn_m{index}.weights.npz"


def export(
    weights: list[Path],
    members: list[dict],
    out_dir: Path,
    version: str,
    metrics: dict,
    int8: bool = False,
    flip_tta: bool = True,
    flip_below: float = 1.0,
) -> Path:
    import keras
    import tensorflow as tf

    from app.training.architecture import build_ensemble
    from app.training.weights_io import load_members, member_networks, save_weights_npz

    if len(weights) != len(members):
        raise ValueError("one weights file per member")
    if not 0.0 < flip_below <= 1.0:
        raise ValueError("flip_below is a top score in (0, 1]")
    model = build_ensemble(members)
    load_members(model, weights)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        saved = Path(tmp) / "saved"
        model.export(
            str(saved), format="tf_saved_model", input_signature=[keras.InputSpec(shape=(None, 48, 48, 1), dtype="float32")]
        )
        converter = tf.lite.TFLiteConverter.from_saved_model(str(saved))
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        if not int8:  # else: the default optimisation alone stores weights as int8 (dynamic range)
            converter.target_spec.supported_types = [tf.float16]
        (out_dir / "emotiscan_cnn.tflite").write_bytes(converter.convert())
    for old in out_dir.glob("emotiscan_cnn*.weights.npz"):
        old.unlink()
    for i, net in enumerate(member_networks(model, len(members))):
        save_weights_npz(net, out_dir / member_weights_name(i))
    card = {
        "version": version,
        "file": "emotiscan_cnn.tflite",
        "keras_weights": [member_weights_name(i) for i in range(len(members))],
        "classes": list(EMOTIONS),
        "input": {"shape": [48, 48, 1], "range": [0.0, 1.0], "grayscale": True},
        "architecture": {"members": [{"widths": list(m["widths"]), "dense_units": int(m["dense_units"])} for m in members]},
        "weights_storage": "int8" if int8 else "float16",
        "flip_tta": flip_tta,
        **({"flip_below": flip_below} if flip_tta and flip_below < 1.0 else {}),
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "metrics": metrics,
    }
    (out_dir / "model.json").write_text(json.dumps(card, indent=2) + "\n")
    return out_dir


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("weights", type=Path, nargs="+", help="one .npz per member (from training's --publish)")
    p.add_argument("--widths", nargs="+", default=["32,64,128,256"], help="per member, e.g. 32,64,128,256")
    p.add_argument("--dense-units", type=int, nargs="+", default=[256], help="per member")
    p.add_argument("--int8", action="store_true", help="store weights as int8 instead of float16")
    p.add_argument("--no-flip", action="store_true", help="serve the face alone (no mirrored copy): half the cost per face")
    p.add_argument(
        "--flip-below",
        type=float,
        default=1.0,
        help="mirror only the faces whose top score is below this (default 1: every face)",
    )
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p.add_argument("--version", default="")
    p.add_argument("--metrics", type=Path, help="JSON file whose figures go into model.json")
    args = p.parse_args()
    if not (len(args.weights) == len(args.widths) == len(args.dense_units)):
        p.error("give --widths and --dense-units once per weights file")
    members = [
        {"widths": tuple(int(w) for w in widths.split(",")), "dense_units": dense}
        for widths, dense in zip(args.widths, args.dense_units, strict=True)
    ]
    metrics = json.loads(args.metrics.read_text()) if args.metrics else {}
    version = args.version or "cnn-" + datetime.now(UTC).strftime("%Y%m%d%H%M")
    flip = {"flip_tta": not args.no_flip, "flip_below": args.flip_below}
    export(args.weights, members, args.out, version, metrics, int8=args.int8, **flip)
    print(f"exported {version} to {args.out}")


if __name__ == "__main__":
    main()
