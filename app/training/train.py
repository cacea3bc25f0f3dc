"""Training of the expression CNN on FER2013-format splits.

Run through ``flask --app wsgi model train`` or, where Flask is not installed (a lent GPU
machine), ``python -m app.training.train``. Writes into ``--out``:

- ``best.weights.h5``: the classifier's weights at the best validation accuracy so far,
  rewritten whenever it improves (the checkpoint a killed run leaves);
- ``last.weights.h5`` and ``state.json``: the latest epoch, for ``--resume``;
- ``history.json``, ``metrics.json`` and ``model.keras`` (best weights) at the end.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from app.inference.fer_data import load_split  # noqa: E402
from app.inference.labels import EMOTIONS  # noqa: E402
from app.training.architecture import build_augmenter, build_classifier  # noqa: E402
from app.training.weights_io import load_checkpoint, save_weights_npz  # noqa: E402


@dataclass
class TrainConfig:
    """Everything that defines a run; saved next to the weights so that a run can be repeated."""

    data_dir: str = ""  # the folder of the FER2013 splits: given on the command line
    out_dir: str = "instance/training"
    epochs: int = 120
    time_budget_s: float = 0.0  # > 0: fit the epoch count to this many seconds of training
    batch_size: int = 128
    optimizer: str = "adamw"  # adamw | sgd
    learning_rate: float = 1e-3
    weight_decay: float = 0.05
    warmup_epochs: int = 3
    label_smoothing: float = 0.1
    class_weight_clip: tuple[float, float] = (0.5, 3.0)
    widths: tuple[int, ...] = (64, 128, 256, 512)
    dense_units: int = 256
    patience: int = 30
    seed: int = 1
    mixed_precision: bool = False
    ema: bool = False
    resume: str = ""
    limit: int = 0  # > 0: use only this many training images (smoke tests)
    publish: str = ""  # also keep <publish>.npz (best weights, float16) and <publish>.json current
    # labels: the FER2013 label of each image; ferplus: the ten annotators' vote distribution
    # (ferplus_votes.npz beside the splits), validated against the FERPlus majority.
    targets: str = "labels"
    # With ferplus targets: the share of the vote distribution in each target, the rest the
    # image's FER2013 label (1.0: votes only; lower keeps more of the original labels' accuracy).
    vote_weight: float = 1.0
    # The same share for training images without a FERPlus majority (below 0: vote_weight). The
    # majority metric ignores such faces, so their FER2013 label can be kept at no cost to it.
    ambiguous_vote_weight: float = -1.0
    # With ferplus targets: an epoch is a new best only if its FER2013 accuracy on the whole
    # validation split (flip-averaged) is at least this, so that the kept weights hold both floors.
    min_fer2013: float = 0.0
    # Keep every epoch's weights (epoch<N>.weights.h5): short fine-tunes pick their epoch after.
    keep_epochs: bool = False
    # Distillation: an .npz of scores for every training image (app.training.teacher), mixed into
    # each target with this weight (the rest the targets above).
    teacher: str = ""
    teacher_weight: float = 0.0


def class_weights(labels: np.ndarray, clip: tuple[float, float]) -> np.ndarray:
    """Square-root inverse-frequency weights, clipped: lifts the rare ``disgust`` class without
    letting it dominate the loss."""
    counts = np.bincount(labels, minlength=len(EMOTIONS)).astype(np.float64)
    weights = np.sqrt(len(labels) / (len(EMOTIONS) * np.maximum(counts, 1.0)))
    return np.clip(weights, *clip).astype(np.float32)


def lr_at(epoch: int, total: int, cfg: TrainConfig) -> float:
    """Linear warm-up, then cosine decay to 1% of the peak at the last epoch."""
    peak = cfg.learning_rate
    if epoch < cfg.warmup_epochs:
        return peak * (epoch + 1) / cfg.warmup_epochs
    span = max(1, total - cfg.warmup_epochs)
    progress = min(1.0, (epoch - cfg.warmup_epochs) / span)
    return peak * (0.01 + 0.99 * 0.5 * (1.0 + math.cos(math.pi * progress)))


def split_path(data: Path, stem: str) -> Path:
    """``<stem>.npz.xz`` (as shipped) where it exists, else ``<stem>.npz``."""
    packed = data / f"{stem}.npz.xz"
    return packed if packed.exists() else data / f"{stem}.npz"


def load_teacher(cfg: TrainConfig, count: int) -> np.ndarray | None:
    """The teacher's scores, one row per training image, or None without ``--teacher``."""
    if not cfg.teacher or cfg.teacher_weight <= 0:
        return None
    with np.load(cfg.teacher) as archive:
        scores = archive["scores"].astype(np.float32)
    if scores.shape != (count, len(EMOTIONS)) or not np.isfinite(scores).all():
        raise ValueError(f"{cfg.teacher}: expected finite scores of shape ({count}, {len(EMOTIONS)}), got {scores.shape}")
    return scores / scores.sum(axis=1, keepdims=True)


