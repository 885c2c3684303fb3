"""The training loop: the weight average (what is saved is the moving average, step by step) and
the word-naming head (it trains the recurrent layers and is not saved)."""

import numpy as np
import pytest
import torch

from audio.dataset import ClipSet
from model.checkpoint import load_checkpoint
from model.classifier import KeywordClassifier
from model.config import ModelConfig
from model.training import NO_WORD, TrainConfig, train_model, word_targets
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
    train_model(
        model,
        tiny_clips(),
        None,
        config,
        tmp_path,
        progress=False,
        should_stop=lambda: seen.append(weights(model)) and False,
    )
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


def test_word_targets_name_every_folder_but_unknown_and_silence():
    clips = ClipSet(
        np.zeros((5, 16)),
        np.zeros(5, np.int64),
        TINY_LABELS,
        ["c/yes/a.wav", "c/_unknown_/b.wav", "c/_silence_/c.wav", "w/acacia/d.wav", "w/yes/e.wav"],
    )
    targets, words = word_targets(clips)
    assert words == ("acacia", "yes")
    assert targets.tolist() == [1, NO_WORD, NO_WORD, 0, 1]


def trained_weights(clips: ClipSet, word_loss_weight: float, out) -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    model = KeywordClassifier(ModelConfig(labels=TINY_LABELS, hidden_size=8, num_layers=1))
    train_model(
        model,
        clips,
        None,
        TrainConfig(epochs=1, batch_size=6, seed=0, word_loss_weight=word_loss_weight),
        out,
        progress=False,
    )
    assert set(load_checkpoint(out).model.state_dict()) == set(model.state_dict())  # the word head is not saved
    return weights(model)


def test_the_word_head_trains_the_recurrent_layers_only_when_clips_have_words(tmp_path):
    clips = tiny_clips()
    named = ClipSet(
        clips.waveforms,
        clips.targets,
        clips.labels,
        [f"corpus/{['hum', 'buzz', 'whistle'][i % 3]}/{i}.wav" for i in range(len(clips))],
    )
    plain = trained_weights(named, 0.0, tmp_path / "plain")
    with_words = trained_weights(named, 1.0, tmp_path / "words")
    assert not torch.equal(plain["recurrent.layers.weight_ih_l0"], with_words["recurrent.layers.weight_ih_l0"])
    assert torch.equal(plain["head.weight"], trained_weights(named, 0.0, tmp_path / "again")["head.weight"])
    unnamed = ClipSet(clips.waveforms, clips.targets, clips.labels, ["corpus/_unknown_/x.wav"] * len(clips))
    for name, value in trained_weights(unnamed, 1.0, tmp_path / "unnamed").items():
        assert torch.equal(value, plain[name]), name  # no word of its own anywhere: as without the head


def test_a_negative_word_loss_weight_is_refused():
    with pytest.raises(ValueError, match="word_loss_weight"):
        TrainConfig(word_loss_weight=-1.0)
