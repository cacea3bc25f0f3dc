"""Weight averaging of checkpoints with fresh BatchNorm statistics (app/training/soup.py)."""

from __future__ import annotations

import lzma

import numpy as np
import pytest

from tests.conftest import FER_SAMPLE, fer_sample

WIDTHS = (4, 4, 8, 8)


def _net(seed: int):
    import keras

    from app.training.architecture import build_classifier

    keras.utils.set_random_seed(seed)
    return build_classifier(widths=WIDTHS, dense_units=8)


def test_average_weights_each_checkpoint_by_its_share():
    from app.training.soup import average

    a = [np.full((2, 2), 1.0, np.float32), np.zeros(3, np.float32)]
    b = [np.full((2, 2), 5.0, np.float32), np.full(3, 4.0, np.float32)]
    mean = average([a, b], [1.0, 3.0])
    np.testing.assert_allclose(mean[0], 4.0)
    np.testing.assert_allclose(mean[1], 3.0)
    with pytest.raises(ValueError):
        average([a, b], [1.0])
    with pytest.raises(ValueError):
        average([a, b], [0.0, 0.0])


def test_checkpoint_specs_take_an_optional_share():
    from app.training.soup import parse_checkpoint

    assert parse_checkpoint("run/epoch3.weights.h5") == (parse_checkpoint("run/epoch3.weights.h5")[0], 1.0)
    path, share = parse_checkpoint("v3.weights.npz:0.5")
    assert (str(path), share) == ("v3.weights.npz", 0.5)


def test_batchnorm_statistics_follow_the_images_and_nothing_else_changes():
    import keras

    from app.training.soup import recompute_batchnorm
    from app.training.train import to_input

    model = _net(0)
    bn = model.get_layer("b0_bn0")
    bn.moving_mean.assign(np.full(WIDTHS[0], 50.0, np.float32))  # stale statistics
    trained = [np.array(w) for w in model.trainable_weights]
    x = to_input(fer_sample().images)
    recompute_batchnorm(model, x, batch_size=len(x) // 3)
    # What the first BatchNorm layer sees: the first convolution's output on the same faces.
    conv = keras.Model(model.input, model.get_layer("b0_conv0").output)
    seen = np.asarray(conv.predict(x, verbose=0)).reshape(-1, WIDTHS[0])
    # Exactly the mean of the three batch means, which is the mean over all faces: equal batches.
    np.testing.assert_allclose(np.array(bn.moving_mean), seen.mean(0), rtol=1e-4, atol=1e-4)
    assert bn.momentum == pytest.approx(0.9)  # the layer's own momentum is back for training
    for after, before in zip(model.trainable_weights, trained, strict=True):
        np.testing.assert_array_equal(np.array(after), before)


def test_the_command_writes_a_soup_that_loads_and_serves_the_mean(tmp_path):
    from app.training.soup import main
    from app.training.weights_io import load_weights_npz, save_weights_npz

    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "train.npz").write_bytes(lzma.open(FER_SAMPLE).read())
    a, b = _net(1), _net(2)
    save_weights_npz(a, tmp_path / "a.npz")
    b.save_weights(tmp_path / "b.weights.h5")
    out = main(
        [
            str(tmp_path / "a.npz"),
            f"{tmp_path / 'b.weights.h5'}:3",
            "--data",
            str(tmp_path / "data"),
            "--widths",
            ",".join(map(str, WIDTHS)),
            "--dense-units",
            "8",
            "--bn-images",
            "64",
            "--out",
            str(tmp_path / "soup.npz"),
        ]
    )
    soup = _net(3)
    load_weights_npz(soup, out)
    kernel = soup.get_layer("b1_conv0").kernel
    expected = (np.array(a.get_layer("b1_conv0").kernel) + 3 * np.array(b.get_layer("b1_conv0").kernel)) / 4
    np.testing.assert_allclose(np.array(kernel), expected, atol=2e-3)  # stored as float16
    probs = soup.predict(np.zeros((2, 48, 48, 1), np.float32), verbose=0)
    np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-3)


def test_without_bn_images_the_running_statistics_are_averaged_like_the_weights(tmp_path):
    from app.training.soup import main
    from app.training.weights_io import load_weights_npz, save_weights_npz

    a, b = _net(4), _net(5)
    for net, value in ((a, 1.0), (b, 3.0)):
        net.get_layer("fc_bn").moving_variance.assign(np.full(8, value, np.float32))
    save_weights_npz(a, tmp_path / "a.npz")
    save_weights_npz(b, tmp_path / "b.npz")
    out = main(
        [
            str(tmp_path / "a.npz"),
            str(tmp_path / "b.npz"),
            "--widths",
            ",".join(map(str, WIDTHS)),
            "--dense-units",
            "8",
            "--out",
            str(tmp_path / "s.npz"),
        ]
    )
    soup = _net(6)
    load_weights_npz(soup, out)
    np.testing.assert_allclose(np.array(soup.get_layer("fc_bn").moving_variance), 2.0)