def with_teacher(target: np.ndarray, teacher: np.ndarray | None, weight: float) -> np.ndarray:
    """``(1 - weight) * target + weight * teacher`` (the target alone without a teacher)."""
    if teacher is None:
        return target
    return ((1.0 - weight) * target + weight * teacher).astype(np.float32)


def to_input(images: np.ndarray) -> np.ndarray:
    """uint8 (N, 48, 48) -> float32 (N, 48, 48, 1) in [0, 1], the serving normalisation."""
    return (images.astype(np.float32) / 255.0)[..., None]


class Supervisor(keras.callbacks.Callback):
    """Schedule, progress lines, best/last checkpoints, early stopping and the time budget."""

    def __init__(
        self,
        classifier: keras.Model,
        cfg: TrainConfig,
        start_epoch: int,
        best: float,
        both_labels: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    ):
        super().__init__()
        # (all validation images, their FER2013 labels, their FERPlus majority or -1): each epoch is
        # also scored on both label sets, flip-averaged as served.
        self.both_labels = both_labels
        self.classifier = classifier
        self.cfg = cfg
        self.total = cfg.epochs
        self.best = best
        self.best_epoch = start_epoch - 1
        self.history: list[dict] = []
        self.started = time.monotonic()
        self.epoch_started = self.started
        self.epoch_times: list[float] = []
        self.out = Path(cfg.out_dir)

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        self.epoch_started = time.monotonic()
        self.model.optimizer.learning_rate.assign(lr_at(epoch, self.total, self.cfg))

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        logs = logs or {}
        now = time.monotonic()
        self.epoch_times.append(now - self.epoch_started)
        if self.cfg.time_budget_s > 0 and len(self.epoch_times) >= 2:
            # The first epoch includes compilation: size the run from the later ones, again after
            # each epoch, so that the schedule still ends in time when the machine slows down
            # (other jobs on it) or speeds up.
            recent = self.epoch_times[1:][-5:]
            remaining = self.cfg.time_budget_s - (now - self.started)
            fit = epoch + 1 + int(remaining / (sum(recent) / len(recent)))
            self.total = max(epoch + 1, min(self.cfg.epochs, fit))
        val_acc = float(logs.get("val_accuracy", 0.0))
        scores = self.score_both() if self.both_labels is not None else {}
        row = {
            "epoch": epoch + 1,
            "loss": round(float(logs.get("loss", 0.0)), 4),
            "accuracy": round(float(logs.get("accuracy", 0.0)), 4),
            "val_loss": round(float(logs.get("val_loss", 0.0)), 4),
            "val_accuracy": round(val_acc, 4),
            "lr": float(self.model.optimizer.learning_rate),
            "seconds": round(self.epoch_times[-1], 1),
            **scores,
        }
        self.history.append(row)
        if self.cfg.keep_epochs:
            self.classifier.save_weights(self.out / f"epoch{epoch + 1}.weights.h5")
        floor_met = scores.get("fer2013_flip", 1.0) >= self.cfg.min_fer2013
        if val_acc > self.best and floor_met:
            self.best, self.best_epoch = val_acc, epoch
            self.classifier.save_weights(self.out / "best.weights.h5")
            if self.cfg.publish:
                save_weights_npz(self.classifier, Path(self.cfg.publish + ".npz"))
        self.classifier.save_weights(self.out / "last.weights.h5")
        state = {"epoch": epoch + 1, "best_val_accuracy": self.best, "total_epochs": self.total}
        (self.out / "state.json").write_text(json.dumps(state))
        if self.cfg.publish:
            report = {"state": state, "config": asdict(self.cfg), "history": self.history}
            Path(self.cfg.publish + ".json").write_text(json.dumps(report))
        recent = self.epoch_times[1:] or self.epoch_times
        eta = (self.total - epoch - 1) * (sum(recent[-5:]) / len(recent[-5:]))
        print(
            f"epoch {epoch + 1}/{self.total} loss {row['loss']:.4f} acc {row['accuracy']:.4f} "
            f"val_acc {val_acc:.4f} best {self.best:.4f}@{self.best_epoch + 1} lr {row['lr']:.2e} "
            f"{row['seconds']:.1f}s left ~{eta:.0f}s" + "".join(f" {k} {v:.4f}" for k, v in scores.items()),
            flush=True,
        )
        if epoch + 1 >= self.total or epoch - self.best_epoch >= self.cfg.patience:
            self.model.stop_training = True

    def score_both(self) -> dict[str, float]:
        x, labels, majority = self.both_labels
        predicted = predict_with_flip(self.classifier, x).argmax(1)
        has = majority >= 0
        return {
            "fer2013_flip": round(float((predicted == labels).mean()), 4),
            "ferplus_flip": round(float((predicted[has] == majority[has]).mean()), 4),
        }


