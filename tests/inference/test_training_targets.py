"""The training targets built from the FERPlus votes (app/training/train.ferplus_targets)."""

from __future__ import annotations

import numpy as np

from app.inference.ferplus import COLUMNS, majority_labels, vote_distributions
from app.inference.labels import EMOTIONS
from tests.conftest import fer_sample, fer_sample_votes


def _targets(tmp_path, **cfg):
    from app.training.train import TrainConfig, ferplus_targets, to_input

    split = fer_sample()
    votes, matched = fer_sample_votes()
    # The sample stands for both splits: the votes file holds one array of its length.
    np.savez(tmp_path / "ferplus_votes.npz", val_votes=votes, val_matched=matched, columns=np.array(COLUMNS))
    x = to_input(split.images)
    target, x_kept, labels, x_val, y_val, val_majority = ferplus_targets(
        tmp_path, split, split, x, x, TrainConfig(data_dir=str(tmp_path), **cfg)
    )
    # The majority of every validation image, for the per-epoch scores on both label sets.
    np.testing.assert_array_equal(val_majority, majority_labels(votes, matched))
    np.testing.assert_array_equal(y_val, val_majority[val_majority >= 0])
    return split, votes, matched, target, x_kept, labels, y_val


def test_votes_only_by_default_and_the_fer2013_label_for_faces_without_a_majority(tmp_path):
    split, votes, matched, target, x_kept, labels, y_val = _targets(tmp_path, vote_weight=1.0, ambiguous_vote_weight=0.0)
    dist = vote_distributions(votes)
    keep = matched & (dist.sum(1) > 0) & (votes[:, COLUMNS.index("NF")] * 2 <= votes.sum(1))
    majority = majority_labels(votes, matched)[keep]
    assert len(target) == len(x_kept) == int(keep.sum())
    onehot = np.eye(len(EMOTIONS), dtype=np.float32)[split.labels[keep]]
    ambiguous = majority < 0
    assert ambiguous.any() and (~ambiguous).any()  # the sample holds both kinds
    np.testing.assert_allclose(target[~ambiguous], dist[keep][~ambiguous], atol=1e-6)
    np.testing.assert_allclose(target[ambiguous], onehot[ambiguous], atol=1e-6)
    assert (y_val >= 0).all()  # validated against the majority only where there is one


def test_without_the_option_faces_without_a_majority_get_the_same_share_as_the_others(tmp_path):
    split, votes, matched, target, *_ = _targets(tmp_path, vote_weight=0.7)
    dist = vote_distributions(votes)
    keep = matched & (dist.sum(1) > 0) & (votes[:, COLUMNS.index("NF")] * 2 <= votes.sum(1))
    onehot = np.eye(len(EMOTIONS), dtype=np.float32)[split.labels[keep]]
    np.testing.assert_allclose(target, 0.7 * dist[keep] + 0.3 * onehot, atol=1e-6)


def test_an_epoch_below_the_fer2013_floor_is_kept_but_never_the_best(tmp_path):
    import keras

    from app.training.architecture import build_classifier
    from app.training.train import Supervisor, TrainConfig, to_input

    split = fer_sample()
    votes, matched = fer_sample_votes()
    both = (to_input(split.images), split.labels.astype(np.int64), majority_labels(votes, matched))
    net = build_classifier(widths=(4, 4, 4, 4), dense_units=8)
    net.compile(optimizer=keras.optimizers.AdamW(1e-3), loss="categorical_crossentropy")

    def run_epoch(out, floor: float) -> dict:
        cfg = TrainConfig(out_dir=str(out), epochs=1, min_fer2013=floor, keep_epochs=True)
        out.mkdir()
        supervisor = Supervisor(net, cfg, 0, 0.0, both)
        supervisor.set_model(net)
        supervisor.on_epoch_begin(0)
        supervisor.on_epoch_end(0, {"val_accuracy": 0.5})
        return supervisor.history[-1]

    row = run_epoch(tmp_path / "floor", 1.01)  # no network reaches 101%
    assert 0 <= row["fer2013_flip"] <= 1 and 0 <= row["ferplus_flip"] <= 1
    assert (tmp_path / "floor" / "epoch1.weights.h5").exists()
    assert not (tmp_path / "floor" / "best.weights.h5").exists()
    run_epoch(tmp_path / "open", 0.0)
    assert (tmp_path / "open" / "best.weights.h5").exists()
