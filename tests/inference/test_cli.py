"""The command line: analyze (image, video, CSV), model evaluate, demo."""

from __future__ import annotations

import csv
import io
import json

import cv2
import numpy as np
import pytest

from tests.conftest import FACES, FER_SAMPLE, fer_sample


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def test_analyze_image_prints_faces(runner):
    result = runner.invoke(args=["analyze", str(FACES / "deepface_couple.jpg")])
    assert result.exit_code == 0, result.output
    assert "2 face(s)" in result.output


def test_analyze_video_as_csv(runner, tmp_path):
    video = tmp_path / "clip.avi"
    frame = cv2.imread(str(FACES / "deepface_img15.jpg"))
    frame = cv2.resize(frame, (640, round(frame.shape[0] * 640 / frame.shape[1])))
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 5, (frame.shape[1], frame.shape[0]))
    for _ in range(4):
        writer.write(frame)
    writer.release()
    result = runner.invoke(args=["analyze", str(video), "--csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert [int(r["frame"]) for r in rows] == [0, 1, 2, 3]
    assert all(
        r["emotion"]
        and abs(sum(float(r[e]) for e in ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")) - 1) < 1e-2
        for r in rows
    )


def test_analyze_refuses_a_non_image(runner, tmp_path):
    bogus = tmp_path / "notes.txt"
    bogus.write_text("hello")
    result = runner.invoke(args=["analyze", str(bogus)])
    assert result.exit_code != 0 and "Traceback" not in result.output


def test_model_evaluate_prints_json_and_confusion(runner, tmp_path):
    split = fer_sample()
    small = tmp_path / "small.npz"
    np.savez(small, images=split.images[:200], labels=split.labels[:200])
    png = tmp_path / "confusion.png"
    result = runner.invoke(args=["model", "evaluate", str(small), "--confusion", str(png)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output.strip().splitlines()[-1])
    assert report["n"] == 200 and 0 <= report["accuracy"] <= 1 and set(report["per_class_recall"]) >= {"happy", "disgust"}
    assert cv2.imread(str(png)) is not None


def test_demo_creates_a_tenant_with_a_camera(runner):
    result = runner.invoke(args=["demo", "--email", "demo@x.example"])
    assert result.exit_code == 0, result.output
    assert "/capture/" in result.output and "#token=cam_" in result.output
    again = runner.invoke(args=["demo", "--email", "demo@x.example"])
    assert "exists already" in again.output


def test_embedded_database_file_is_private(tmp_path):
    from app import create_app

    target = tmp_path / "instance" / "emotiscan.db"
    create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{target}", "TESTING": True})
    assert target.exists() and target.stat().st_mode & 0o077 == 0


def test_model_calibrate_fits_and_writes_the_temperature(app, tmp_path):
    import shutil

    from app.inference.ferplus import COLUMNS, majority_labels
    from tests.conftest import fer_sample_votes

    model_dir = tmp_path / "model"
    shutil.copytree(app.config["MODEL_DIR"], model_dir)
    card = json.loads((model_dir / "model.json").read_text())
    card["temperature"] = 3.0  # far from calibrated: the fit must move it
    (model_dir / "model.json").write_text(json.dumps(card))
    split, (votes, matched) = fer_sample(), fer_sample_votes()
    votes_file = tmp_path / "votes.npz"
    np.savez(votes_file, val_votes=votes, val_matched=matched, columns=np.array(COLUMNS))
    app.config["MODEL_DIR"] = str(model_dir)
    result = app.test_cli_runner().invoke(args=["model", "calibrate", str(FER_SAMPLE), "--ferplus", str(votes_file), "--write"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output.strip().splitlines()[-1])
    written = json.loads((model_dir / "model.json").read_text())["temperature"]
    assert written == report["temperature"] and abs(written - 3.0) > 0.5
    assert report["n"] == int((majority_labels(votes, matched) >= 0).sum()) < len(split)
    assert report["ece"] <= report["ece_uncalibrated"]


def test_model_train_passes_further_options_to_the_trainer(runner, monkeypatch):
    from app.training import train as training

    seen = {}
    monkeypatch.setattr(training, "train", lambda cfg: seen.setdefault("cfg", cfg))
    args = ["model", "train", "--data", "/data", "--targets", "ferplus", "--ambiguous-vote-weight", "0", "--min-fer2013", "0.66"]
    result = runner.invoke(args=[*args, "--teacher", "t.npz", "--teacher-weight", "0.5"])
    assert result.exit_code == 0, result.output
    cfg = seen["cfg"]
    assert (cfg.targets, cfg.ambiguous_vote_weight, cfg.min_fer2013, cfg.data_dir) == ("ferplus", 0.0, 0.66, "/data")
    assert (cfg.teacher, cfg.teacher_weight) == ("t.npz", 0.5)
    bad = runner.invoke(args=["model", "train", "--data", "/data", "--no-such-option"])
    assert bad.exit_code != 0 and "Traceback" not in bad.output


@pytest.mark.parametrize(
    ("command", "args"),
    [
        ("soup", ["a.weights.h5", "b.npz:0.5", "--data", "/data", "--widths", "48,96,192,384", "--out", "s.npz"]),
        ("teacher", ["v3b.npz:0.8", "ferplus.npz:0.2", "--data", "/data", "--widths", "48,96,192,384", "--out", "t.npz"]),
    ],
)
def test_model_soup_and_teacher_pass_options_on_and_refuse_a_missing_checkpoint(runner, monkeypatch, tmp_path, command, args):
    import importlib

    module = importlib.import_module(f"app.training.{command}")
    seen = {}
    monkeypatch.setattr(module, "main", lambda argv: seen.setdefault("argv", argv))
    result = runner.invoke(args=["model", command, *args])
    assert result.exit_code == 0, result.output
    assert seen["argv"] == args
    monkeypatch.undo()
    missing_args = [str(tmp_path / "none.npz"), "--data", "/data", "--widths", "4,4", "--out", "x.npz"]
    missing = runner.invoke(args=["model", command, *missing_args])
    assert missing.exit_code == 2 and "no such checkpoint" in missing.output and "Traceback" not in missing.output


def test_model_evaluate_with_votes_scores_both_label_sets_and_draws_both_matrices(runner, tmp_path):
    from app.inference.ferplus import COLUMNS
    from tests.conftest import fer_sample_votes

    votes, matched = fer_sample_votes()
    votes_file = tmp_path / "votes.npz"
    np.savez(votes_file, val_votes=votes, val_matched=matched, columns=np.array(COLUMNS))
    png = tmp_path / "confusion.png"
    args = ["model", "evaluate", str(FER_SAMPLE), "--ferplus", str(votes_file), "--confusion", str(png)]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output.strip().splitlines()[-1])
    assert 0 < report["ferplus_n"] < report["n"] and 0 <= report["ferplus_ece"] <= 1
    assert cv2.imread(str(png)) is not None and cv2.imread(str(tmp_path / "confusion-ferplus.png")) is not None
