"""The MFCC module against librosa, and batch-vs-item consistency."""

import librosa
import numpy as np
import pytest
import torch

from audio.config import FeatureConfig
from audio.features import MFCC


def librosa_mfcc(audio: np.ndarray, config: FeatureConfig) -> np.ndarray:
    """Reference (frames, n_mfcc) at exactly the module's settings."""
    return librosa.feature.mfcc(
        y=audio,
        sr=config.sample_rate,
        n_mfcc=config.n_mfcc,
        n_fft=config.n_fft,
        hop_length=config.hop_length,
        win_length=config.win_length,
        n_mels=config.n_mels,
        fmin=config.f_min,
        fmax=config.f_max,
    ).T  # librosa's mfcc takes power_to_db's defaults: amin=1e-10, top_db=80, as FeatureConfig


def test_defaults_are_librosas_log_settings():
    config = FeatureConfig()
    assert (config.log_floor, config.top_db) == (1e-10, 80.0)


def test_matches_librosa_on_speechlike_signal(chirp_word):
    config = FeatureConfig()
    ours = MFCC(config)(torch.from_numpy(chirp_word)[None])[0].numpy()
    reference = librosa_mfcc(chirp_word, config)
    assert ours.shape == reference.shape == (101, 40)
    spread = reference.max() - reference.min()
    assert np.abs(ours - reference).max() <= 1e-3 * spread


@pytest.mark.parametrize("samples", [400, 12_345, 16_000, 24_000])
@pytest.mark.filterwarnings("ignore:n_fft=512 is too large")  # librosa, on purpose: 400 samples < one FFT
def test_any_length_gives_librosa_frame_count(samples):
    audio = np.random.default_rng(0).normal(0, 0.1, samples).astype(np.float32)
    config = FeatureConfig()
    ours = MFCC(config)(torch.from_numpy(audio)[None])[0].numpy()
    reference = librosa_mfcc(audio, config)
    assert ours.shape == reference.shape
    assert np.abs(ours - reference).max() <= 1e-3 * (reference.max() - reference.min())


def test_batch_equals_items():
    rng = np.random.default_rng(1)
    batch = torch.from_numpy(rng.normal(0, 0.1, (3, 16_000)).astype(np.float32))
    mfcc = MFCC()
    together = mfcc(batch)
    apart = torch.cat([mfcc(item[None]) for item in batch])
    torch.testing.assert_close(together, apart, rtol=0, atol=1e-4)


def test_rejects_bad_settings_with_the_value():
    with pytest.raises(ValueError, match="n_fft=256"):
        FeatureConfig(n_fft=256)
    with pytest.raises(ValueError, match="got 41"):
        FeatureConfig(n_mfcc=41)


def test_rejects_unbatched_input():
    with pytest.raises(ValueError, match=r"\(batch, samples\)"):
        MFCC()(torch.zeros(16_000))