def ferplus_targets(
    data: Path,
    train_split,
    val_split,
    x_train: np.ndarray,
    x_val: np.ndarray,
    cfg: TrainConfig,
    teacher: np.ndarray | None = None,
):
    """Vote distributions as targets (FERPlus's cross-entropy scheme); images that most annotators
    call not-a-face, or that have no votes, are left out. Validation keeps the images that have a
    FERPlus majority, labelled with it, so that the best epoch is the one people agree with most;
    the last value is the majority of every validation image (-1 without one), for the per-epoch
    scores on both label sets."""
    from app.inference.ferplus import COLUMNS, load_votes, majority_labels, vote_distributions

    if cfg.limit:
        raise ValueError("--limit is not supported with --targets ferplus")
    votes, matched = load_votes(data / "ferplus_votes.npz", len(train_split))
    dist = vote_distributions(votes)
    keep = matched & (dist.sum(1) > 0) & (votes[:, COLUMNS.index("NF")] * 2 <= votes.sum(1))
    val_votes, val_matched = load_votes(data / "ferplus_votes.npz", len(val_split))
    majority = majority_labels(val_votes, val_matched)
    usable = majority >= 0
    print(
        f"ferplus targets: {int(keep.sum())} of {len(keep)} training images kept; "
        f"{int(usable.sum())} validation images with a majority",
        flush=True,
    )
    share = np.full((len(dist), 1), cfg.vote_weight, dtype=np.float32)
    if cfg.ambiguous_vote_weight >= 0:
        share[majority_labels(votes, matched) < 0] = cfg.ambiguous_vote_weight
    target = share * dist + (1.0 - share) * np.eye(len(EMOTIONS), dtype=np.float32)[train_split.labels]
    target = with_teacher(target, teacher, cfg.teacher_weight)
    return target[keep], x_train[keep], target[keep].argmax(1), x_val[usable], majority[usable], majority


def predict_with_flip(classifier: keras.Model, x: np.ndarray, batch_size: int = 512) -> np.ndarray:
    """Average of the scores of the image and of its mirror, as the serving path does."""
    plain = classifier.predict(x, batch_size=batch_size, verbose=0)
    mirrored = classifier.predict(x[:, :, ::-1, :], batch_size=batch_size, verbose=0)
    return (plain + mirrored) / 2.0


