"""One frame in, faces with expression scores out: decode, detect, gate, classify."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import cv2
import numpy as np

from app.inference.classifier import ExpressionClassifier
from app.inference.detector import FaceDetector
from app.inference.jpeg import FrameError, jpeg_dimensions, reduced_decode_flag
from app.inference.labels import EMOTIONS
from app.inference.preprocessing import QualityLimits, crop_face, quality_reason, to_model_input

MAX_ANALYSIS_WIDTH = 1280  # larger frames are reduced first: detection works at 192 px anyway


@dataclass(frozen=True)
class FaceResult:
    """One face: box [x, y, w, h] in pixels of the submitted frame, and scores or a reason."""

    box: tuple[int, int, int, int]
    detection_score: float
    scores: dict[str, float] | None
    emotion: str | None
    confidence: float | None
    reason: str | None = None

    def as_dict(self) -> dict:
        data = {"box": list(self.box), "emotion": self.emotion, "confidence": self.confidence, "scores": self.scores}
        if self.reason:
            data["reason"] = self.reason
        return data


@dataclass
class FrameAnalysis:
    faces: list[FaceResult]
    width: int
    height: int
    timings_ms: dict[str, float] = field(default_factory=dict)


def decode_jpeg(data: bytes) -> np.ndarray:
    """BGR uint8 image, or FrameError('bad_image'). Frames far above the analysis size are decoded
    at a reduced scale: the header is read first, so no frame costs more than a few megapixels."""
    width, _ = jpeg_dimensions(bytes(data[:65536]))
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), reduced_decode_flag(width, MAX_ANALYSIS_WIDTH))
    if image is None or image.size == 0:
        raise FrameError("bad_image", "the image could not be decoded")
    return image


@dataclass
class Detected:
    """One frame after detection and the quality gate, before classification."""

    detections: list
    crops: list[np.ndarray]
    reasons: list[str | None]
    scale: float
    width: int
    height: int
    timings_ms: dict[str, float] = field(default_factory=dict)

    @property
    def usable(self) -> list[int]:
        return [i for i, reason in enumerate(self.reasons) if reason is None]


def detect_image(
    bgr: np.ndarray, detector: FaceDetector, limits: QualityLimits = QualityLimits(), source_size: tuple[int, int] | None = None
) -> Detected:
    """Faces of a BGR image, best detection first, each with its grey crop and quality reason."""
    t0 = time.perf_counter()
    height, width = bgr.shape[:2]
    source_w, source_h = source_size or (width, height)
    scale = width / source_w
    if width > MAX_ANALYSIS_WIDTH:
        scale *= MAX_ANALYSIS_WIDTH / width
        bgr = cv2.resize(bgr, (MAX_ANALYSIS_WIDTH, round(height * MAX_ANALYSIS_WIDTH / width)), interpolation=cv2.INTER_AREA)
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    detections = detector.detect(rgb)
    crops, reasons = [], []
    for det in detections:
        crop = crop_face(gray, det.box)
        crops.append(crop)
        # The size gate speaks of the face as submitted, before any reduction.
        original = tuple(round(v / scale) for v in det.box)
        reasons.append(quality_reason(crop, original, limits))
    return Detected(detections, crops, reasons, scale, source_w, source_h, {"detect": (time.perf_counter() - t0) * 1000})


def finish(detected: Detected, probs: np.ndarray | None) -> FrameAnalysis:
    """The frame's faces from its detections and the scores of its usable crops, in order."""
    faces: list[FaceResult] = []
    row = {index: k for k, index in enumerate(detected.usable)}
    for i, det in enumerate(detected.detections):
        box = tuple(round(v / detected.scale) for v in det.box)
        if i in row:
            p = probs[row[i]]
            scores = {name: round(float(v), 4) for name, v in zip(EMOTIONS, p, strict=True)}
            best = int(np.argmax(p))
            faces.append(FaceResult(box, round(det.score, 3), scores, EMOTIONS[best], round(float(p[best]), 4)))
        else:
            faces.append(FaceResult(box, round(det.score, 3), None, None, None, detected.reasons[i]))
    return FrameAnalysis(faces, detected.width, detected.height, dict(detected.timings_ms))


def analyze_image(
    bgr: np.ndarray,
    detector: FaceDetector,
    classifier: ExpressionClassifier,
    limits: QualityLimits = QualityLimits(),
    source_size: tuple[int, int] | None = None,
) -> FrameAnalysis:
    """Faces of a BGR image, best detection first; all faces classified in one batch. Boxes and
    sizes are in the pixels of ``source_size`` (the frame as sent, when it was decoded reduced)."""
    detected = detect_image(bgr, detector, limits, source_size)
    t1 = time.perf_counter()
    usable = detected.usable
    probs = classifier.predict(to_model_input(np.stack([detected.crops[i] for i in usable]))) if usable else None
    result = finish(detected, probs)
    result.timings_ms["classify"] = (time.perf_counter() - t1) * 1000
    return result


def analyze_jpegs(
    frames: list[bytes], detector: FaceDetector, classifier: ExpressionClassifier, limits: QualityLimits = QualityLimits()
) -> list[FrameAnalysis | FrameError]:
    """Several frames: decoded and detected one by one, then the usable faces of all of them
    classified together (the same scores as frame by frame: a face's scores do not depend on
    its batch). A frame that cannot be decoded gives its FrameError in its place."""
    detected: list[Detected | FrameError] = []
    for data in frames:
        try:
            t0 = time.perf_counter()
            image = decode_jpeg(data)
            decoded = time.perf_counter()
            d = detect_image(image, detector, limits, source_size=jpeg_dimensions(bytes(data[:65536])))
            d.timings_ms["decode"] = (decoded - t0) * 1000
            detected.append(d)
        except FrameError as exc:
            detected.append(exc)
    crops = [d.crops[i] for d in detected if isinstance(d, Detected) for i in d.usable]
    t1 = time.perf_counter()
    probs = classifier.predict(to_model_input(np.stack(crops))) if crops else None
    classify_ms = (time.perf_counter() - t1) * 1000
    out: list[FrameAnalysis | FrameError] = []
    offset = 0
    for d in detected:
        if isinstance(d, FrameError):
            out.append(d)
            continue
        n = len(d.usable)
        result = finish(d, probs[offset : offset + n] if n else None)
        result.timings_ms["classify"] = classify_ms * n / max(len(crops), 1)
        offset += n
        out.append(result)
    return out


def analyze_jpeg(
    data: bytes, detector: FaceDetector, classifier: ExpressionClassifier, limits: QualityLimits = QualityLimits()
) -> FrameAnalysis:
    t0 = time.perf_counter()
    image = decode_jpeg(data)
    decoded = time.perf_counter()
    result = analyze_image(image, detector, classifier, limits, source_size=jpeg_dimensions(bytes(data[:65536])))
    result.timings_ms["decode"] = (decoded - t0) * 1000
    return result
