"""The head's refit after fine-tuning: it solves the head on the fine-tuned embeddings, held near
the fine-tuned head, sees each clip as often as asked, and a stop before it marks the run stopped."""

import numpy as np
import pytest
import torch

from audio.dataset import ClipSet
from model.checkpoint import load_checkpoint
from model.finetune import FinetuneConfig, finetune
from model.grow import embed
from model.head_refit import refit_head, refit_on_clips
from tests.conftest import TINY_LABELS, TONE_WORDS, tone_clip


@pytest.fixture
def model(tiny_model):
    return load_checkpoint(tiny_model).model


def separable(model, per_class: int = 20) -> tuple[torch.Tensor, torch.Tensor]:
    """Embeddings of the model's width in well-separated class clusters the head does not know."""
    generator = torch.Generator().manual_seed(0)
    classes, size = len(model.labels), model.recurrent.output_size
    centres = torch.randn(classes, size, generator=generator) * 3
    targets = torch.arange(classes).repeat_interleave(per_class)
    return centres[targets] + torch.randn(len(targets), size, generator=generator), targets


def tone_clips(speakers: int = 4) -> ClipSet:
    waves = [tone_clip(word, speaker) for word in TONE_WORDS for speaker in range(speakers)]
    targets = np.repeat(np.arange(len(TONE_WORDS)), speakers)
    return ClipSet(np.stack(waves), targets, TINY_LABELS, [""] * len(targets))


def test_refit_solves_the_head_on_the_embeddings(model):
    embeddings, targets = separable(model)
    before_accuracy = float((model.head(embeddings).argmax(1) == targets).float().mean())
    before, after = refit_head(model, embeddings, targets, anchor=1e-3)
    assert after < before / 2
    assert before_accuracy < 0.9
    assert float((model.head(embeddings).argmax(1) == targets).float().mean()) == 1.0


def test_a_strong_anchor_keeps_the_fine_tuned_weights(tiny_model):
    held, loose = load_checkpoint(tiny_model).model, load_checkpoint(tiny_model).model
    start = held.head.weight.detach().clone()
    embeddings, targets = separable(held)
    refit_head(held, embeddings, targets, anchor=1e4)
    refit_head(loose, embeddings, targets, anchor=1e-3)
    assert (held.head.weight - start).norm() < 0.05 * (loose.head.weight - start).norm()


def test_the_refit_embeds_each_clip_as_often_as_asked_each_time_anew(model):
    clips = tone_clips(speakers=2)
    copies = np.array([3, 1, 1, 1, 2, 0])
    seen = []

    def noisy(batch, generator):
        seen.append(batch)
        return model.features(batch + 0.01 * torch.randn(batch.shape, generator=generator))

    refit_on_clips(model, clips, copies, noisy, [torch.Generator().manual_seed(0)], anchor=1e-2)
    waveforms = torch.cat(seen)
    assert len(waveforms) == copies.sum()
    assert torch.equal(waveforms[0], waveforms[2]) and torch.equal(waveforms[0], torch.from_numpy(clips.waveforms[0]))
    augmented = embed(model, clips.waveforms[[0, 0]], features=noisy, generator=torch.Generator().manual_seed(0))
    assert not torch.allclose(augmented[0], augmented[1])  # the same clip, augmented twice
    plain = embed(model, clips.waveforms[[0, 0]])
    assert torch.equal(plain[0], plain[1])


def test_finetune_refits_only_when_asked(tiny_model):
    clips = tone_clips()
    config = FinetuneConfig(epochs=1, batch_size=8, freeze_layers=0, user_repeats=1)
    refit = load_checkpoint(tiny_model).model
    result = finetune(refit, clips, config, repeats=np.full(len(clips), 2))
    assert result.refit_objective is not None and result.refit_objective[1] <= result.refit_objective[0]
    assert result.refit_seconds > 0
    plain = load_checkpoint(tiny_model).model
    result = finetune(
        plain, clips, FinetuneConfig(**{**config.to_dict(), "refit_copies": 0}), repeats=np.full(len(clips), 2)
    )
    assert result.refit_objective is None
    assert not torch.equal(refit.head.weight, plain.head.weight)
    assert torch.equal(refit.recurrent.layers.weight_hh_l0, plain.recurrent.layers.weight_hh_l0)


def test_a_stop_after_the_last_step_skips_the_refit_and_marks_the_result_stopped(tiny_model):
    clips = tone_clips()
    model = load_checkpoint(tiny_model).model
    steps = -(-len(clips) // 8)
    polls = iter(range(1000))
    result = finetune(
        model, clips, FinetuneConfig(epochs=1, batch_size=8, freeze_layers=0), should_stop=lambda: next(polls) >= steps
    )  # the training steps pass, then a stop
    assert len(result.steps) == steps
    assert result.stopped and result.refit_objective is None


def test_negative_refit_settings_are_refused():
    with pytest.raises(ValueError, match="refit"):
        FinetuneConfig(refit_copies=-1)