def train(cfg: TrainConfig) -> dict:
    """Train, keep the best weights by validation accuracy, return the final metrics."""
    keras.utils.set_random_seed(cfg.seed)
    if cfg.mixed_precision:
        keras.mixed_precision.set_global_policy("mixed_bfloat16")
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(asdict(cfg), indent=2))

    data = Path(cfg.data_dir)
    train_split, val_split = load_split(split_path(data, "train")), load_split(split_path(data, "val"))
    x_train, y_train = to_input(train_split.images), train_split.labels
    onehot = np.eye(len(EMOTIONS), dtype=np.float32)
    teacher = load_teacher(cfg, len(y_train))
    t_train = with_teacher(onehot[y_train], teacher, cfg.teacher_weight)
    if cfg.limit:  # a random subset: the split files are sorted by class
        keep = np.random.default_rng(cfg.seed).permutation(len(y_train))[: cfg.limit]
        x_train, y_train, t_train = x_train[keep], y_train[keep], t_train[keep]
    x_val, y_val = to_input(val_split.images), val_split.labels
    if cfg.targets == "ferplus":
        t_train, x_train, y_train, x_val, y_val, val_majority = ferplus_targets(
            data, train_split, val_split, x_train, x_val, cfg, teacher
        )
    sample_weight = class_weights(y_train, cfg.class_weight_clip)[y_train]
    print(f"train {len(y_train)} images, val {len(y_val)}; backend {keras.backend.backend()}", flush=True)

    classifier = build_classifier(widths=tuple(cfg.widths), dense_units=cfg.dense_units)
    start_epoch, best = 0, 0.0
    if cfg.resume:
        load_checkpoint(classifier, Path(cfg.resume))
    if cfg.resume and not cfg.resume.endswith(".npz"):
        state_file = Path(cfg.resume).with_name("state.json")
        if state_file.exists() and Path(cfg.resume).name == "last.weights.h5":
            state = json.loads(state_file.read_text())
            start_epoch, best = int(state["epoch"]), float(state["best_val_accuracy"])
        print(f"resumed from {cfg.resume} at epoch {start_epoch}", flush=True)

    inputs = keras.Input(classifier.input_shape[1:])
    trainer = keras.Model(inputs, classifier(build_augmenter(cfg.seed)(inputs)), name="trainer")
    if cfg.optimizer == "sgd":
        optimizer = keras.optimizers.SGD(
            cfg.learning_rate, momentum=0.9, nesterov=True, weight_decay=cfg.weight_decay, use_ema=cfg.ema
        )
    else:
        optimizer = keras.optimizers.AdamW(cfg.learning_rate, weight_decay=cfg.weight_decay, use_ema=cfg.ema)
    trainer.compile(
        optimizer=optimizer,
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=cfg.label_smoothing),
        metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")],
    )
    both_labels = None
    if cfg.targets == "ferplus":
        both_labels = (to_input(val_split.images), val_split.labels.astype(np.int64), val_majority)
    supervisor = Supervisor(classifier, cfg, start_epoch, best, both_labels)
    trainer.fit(
        x_train,
        t_train,
        sample_weight=sample_weight,
        batch_size=cfg.batch_size,
        epochs=cfg.epochs,
        initial_epoch=start_epoch,
        validation_data=(x_val, onehot[y_val]),
        callbacks=[supervisor],
        verbose=0,
    )
    (out / "history.json").write_text(json.dumps(supervisor.history, indent=1))

    best_path = out / "best.weights.h5"
    if best_path.exists():
        classifier.load_weights(best_path)
    keras.mixed_precision.set_global_policy("float32")
    final = build_classifier(widths=tuple(cfg.widths), dense_units=cfg.dense_units)
    final.set_weights(classifier.get_weights())
    final.save(out / "model.keras")
    plain = final.predict(x_val, batch_size=512, verbose=0).argmax(1)
    flipped = predict_with_flip(final, x_val).argmax(1)
    metrics = {
        "val_accuracy": float((plain == y_val).mean()),
        "val_accuracy_flip": float((flipped == y_val).mean()),
        "best_epoch": supervisor.best_epoch + 1,
        "epochs_run": len(supervisor.history),
        "train_seconds": round(time.monotonic() - supervisor.started, 1),
        "params": int(final.count_params()),
    }
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    if cfg.publish:
        report = json.loads(Path(cfg.publish + ".json").read_text())
        report["metrics"] = metrics
        Path(cfg.publish + ".json").write_text(json.dumps(report))
    print(json.dumps(metrics), flush=True)
    return metrics


def parse_args(argv: list[str] | None = None) -> TrainConfig:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    d = TrainConfig()
    p.add_argument("--data", dest="data_dir", required=True)
    p.add_argument("--out", dest="out_dir", default=d.out_dir)
    p.add_argument("--epochs", type=int, default=d.epochs)
    p.add_argument("--time-budget", dest="time_budget_s", type=float, default=d.time_budget_s)
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--optimizer", choices=["adamw", "sgd"], default=d.optimizer)
    p.add_argument("--lr", dest="learning_rate", type=float, default=d.learning_rate)
    p.add_argument("--weight-decay", type=float, default=d.weight_decay)
    p.add_argument("--warmup-epochs", type=int, default=d.warmup_epochs)
    p.add_argument("--label-smoothing", type=float, default=d.label_smoothing)
    p.add_argument("--widths", type=lambda s: tuple(int(w) for w in s.split(",")), default=d.widths)
    p.add_argument("--dense-units", type=int, default=d.dense_units)
    p.add_argument("--patience", type=int, default=d.patience)
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--mixed-precision", action="store_true")
    p.add_argument("--ema", action="store_true")
    p.add_argument("--resume", default="")
    p.add_argument("--limit", type=int, default=0)
    p.add_argument("--publish", default="")
    p.add_argument("--targets", choices=["labels", "ferplus"], default=d.targets)
    p.add_argument("--vote-weight", type=float, default=d.vote_weight)
    p.add_argument("--ambiguous-vote-weight", type=float, default=d.ambiguous_vote_weight)
    p.add_argument("--min-fer2013", type=float, default=d.min_fer2013)
    p.add_argument("--keep-epochs", action="store_true")
    p.add_argument("--teacher", default="", help="teacher scores (.npz from app.training.teacher) to distil")
    p.add_argument("--teacher-weight", type=float, default=d.teacher_weight)
    return TrainConfig(**vars(p.parse_args(argv)))


if __name__ == "__main__":
    train(parse_args(sys.argv[1:]))
