"""Teacher scores for distillation (app/training/teacher.py) and how training mixes them into its
targets (app/training/train.py --teacher)."""

from __future__ import annotations

import lzma

import numpy as np
import pytest

from app.inference.ferplus import COLUMNS, vote_distributions
from app.inference.labels import EMOTIONS
from tests.conftest import FER_SAMPLE, fer_sample, fer_sample_votes

WIDTHS = (4, 4, 8, 8)


def _net(seed: int):
    import keras

    from app.training.architecture import build_classifier

    keras.utils.set_random_seed(seed)
    return build_classifier(widths=WIDTHS, dense_units=8)


def test_the_geometric_mix_follows_the_shares_and_sums_to_one():
    from app.training.teacher import geometric_mix

    a = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]], np.float32)
    b = np.array([[0.1, 0.8, 0.1], [0.2, 0.6, 0.2]], np.float32)
    np.testing.assert_allclose(geometric_mix([a, b], [1.0, 0.0]), a, atol=1e-6)
    np.testing.assert_allclose(geometric_mix([a, a], [0.3, 0.7]), a, atol=1e-6)
    half = geometric_mix([a, b], [1.0, 1.0])
    expected = np.sqrt(a * b) / np.sqrt(a * b).sum(1, keepdims=True)
    np.testing.assert_allclose(half, expected, atol=1e-6)
    zeros = geometric_mix([np.zeros_like(a), a], [1.0, 1.0])  # a zero score does not give NaN
    assert np.isfinite(zeros).all() and np.allclose(zeros.sum(1), 1.0)
    with pytest.raises(ValueError):
        geometric_mix([a, b], [1.0])
    with pytest.raises(ValueError):
        geometric_mix([a, b], [-1.0, 2.0])


def test_the_command_scores_every_training_image_with_each_network_and_its_mirror(tmp_path):
    from app.training.teacher import main
    from app.training.train import to_input
    from app.training.weights_io import load_weights_npz, save_weights_npz

    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "train.npz").write_bytes(lzma.open(FER_SAMPLE).read())
    a, b = _net(1), _net(2)
    save_weights_npz(a, tmp_path / "a.npz")
    save_weights_npz(b, tmp_path / "b.npz")
    args = ["--data", str(tmp_path / "data"), "--widths", ",".join(map(str, WIDTHS)), "--dense-units", "8"]
    assert main([str(tmp_path / "a.npz"), *args, "--out", str(tmp_path / "one.npz")]) == 0
    assert main([str(tmp_path / "a.npz:3"), str(tmp_path / "b.npz:1"), *args, "--out", str(tmp_path / "two.npz")]) == 0

    x = to_input(fer_sample().images)
    net = _net(3)
    mirrored = []
    for path in ("a.npz", "b.npz"):
        load_weights_npz(net, tmp_path / path)  # the float16-stored weights, as the command reads them
        mirrored.append((net.predict(x, verbose=0) + net.predict(x[:, :, ::-1], verbose=0)) / 2)
    one = np.load(tmp_path / "one.npz")["scores"]
    assert one.shape == (len(x), len(EMOTIONS))
    np.testing.assert_allclose(one, mirrored[0], atol=1e-5)
    mixed = np.exp(0.75 * np.log(mirrored[0]) + 0.25 * np.log(mirrored[1]))
    np.testing.assert_allclose(np.load(tmp_path / "two.npz")["scores"], mixed / mixed.sum(1, keepdims=True), atol=1e-5)


def test_training_mixes_the_teacher_into_the_vote_targets_with_its_weight(tmp_path):
    from app.training.train import TrainConfig, ferplus_targets, load_teacher, to_input

    split = fer_sample()
    votes, matched = fer_sample_votes()
    np.savez(tmp_path / "ferplus_votes.npz", val_votes=votes, val_matched=matched, columns=np.array(COLUMNS))
    rng = np.random.default_rng(0)
    raw = rng.random((len(split.labels), len(EMOTIONS))).astype(np.float32)
    np.savez(tmp_path / "teacher.npz", scores=raw)
    cfg = TrainConfig(data_dir=str(tmp_path), vote_weight=1.0, teacher=str(tmp_path / "teacher.npz"), teacher_weight=0.4)
    teacher = load_teacher(cfg, len(split.labels))
    np.testing.assert_allclose(teacher, raw / raw.sum(1, keepdims=True), atol=1e-6)  # normalised
    x = to_input(split.images)
    target, *_ = ferplus_targets(tmp_path, split, split, x, x, cfg, teacher)
    dist = vote_distributions(votes)
    keep = matched & (dist.sum(1) > 0) & (votes[:, COLUMNS.index("NF")] * 2 <= votes.sum(1))
    np.testing.assert_allclose(target, 0.6 * dist[keep] + 0.4 * teacher[keep], atol=1e-6)
    np.testing.assert_allclose(target.sum(1), 1.0, atol=1e-5)
    # Without a weight the teacher is not read at all.
    assert load_teacher(TrainConfig(teacher=str(tmp_path / "missing.npz")), len(split.labels)) is None


@pytest.mark.parametrize(
    "scores",
    [np.ones((3, 7), np.float32), np.full((10, 7), np.nan, np.float32)],
    ids=["wrong-count", "nan"],
)
def test_a_teacher_file_that_does_not_fit_the_training_split_is_refused(tmp_path, scores):
    from app.training.train import TrainConfig, load_teacher

    np.savez(tmp_path / "t.npz", scores=scores)
    with pytest.raises(ValueError, match="expected finite scores"):
        load_teacher(TrainConfig(teacher=str(tmp_path / "t.npz"), teacher_weight=0.5), 10)


def test_a_distilled_run_on_a_few_faces_trains_and_resumes_where_it_stopped(tmp_path):
    """The whole loop, tiny: vote targets with a teacher, one epoch, then resumed for a second from
    its last checkpoint (the state file carries the epoch on)."""
    import dataclasses
    import json

    from app.training.train import TrainConfig, train

    data = tmp_path / "data"
    data.mkdir()
    raw = lzma.open(FER_SAMPLE).read()
    (data / "train.npz").write_bytes(raw)
    (data / "val.npz").write_bytes(raw)
    votes, matched = fer_sample_votes()
    np.savez(data / "ferplus_votes.npz", val_votes=votes, val_matched=matched, columns=np.array(COLUMNS))
    np.savez(data / "teacher.npz", scores=np.full((len(votes), len(EMOTIONS)), 1 / len(EMOTIONS), np.float32))
    run = tmp_path / "run"
    cfg = TrainConfig(
        data_dir=str(data),
        out_dir=str(run),
        epochs=1,
        batch_size=64,
        warmup_epochs=0,
        widths=WIDTHS,
        dense_units=8,
        targets="ferplus",
        ambiguous_vote_weight=0.0,
        teacher=str(data / "teacher.npz"),
        teacher_weight=0.5,
    )
    first = train(cfg)
    assert first["epochs_run"] == 1 and json.loads((run / "state.json").read_text())["epoch"] == 1
    second = train(dataclasses.replace(cfg, epochs=2, resume=str(run / "last.weights.h5")))
    assert second["epochs_run"] == 1  # epoch 2 only
    assert [row["epoch"] for row in json.loads((run / "history.json").read_text())] == [2]
    assert json.loads((run / "state.json").read_text())["epoch"] == 2
    assert 0 <= second["val_accuracy"] <= 1 and (run / "model.keras").exists()
