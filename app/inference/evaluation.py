"""Evaluation of the served classifier on FER2013-format splits (no Keras: the serving path)."""

from __future__ import annotations

import cv2
import numpy as np

from app.inference.classifier import ExpressionClassifier
from app.inference.fer_data import FerSplit
from app.inference.labels import EMOTIONS
from app.inference.preprocessing import to_model_input


def predict_proba(split: FerSplit, classifier: ExpressionClassifier, batch: int = 256) -> np.ndarray:
    """Served probabilities (N, 7), calibration included, through the serving path."""
    preds = [classifier.predict(to_model_input(split.images[i : i + batch])) for i in range(0, len(split), batch)]
    return np.concatenate(preds) if preds else np.zeros((0, len(EMOTIONS)), dtype=np.float32)


def predict_split(split: FerSplit, classifier: ExpressionClassifier, batch: int = 256) -> np.ndarray:
    return predict_proba(split, classifier, batch).argmax(1)


def expected_calibration_error(probs: np.ndarray, labels: np.ndarray, bins: int = 15) -> float:
    """ECE: the gap between confidence and accuracy, averaged over equal-width confidence bins
    weighted by how many predictions fall in each (Guo et al. 2017)."""
    if len(labels) == 0:
        return 0.0
    confidence, predicted = probs.max(1), probs.argmax(1)
    correct = (predicted == labels).astype(np.float64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    ece = 0.0
    for b in range(bins):
        members = index == b
        if members.any():
            ece += members.mean() * abs(correct[members].mean() - confidence[members].mean())
    return round(float(ece), 4)


def metrics(labels: np.ndarray, predicted: np.ndarray) -> dict:
    k = len(EMOTIONS)
    confusion = np.zeros((k, k), dtype=np.int64)
    np.add.at(confusion, (labels, predicted), 1)
    support, predicted_count, correct = confusion.sum(1), confusion.sum(0), np.diag(confusion)
    recall = np.divide(correct, support, out=np.zeros(k), where=support > 0)
    precision = np.divide(correct, predicted_count, out=np.zeros(k), where=predicted_count > 0)
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros(k), where=(precision + recall) > 0)
    return {
        "accuracy": round(float(correct.sum() / max(1, len(labels))), 4),
        "macro_f1": round(float(f1.mean()), 4),
        "per_class_recall": {e: round(float(r), 4) for e, r in zip(EMOTIONS, recall, strict=True)},
        "n": int(len(labels)),
        "confusion": confusion.tolist(),
    }


def evaluate_split(
    split: FerSplit, classifier: ExpressionClassifier, votes: np.ndarray | None = None, matched: np.ndarray | None = None
) -> dict:
    """Scores against the file's labels and, with FERPlus votes, against their majority; each
    with macro F1, per-class recall and ECE (15 bins)."""
    probs = predict_proba(split, classifier)
    predicted = probs.argmax(1)
    report = metrics(split.labels, predicted)
    report["ece"] = expected_calibration_error(probs, split.labels)
    if votes is not None:
        from app.inference.ferplus import majority_labels

        majority = majority_labels(votes, matched)
        usable = majority >= 0
        plus = metrics(majority[usable], predicted[usable])
        report.update(
            {
                "ferplus_majority_accuracy": plus["accuracy"],
                "ferplus_macro_f1": plus["macro_f1"],
                "ferplus_per_class_recall": plus["per_class_recall"],
                "ferplus_n": plus["n"],
                "ferplus_ece": expected_calibration_error(probs[usable], majority[usable]),
                "ferplus_confusion": plus["confusion"],
            }
        )
    report["model_version"] = classifier.version
    return report


def confusion_png(confusion: list[list[int]], cell: int = 64) -> bytes:
    """A row-normalised confusion matrix drawn with OpenCV (no plotting library needed)."""
    matrix = np.asarray(confusion, dtype=np.float64)
    norm = matrix / np.maximum(matrix.sum(1, keepdims=True), 1)
    k, margin = len(EMOTIONS), 90
    image = np.full((margin + k * cell + 10, margin + k * cell + 10, 3), 255, np.uint8)
    for i in range(k):
        for j in range(k):
            shade = int(255 * (1 - norm[i, j]))
            x, y = margin + j * cell, margin + i * cell
            cv2.rectangle(image, (x, y), (x + cell, y + cell), (255, shade, shade), -1)
            color = (255, 255, 255) if norm[i, j] > 0.5 else (0, 0, 0)
            cv2.putText(image, f"{norm[i, j]:.2f}", (x + 8, y + cell // 2 + 5), cv2.FONT_HERSHEY_SIMPLEX, 0.45, color, 1)
        cv2.putText(image, EMOTIONS[i][:7], (4, margin + i * cell + cell // 2 + 5), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1)
        cv2.putText(image, EMOTIONS[i][:7], (margin + i * cell + 4, margin - 10), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (0, 0, 0), 1)
    cv2.putText(image, "true (rows) / predicted (columns)", (margin, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1)
    ok, png = cv2.imencode(".png", image)
    return png.tobytes()


def fit_temperature(probs: np.ndarray, targets: np.ndarray) -> float:
    """The temperature that minimises the negative log-likelihood of ``targets`` (class indices
    or distributions) under softmax(log probs / T): a 1-D search, coarse then fine."""
    from app.inference.classifier import apply_temperature

    dist = targets if targets.ndim == 2 else np.eye(probs.shape[1], dtype=np.float64)[targets]

    def nll(t: float) -> float:
        return float(-(dist * np.log(np.clip(apply_temperature(probs, t), 1e-12, 1.0))).sum(1).mean())

    grid = np.exp(np.linspace(np.log(0.25), np.log(4.0), 81))
    best = min(grid, key=nll)
    fine = np.linspace(best * 0.95, best * 1.05, 41)
    return round(float(min(fine, key=nll)), 4)


def calibrate(probs: np.ndarray, labels: np.ndarray, folds: int = 2, seed: int = 0) -> dict:
    """Temperature scaling on uncalibrated scores ``probs`` against ``labels``.

    Returns the temperature fitted on all of them, the ECE before and after it (in-sample), and an
    out-of-sample ECE: the faces split into ``folds`` random parts, each scored with the
    temperature fitted on the others, so that the figure does not flatter the fit.
    """
    from app.inference.classifier import apply_temperature

    temperature = fit_temperature(probs, labels)
    order = np.random.default_rng(seed).permutation(len(labels))
    held_out = np.empty_like(probs)
    for part in np.array_split(order, folds):
        rest = np.setdiff1d(order, part)
        held_out[part] = apply_temperature(probs[part], fit_temperature(probs[rest], labels[rest]))
    return {
        "temperature": temperature,
        "ece_uncalibrated": expected_calibration_error(probs, labels),
        "ece": expected_calibration_error(apply_temperature(probs, temperature), labels),
        "ece_cross_fitted": expected_calibration_error(held_out, labels),
    }
