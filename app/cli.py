"""Command-line commands: ``flask --app wsgi demo``, ``analyze``, ``model train|evaluate|calibrate``, ``users unlock``,
``keys reencrypt``."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

model_cli = AppGroup("model", help="Train and evaluate the expression classifier.")
users_cli = AppGroup("users", help="Operator tasks on user accounts.")
keys_cli = AppGroup("keys", help="Keys of the secrets encrypted at rest (DATA_KEYS).")


@click.command("demo")
@with_appcontext
@click.option("--email", default="demo@emotiscan.local", show_default=True)
@click.option("--password", default="demo-password", show_default=True)
def demo_command(email: str, password: str) -> None:
    """Create a demo organisation with a site and a camera, and print how to use them."""
    from app.services import accounts, cameras, sites

    if accounts.email_taken(email):
        click.echo(f"{email} exists already; sign in with its password.")
        return
    tenant, _user = accounts.signup("Démo EmotiScan", email, password, locale="fr")
    site = sites.create_site(tenant.id, "Entrée principale", "Europe/Paris")
    camera, token = cameras.create_camera(site, "Tablette de l'entrée")
    click.echo(f"Sign in at {current_app.config['PUBLIC_URL']}/auth/login as {email} / {password}")
    click.echo(f"Capture page for the camera: {cameras.capture_url(camera, token)}")


@click.command("analyze")
@with_appcontext
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--csv", "as_csv", is_flag=True, help="One CSV row per face instead of text.")
@click.option("--every", default=1, show_default=True, help="Videos: analyse every Nth frame.")
def analyze_command(path: str, as_csv: bool, every: int) -> None:
    """Faces and expressions of an image or a video, with the workers' analysis."""
    from app.inference.files import analyze_file
    from app.inference.jpeg import FrameError
    from app.inference.labels import EMOTIONS
    from app.inference.registry import get_models
    from app.services.analysis import quality_limits

    models = get_models(current_app.config["MODEL_DIR"])
    writer = csv.writer(sys.stdout) if as_csv else None
    if writer:
        writer.writerow(["frame", "time_s", "face", "x", "y", "w", "h", "emotion", "confidence", "reason", *EMOTIONS])
    try:
        for frame_no, time_s, analysis in analyze_file(Path(path), models, quality_limits(), every=max(1, every)):
            _print_frame(frame_no, time_s, analysis, writer)
    except FrameError as exc:
        raise click.ClickException(str(exc)) from None


def _print_frame(frame_no: int, time_s: float, analysis, writer) -> None:
    from app.inference.labels import EMOTIONS

    if writer:
        for i, face in enumerate(analysis.faces):
            scores = [face.scores[e] if face.scores else "" for e in EMOTIONS]
            writer.writerow(
                [
                    frame_no,
                    f"{time_s:.3f}",
                    i,
                    *face.box,
                    face.emotion or "",
                    face.confidence if face.confidence is not None else "",
                    face.reason or "",
                    *scores,
                ]
            )
        return
    summary = (
        ", ".join(
            f"{f.emotion} {f.confidence:.0%} at {list(f.box)}" if f.emotion else f"({f.reason}) at {list(f.box)}"
            for f in analysis.faces
        )
        or "no face"
    )
    click.echo(f"frame {frame_no} t={time_s:.2f}s: {len(analysis.faces)} face(s): {summary}")


