"""Checkpoints round-trip exactly and every broken folder gives one clear error."""

import json

import pytest
import torch

from model.checkpoint import CONFIG_FILE, WEIGHTS_FILE, CheckpointError, load_checkpoint, save_checkpoint
from model.classifier import KeywordClassifier
from model.config import ModelConfig


@pytest.fixture
def saved(tmp_path):
    torch.manual_seed(0)
    model = KeywordClassifier(ModelConfig(labels=("yes", "no", "_unknown_"), hidden_size=16)).eval()
    folder = save_checkpoint(model, tmp_path / "m", training={"epochs": 3}, metrics={"accuracy": 0.5})
    return model, folder


def test_round_trip_gives_identical_outputs(saved):
    model, folder = saved
    loaded = load_checkpoint(folder)
    wave = torch.randn(2, 16_000) * 0.1
    with torch.no_grad():
        torch.testing.assert_close(loaded.model(wave), model(wave), rtol=0, atol=0)
    assert loaded.model.labels == ("yes", "no", "_unknown_")
    assert loaded.training == {"epochs": 3} and loaded.metrics == {"accuracy": 0.5}


def test_folder_holds_only_json_and_safetensors(saved):
    _, folder = saved
    assert sorted(p.name for p in folder.iterdir()) == [CONFIG_FILE, WEIGHTS_FILE]


def test_missing_folder(tmp_path):
    with pytest.raises(CheckpointError, match="no such model folder"):
        load_checkpoint(tmp_path / "nowhere")


def test_missing_weights(saved):
    _, folder = saved
    (folder / WEIGHTS_FILE).unlink()
    with pytest.raises(CheckpointError, match=f"{WEIGHTS_FILE}: missing"):
        load_checkpoint(folder)


def test_truncated_weights(saved):
    _, folder = saved
    weights = folder / WEIGHTS_FILE
    weights.write_bytes(weights.read_bytes()[:1000])
    with pytest.raises(CheckpointError, match=f"{WEIGHTS_FILE}: does not match"):
        load_checkpoint(folder)


def test_malformed_config(saved):
    _, folder = saved
    (folder / CONFIG_FILE).write_text("{not json")
    with pytest.raises(CheckpointError, match=f"{CONFIG_FILE}: not valid JSON"):
        load_checkpoint(folder)


def test_settings_that_do_not_fit_the_weights(saved):
    _, folder = saved
    document = json.loads((folder / CONFIG_FILE).read_text())
    document["model"]["hidden_size"] = 32
    (folder / CONFIG_FILE).write_text(json.dumps(document))
    with pytest.raises(CheckpointError, match="do not fit the settings"):
        load_checkpoint(folder)


def test_corrupt_weights_with_matching_hash_still_fail_cleanly(saved):
    """A file vouched for by the config but not safetensors is reported, not unpickled."""
    _, folder = saved
    weights = folder / WEIGHTS_FILE
    weights.write_bytes(b"\x80\x04garbage" * 10)
    document = json.loads((folder / CONFIG_FILE).read_text())
    import hashlib

    document["weights_sha256"] = hashlib.sha256(weights.read_bytes()).hexdigest()
    (folder / CONFIG_FILE).write_text(json.dumps(document))
    with pytest.raises(CheckpointError, match="not a readable safetensors file"):
        load_checkpoint(folder)


def test_newer_format_is_refused(saved):
    _, folder = saved
    document = json.loads((folder / CONFIG_FILE).read_text())
    document["format_version"] = 99
    (folder / CONFIG_FILE).write_text(json.dumps(document))
    with pytest.raises(CheckpointError, match="format version 99"):
        load_checkpoint(folder)


def test_resave_leaves_no_temp_files(saved):
    model, folder = saved
    save_checkpoint(model, folder)
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]
