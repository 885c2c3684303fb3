"""The training loop's weight average: what is saved is the moving average, step by step."""

import numpy as np
import pytest
import torch

from audio.dataset import ClipSet
from model.checkpoint import load_checkpoint
from model.classifier import KeywordClassifier
from model.config import ModelConfig
from model.training import TrainConfig, train_model
from tests.conftest import TINY_LABELS, TONE_WORDS, tone_clip


def tiny_clips() -> ClipSet:
    waves = [tone_clip(word, speaker) for word in TONE_WORDS for speaker in range(4)]
    targets = np.repeat(np.arange(len(TONE_WORDS)), 4)
    return ClipSet(np.stack(waves), targets, TINY_LABELS, [""] * len(targets))


def weights(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {name: value.detach().clone() for name, value in model.named_parameters()}


def test_saved_model_is_the_moving_average_of_the_steps(tmp_path):
    torch.manual_seed(0)
    model = KeywordClassifier(ModelConfig(labels=TINY_LABELS, hidden_size=8, num_layers=1))
    seen = []  # the weights before each step: polled by should_stop once a batch
    config = TrainConfig(epochs=1, batch_size=6, learning_rate=0.05, ema_decay=0.75, seed=0)
    train_model(model, tiny_clips(), None, config, tmp_path, progress=False,
                should_stop=lambda: seen.append(weights(model)) and False)
    assert len(seen) == 2  # two steps: 12 clips in batches of 6
    after_first, after_last = seen[1], weights(model)
    saved = dict(load_checkpoint(tmp_path).model.named_parameters())
    for name, value in saved.items():
        expected = 0.75 * after_first[name] + 0.25 * after_last[name]
        torch.testing.assert_close(value, expected, rtol=0, atol=1e-6)
    assert any(not torch.equal(saved[name], after_last[name]) for name in saved)


def test_without_the_average_the_trained_weights_are_saved(tmp_path):
    torch.manual_seed(0)
    model = KeywordClassifier(ModelConfig(labels=TINY_LABELS, hidden_size=8, num_layers=1))
    train_model(model, tiny_clips(), None, TrainConfig(epochs=1, batch_size=6, seed=0), tmp_path, progress=False)
    for name, value in load_checkpoint(tmp_path).model.named_parameters():
        assert torch.equal(value, dict(model.named_parameters())[name])


@pytest.mark.parametrize("decay", [-0.1, 1.0])
def test_a_decay_outside_0_1_is_refused(decay):
    with pytest.raises(ValueError, match="ema_decay"):
        TrainConfig(ema_decay=decay)