@model_cli.command("train", context_settings={"ignore_unknown_options": True})
@click.option(
    "--data", envvar="EMOTISCAN_DATA_FER", required=True, help="Folder with train/val .npz(.xz) (or EMOTISCAN_DATA_FER)."
)
@click.option("--epochs", default=120, show_default=True)
@click.option("--out", default="instance/training", show_default=True)
@click.option("--seed", default=1, show_default=True)
@click.option("--resume", default="", help="Weights (.weights.h5 or .npz) to continue from.")
@click.option("--time-budget", default=0.0, help="Seconds: fit the epoch count (and schedule) to this budget.")
@click.option("--widths", default="32,64,128,256", show_default=True)
@click.option("--lr", default=2e-3, show_default=True)
@click.argument("training_options", nargs=-1, type=click.UNPROCESSED)
def train_command(data, epochs, out, seed, resume, time_budget, widths, lr, training_options) -> None:
    """Train the CNN (needs requirements-train.txt); prints progress per epoch.

    Any further option goes to the trainer as it is (``python -m app.training.train --help``
    lists them), e.g. ``--targets ferplus --ambiguous-vote-weight 0 --min-fer2013 0.66``."""
    try:
        from app.training.train import parse_args, train
    except ImportError as exc:
        raise click.ClickException(f"training needs the training extra: pip install -r requirements-train.txt ({exc})") from None
    args = [
        "--data",
        data,
        "--epochs",
        str(epochs),
        "--out",
        out,
        "--seed",
        str(seed),
        "--widths",
        widths,
        "--lr",
        str(lr),
        "--time-budget",
        str(time_budget),
    ]
    if resume:
        args += ["--resume", resume]
    try:
        config = parse_args([*args, *training_options])
    except SystemExit as exc:  # argparse has printed what was wrong
        raise click.exceptions.Exit(exc.code or 0) from None
    train(config)


def _run_training_script(name: str, options: tuple[str, ...]) -> None:
    """``app.training.<name>.main(options)``: a clear message without the training extra, and
    argparse's own exit status (it has printed what was wrong)."""
    import importlib

    try:
        module = importlib.import_module(f"app.training.{name}")
    except ImportError as exc:
        extra = "pip install -r requirements-train.txt"
        raise click.ClickException(f"model {name} needs the training extra: {extra} ({exc})") from None
    try:
        module.main(list(options))
    except SystemExit as exc:
        raise click.exceptions.Exit(exc.code or 0) from None


@model_cli.command("soup", context_settings={"ignore_unknown_options": True})
@click.argument("soup_options", nargs=-1, type=click.UNPROCESSED)
def soup_command(soup_options) -> None:
    """Average checkpoints of one network into one (needs requirements-train.txt), with fresh
    BatchNorm statistics: ``CHECKPOINT[:SHARE] ... --data DIR --widths W --out SOUP.npz``
    (``python -m app.training.soup --help`` lists the options)."""
    _run_training_script("soup", soup_options)


@model_cli.command("teacher", context_settings={"ignore_unknown_options": True})
@click.argument("teacher_options", nargs=-1, type=click.UNPROCESSED)
def teacher_command(teacher_options) -> None:
    """Scores of a mix of networks, each with its mirrored copy, on every training image, for
    ``model train --teacher FILE --teacher-weight W`` (needs requirements-train.txt):
    ``CHECKPOINT[:SHARE] ... --data DIR --widths W --out TEACHER.npz``."""
    _run_training_script("teacher", teacher_options)


@model_cli.command("evaluate")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--confusion",
    type=click.Path(dir_okay=False),
    help="Also write a confusion-matrix PNG (and NAME-ferplus.png against the FERPlus majority).",
)
@click.option(
    "--ferplus",
    type=click.Path(exists=True, dir_okay=False),
    help="FERPlus votes (.npz): also score against the majority of ten annotators.",
)
def evaluate_command(path: str, confusion: str | None, ferplus: str | None) -> None:
    """Accuracy of the served model on a FER2013-format split (and the FERPlus majority, with
    --ferplus or votes inside the file); the last line is JSON."""
    from app.inference.evaluation import confusion_png, evaluate_split
    from app.inference.fer_data import load_split
    from app.inference.ferplus import load_votes
    from app.inference.registry import get_models

    models = get_models(current_app.config["MODEL_DIR"])
    split = load_split(path)
    votes, matched = (None, None)
    if ferplus:
        votes, matched = load_votes(ferplus, len(split))
    elif split.votes is not None:
        votes, matched = split.votes, split.matched
    report = evaluate_split(split, models.classifier, votes, matched)
    if confusion:
        Path(confusion).write_bytes(confusion_png(report["confusion"]))
        click.echo(f"confusion matrix written to {confusion}")
        if "ferplus_confusion" in report:  # rows: the FERPlus majority
            plus = Path(confusion).with_name(f"{Path(confusion).stem}-ferplus{Path(confusion).suffix}")
            plus.write_bytes(confusion_png(report["ferplus_confusion"]))
            click.echo(f"confusion matrix against the FERPlus majority written to {plus}")
    report.pop("confusion")
    report.pop("ferplus_confusion", None)
    click.echo(json.dumps(report))


