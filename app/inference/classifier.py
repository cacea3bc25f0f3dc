"""The expression classifier served through LiteRT (no TensorFlow in the workers)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.inference.labels import EMOTIONS
from app.inference.runtime import make_interpreter


@dataclass(frozen=True)
class ModelCard:
    """What ``model.json`` beside the weights says about them."""

    version: str
    file: str
    flip_tta: bool = True
    # Temperature scaling (Guo et al. 2017), fitted on validation: served scores are
    # softmax(logits / T), i.e. probabilities raised to 1/T and renormalised. 1.0: as trained.
    temperature: float = 1.0
    # With flip_tta: mirror only the faces whose top score (before the temperature) is below this
    # (1.0: every face). Confident faces rarely change their answer with the mirror, so a gate
    # keeps most of the mirror's gain for a fraction of its cost (model card).
    flip_below: float = 1.0


def read_card(model_dir: str | Path) -> ModelCard:
    data = json.loads((Path(model_dir) / "model.json").read_text())
    if tuple(data.get("classes", EMOTIONS)) != EMOTIONS:
        raise ValueError("model.json lists classes in another order than app.inference.labels.EMOTIONS")
    temperature = float(data.get("temperature", 1.0))
    if not 0.05 <= temperature <= 20:
        raise ValueError(f"model.json: temperature {temperature} is not a plausible calibration")
    flip_below = float(data.get("flip_below", 1.0))
    if not 0.0 < flip_below <= 1.0:
        raise ValueError(f"model.json: flip_below {flip_below} is not a score between 0 and 1")
    return ModelCard(
        version=str(data["version"]),
        file=str(data["file"]),
        flip_tta=bool(data.get("flip_tta", True)),
        temperature=temperature,
        flip_below=flip_below,
    )


def apply_temperature(probs: np.ndarray, temperature: float) -> np.ndarray:
    """softmax(log p / T): the same order of classes, confidence tempered (T > 1) or sharpened."""
    if temperature == 1.0 or probs.shape[0] == 0:
        return probs
    logits = np.log(np.clip(probs, 1e-12, 1.0)) / temperature
    logits -= logits.max(1, keepdims=True)
    scaled = np.exp(logits)
    return (scaled / scaled.sum(1, keepdims=True)).astype(np.float32)


def mirrored_faces(plain: np.ndarray, card: ModelCard) -> np.ndarray:
    """Which faces the card has scored with their mirror too, from the network's scores on the
    faces alone: none, every face, or those whose top score is below ``flip_below``."""
    if not card.flip_tta:
        return np.zeros(len(plain), dtype=bool)
    if card.flip_below >= 1.0:
        return np.ones(len(plain), dtype=bool)
    return plain.max(1) < card.flip_below


def with_mirror(plain: np.ndarray, mirrored: np.ndarray, card: ModelCard) -> np.ndarray:
    """The served scores before the temperature, from the network's scores on the faces and on
    their mirrors: the mean of the two for the faces :func:`mirrored_faces` picks."""
    return np.where(mirrored_faces(plain, card)[:, None], (plain + mirrored) / 2.0, plain)


# Batches are padded to one of these row counts, each with its own interpreter, so that a batch
# of another size never reallocates tensors (a resize costs more than the padding). A sample's
# scores do not depend on the rest of its batch (tests/inference/test_batching.py); bigger
# batches run slower per face on the cores measured (docs/architecture.md), hence the cap.
PAD_ROWS = (1, 2, 4, 8, 16)


class ExpressionClassifier:
    """Scores for a batch of 48x48 crops, in calls of at most ``PAD_ROWS[-1]`` rows."""

    def __init__(self, model_dir: str | Path):
        self.card = read_card(model_dir)
        self.path = Path(model_dir) / self.card.file
        self.interpreter = make_interpreter(self.path)
        self.input = self.interpreter.get_input_details()[0]
        self.output_index = self.interpreter.get_output_details()[0]["index"]
        self._batch = int(self.input["shape"][0])
        self._sized: dict[int, object] = {self._batch: self.interpreter}

    @property
    def version(self) -> str:
        return self.card.version

    def _interpreter(self, rows: int):
        interpreter = self._sized.get(rows)
        if interpreter is None:
            interpreter = self._sized[rows] = make_interpreter(self.path)
            interpreter.resize_tensor_input(self.input["index"], [rows, *self.input["shape"][1:]])
            interpreter.allocate_tensors()
        return interpreter

    def _run(self, x: np.ndarray) -> np.ndarray:
        n, out = x.shape[0], []
        for start in range(0, n, PAD_ROWS[-1]):
            chunk = x[start : start + PAD_ROWS[-1]]
            rows = next(r for r in PAD_ROWS if r >= chunk.shape[0])
            if rows > chunk.shape[0]:
                chunk = np.concatenate([chunk, np.zeros((rows - chunk.shape[0], *chunk.shape[1:]), chunk.dtype)])
            interpreter = self._interpreter(rows)
            interpreter.set_tensor(self.input["index"], chunk.astype(np.float32, copy=False))
            interpreter.invoke()
            out.append(interpreter.get_tensor(self.output_index)[: min(rows, n - start)].copy())
        return np.concatenate(out)

    def predict_network(self, x: np.ndarray) -> np.ndarray:
        """The network alone, without the mirrored copies: what the Keras model computes."""
        if x.shape[0] == 0:
            return np.zeros((0, len(EMOTIONS)), dtype=np.float32)
        return self._run(x)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """float32 (N, 48, 48, 1) in [0, 1] -> probabilities (N, 7); mirrored copies averaged in
        when the model card asks for it (it was validated that way): every face's in the same
        batch, or with ``flip_below`` only the unsure faces', in a second call; then the card's
        temperature applied (calibrated confidence)."""
        if x.shape[0] == 0 or not self.card.flip_tta:
            return apply_temperature(self.predict_network(x), self.card.temperature)
        if self.card.flip_below >= 1.0:
            scores = self._run(np.concatenate([x, x[:, :, ::-1, :]], axis=0))
            n = x.shape[0]
            return apply_temperature((scores[:n] + scores[n:]) / 2.0, self.card.temperature)
        scores = self._run(x)
        unsure = mirrored_faces(scores, self.card)
        if unsure.any():
            scores[unsure] = (scores[unsure] + self._run(x[unsure][:, :, ::-1, :])) / 2.0
        return apply_temperature(scores, self.card.temperature)
