"""Calibration and FERPlus scoring: pure numpy, no model needed."""

from __future__ import annotations

import numpy as np

from app.inference.classifier import apply_temperature
from app.inference.evaluation import expected_calibration_error, fit_temperature
from app.inference.ferplus import COLUMNS, majority_labels, vote_distributions
from app.inference.labels import EMOTIONS


def test_temperature_keeps_the_ranking_and_is_recovered_from_data():
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 3, size=(4000, 7))
    true = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    labels = np.array([rng.choice(7, p=p) for p in true])
    overconfident = apply_temperature(true, 0.5)  # as if the model were twice as sure
    assert (overconfident.argmax(1) == true.argmax(1)).all()
    t = fit_temperature(overconfident, labels)
    assert 1.7 < t < 2.3  # undoes the 0.5
    assert (
        expected_calibration_error(apply_temperature(overconfident, t), labels)
        < expected_calibration_error(overconfident, labels) / 2
    )


def test_ece_is_zero_when_confidence_matches_accuracy_and_large_when_not():
    probs = np.tile(np.array([[0.7, 0.3, 0, 0, 0, 0, 0]]), (1000, 1))
    labels = np.array([0] * 700 + [1] * 300)
    assert expected_calibration_error(probs, labels) == 0.0
    assert expected_calibration_error(probs, np.ones(1000, dtype=int)) == 0.7


def test_ferplus_majority_rule_and_targets():
    def row(**votes):
        return [votes.get(c, 0) for c in COLUMNS]

    votes = np.array(
        [
            row(happiness=6, neutral=4),  # happy
            row(happiness=5, neutral=5),  # no class above half
            row(fear=5, sadness=4, anger=1),  # the single anger vote drops: 5 of 9 > half -> fear
            row(NF=8, neutral=2),  # not a face: no label of ours
            row(contempt=6, disgust=4),  # contempt majority: no class of ours
        ]
    )
    labels = majority_labels(votes)
    assert labels.tolist() == [EMOTIONS.index("happy"), -1, EMOTIONS.index("fear"), -1, -1]
    assert majority_labels(votes, np.array([False, True, True, True, True]))[0] == -1  # unmatched image
    targets = vote_distributions(votes)
    assert np.allclose(targets[0][EMOTIONS.index("happy")], 0.6) and np.allclose(targets.sum(1)[[0, 1, 2, 4]], 1)
    assert np.allclose(targets[4][EMOTIONS.index("disgust")], 1.0)  # contempt counts as disgust


def test_calibrate_reports_an_out_of_sample_ece_and_fixes_overconfidence():
    from app.inference.evaluation import calibrate

    rng = np.random.default_rng(1)
    logits = rng.normal(0, 3, size=(3000, 7))
    true = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    labels = np.array([rng.choice(7, p=p) for p in true])
    report = calibrate(apply_temperature(true, 0.5), labels)
    assert 1.7 < report["temperature"] < 2.3
    assert report["ece"] < 0.03 and report["ece_cross_fitted"] < 0.04
    assert report["ece_uncalibrated"] > 2 * report["ece_cross_fitted"]