@model_cli.command("calibrate")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--ferplus",
    type=click.Path(exists=True, dir_okay=False),
    help="FERPlus votes (.npz): calibrate against their majority (else the file's labels).",
)
@click.option("--write", is_flag=True, help="Store the temperature in MODEL_DIR's model.json.")
def calibrate_command(path: str, ferplus: str | None, write: bool) -> None:
    """Fit the served model's temperature on a split (temperature scaling); prints the ECE before,
    after, and cross-fitted (each half scored with the temperature of the other); the last line
    is JSON."""
    import numpy as np

    from app.inference.classifier import apply_temperature
    from app.inference.evaluation import calibrate, predict_proba
    from app.inference.fer_data import load_split
    from app.inference.ferplus import load_votes, majority_labels
    from app.inference.registry import get_models

    model_dir = Path(current_app.config["MODEL_DIR"])
    classifier = get_models(str(model_dir)).classifier
    split = load_split(path)
    # Served scores with the card's temperature undone: softmax(log p * T) inverts it exactly.
    probs = apply_temperature(predict_proba(split, classifier), 1.0 / classifier.card.temperature)
    labels = split.labels.astype(np.int64)
    if ferplus or split.votes is not None:
        votes, matched = load_votes(ferplus, len(split)) if ferplus else (split.votes, split.matched)
        labels = majority_labels(votes, matched)
        probs, labels = probs[labels >= 0], labels[labels >= 0]
    report = {"model_version": classifier.version, "n": int(len(labels)), **calibrate(probs, labels)}
    if write:
        card_path = model_dir / "model.json"
        card = json.loads(card_path.read_text())
        card["temperature"] = report["temperature"]
        card_path.write_text(json.dumps(card, indent=2) + "\n")
        click.echo(f"temperature {report['temperature']} written to {card_path}")
    click.echo(json.dumps(report))


@users_cli.command("unlock")
@click.argument("email")
def unlock_command(email: str) -> None:
    """Lift the sign-in lock of an account (e.g. the sole admin of an organisation) and reset its failure counts."""
    from app.services import accounts

    user = accounts.user_by_email(email)
    if user is None:
        raise click.ClickException(f"no account with the e-mail address {email}")
    was_locked = user.is_locked()
    accounts.unlock_user(user, None)
    click.echo(f"{user.email} unlocked." if was_locked else f"{user.email} was not locked; failure counts reset.")


@keys_cli.command("reencrypt")
def reencrypt_command() -> None:
    """Encrypt every secret at rest (stream cameras' credentials, webhook signing secrets) under
    the first key of DATA_KEYS. Run it after putting a new key first; once it reports nothing
    unreadable, the old keys may leave DATA_KEYS."""
    from app.services.keys import reencrypt_all

    def unreadable(table: str, row_id: int, label: str) -> None:
        click.echo(f"{table} {row_id}: no key of DATA_KEYS decrypts its {label}", err=True)

    results = reencrypt_all(unreadable)
    for result in results:
        click.echo(f"{result.label}: {result.done} re-encrypted under the first key, {result.unreadable} unreadable")
    unreadable_total = sum(r.unreadable for r in results)
    if unreadable_total:
        raise click.ClickException(
            f"{unreadable_total} value(s) could not be decrypted: keep the key that wrote them in DATA_KEYS, "
            "or have them entered again"
        )


def register_cli(app: Flask) -> None:
    app.cli.add_command(demo_command)
    app.cli.add_command(analyze_command)
    app.cli.add_command(model_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(keys_cli)
