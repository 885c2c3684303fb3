"""Training augmentation: each stage does what it claims, off is exact, draws are reproducible."""

import json
import logging
from dataclasses import replace

import numpy as np
import pytest
import torch

from audio import perturb
from audio.augment import AugmentConfig, Augmenter, load_noise_bank, synthetic_noise
from audio.config import FeatureConfig
from audio.features import MFCC
from audio.io import write_wav
from tests.conftest import tone_word

CONFIG = FeatureConfig()
RATE = CONFIG.sample_rate
SAMPLES = CONFIG.clip_samples


def only(stage: str, **settings) -> AugmentConfig:
    """Every stage off except `stage`, which always fires."""
    return replace(AugmentConfig.off(), **{f"{stage}_prob": 1.0}, **settings)


def tone_burst(freq_hz: float, start_s: float, seconds: float, batch: int = 1) -> torch.Tensor:
    """(batch, SAMPLES) sine of 0.5 amplitude between start_s and start_s + seconds, silence around."""
    t = torch.arange(SAMPLES) / RATE
    on = (t >= start_s) & (t < start_s + seconds)
    return (0.5 * torch.sin(2 * torch.pi * freq_hz * t) * on).expand(batch, -1).clone()


def peak_hz(wave: torch.Tensor) -> float:
    spectrum = torch.fft.rfft(wave * torch.hann_window(wave.shape[-1])).abs()
    return float(spectrum.argmax()) * RATE / wave.shape[-1]


def onset(wave: torch.Tensor) -> int:
    return int((wave.abs() > 1e-3).nonzero()[0])


def active_seconds(wave: torch.Tensor, fraction: float = 0.5) -> float:
    """Span between the first and last 10 ms frame whose RMS passes `fraction` of the loudest."""
    frames = wave[: SAMPLES // CONFIG.hop_length * CONFIG.hop_length].reshape(-1, CONFIG.hop_length)
    rms = frames.square().mean(dim=1).sqrt()
    loud = (rms >= fraction * rms.max()).nonzero().squeeze(1)
    return float(loud[-1] - loud[0] + 1) * CONFIG.hop_length / RATE


@pytest.fixture
def words() -> torch.Tensor:
    return torch.from_numpy(np.stack([tone_word(120.0 + 20 * i, 300.0, seed=i) for i in range(6)]))


@pytest.fixture
def frontend() -> MFCC:
    return MFCC(CONFIG)


def generator(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_off_returns_the_frontend_exactly(words, frontend):
    augmented = Augmenter(AugmentConfig.off(), frontend)(words, generator())
    assert torch.equal(augmented, frontend(words))


def test_default_output_shape_and_finite(words, frontend):
    augmented = Augmenter(AugmentConfig(), frontend)(words, generator())
    assert augmented.shape == (len(words), CONFIG.clip_frames, CONFIG.n_mfcc)
    assert torch.isfinite(augmented).all()


def test_same_seed_same_output_other_seed_differs(words, frontend):
    augmenter = Augmenter(AugmentConfig(), frontend)
    first, again = augmenter(words, generator(7)), augmenter(words, generator(7))
    assert torch.equal(first, again)
    assert not torch.allclose(first, augmenter(words, generator(8)))
    assert not torch.allclose(first, frontend(words))


def test_config_round_trips_through_json_and_rejects_bad_values():
    config = AugmentConfig(snr_db_range=(0.0, 10.0), pitch_prob=0.1)
    assert AugmentConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    with pytest.raises(ValueError, match="speed_prob"):
        AugmentConfig(speed_prob=1.5)
    with pytest.raises(ValueError, match="gain_db_range"):
        AugmentConfig(gain_db_range=(6.0, -12.0))
    with pytest.raises(ValueError, match="unknown"):
        AugmentConfig.from_dict({"speeed_prob": 0.5})


def test_noise_lands_at_the_drawn_snr_against_speech_power(frontend):
    t = torch.arange(SAMPLES) / RATE
    clean = (0.2 * torch.sin(2 * torch.pi * 500 * t)).expand(64, -1).clone()  # power 0.02
    clean[:32, SAMPLES // 2 :] = 0.0  # half the items: a word filling half the clip, same speech power
    augmenter = Augmenter(only("noise", snr_db_range=(-5.0, 25.0)), frontend)
    noisy = augmenter.add_noise(clean, generator())
    noise_power = (noisy - clean).square().mean(dim=1)  # over the clip, however much the word fills
    snr = 10 * torch.log10(0.02 / noise_power)
    assert snr.min() > -5.01 and snr.max() < 25.01
    assert snr.max() - snr.min() > 15  # the draws spread over the range


def test_gain_stays_in_range_and_never_passes_full_scale(words, frontend):
    batch = words.repeat(8, 1)  # (48, samples)
    augmenter = Augmenter(only("gain", gain_db_range=(-12.0, 6.0)), frontend)
    louder = augmenter.gain(batch, generator())
    change_db = 20 * torch.log10(louder.abs().amax(dim=1) / batch.abs().amax(dim=1))
    assert change_db.min() >= -12.0 - 1e-3 and change_db.max() <= 6.0 + 1e-3
    assert change_db.max() - change_db.min() > 9
    loud = augmenter.gain(batch / batch.abs().amax(dim=1, keepdim=True) * 0.9, generator())
    assert loud.abs().max() <= 1.0 + 1e-6


def test_clipping_flattens_the_peaks_at_full_scale_by_the_drawn_drive(frontend):
    burst = tone_burst(300.0, 0.2, 0.5, batch=64)  # peak 0.5
    augmenter = Augmenter(only("clipping", clipping_drive_db_range=(6.0, 18.0)), frontend)
    clipped = augmenter.clipping(burst, generator())
    assert clipped.abs().max() == 1.0
    # A sine driven d dB over full scale sits at the rail for 1 - (2/pi) asin(10^(-d/20)) of its cycle.
    rail = (clipped.abs() == 1.0).sum(dim=1) / (burst.abs() > 0).sum(dim=1)
    assert rail.min() > 1 - 2 / torch.pi * np.arcsin(10 ** (-6 / 20)) - 0.02
    assert rail.max() < 1 - 2 / torch.pi * np.arcsin(10 ** (-18 / 20)) + 0.02
    assert rail.max() - rail.min() > 0.18  # the drives spread over the range (at most 0.25 apart)
    assert torch.equal(clipped[burst == 0], burst[burst == 0])  # silence stays silence


def test_clipping_at_zero_drive_only_normalizes_the_peak():
    words = torch.from_numpy(np.stack([tone_word(150.0, 200.0, seed=1)]))
    same = perturb.overdrive(words, torch.zeros(1))
    torch.testing.assert_close(same, words / words.abs().max())


def test_time_shift_moves_the_onset_without_wrapping(frontend):
    burst = tone_burst(800.0, 0.5, 0.3, batch=32)
    shifted = Augmenter(only("shift"), frontend).shift(burst, generator())
    moves = torch.tensor([onset(s) - onset(b) for s, b in zip(shifted, burst)])
    limit = round(0.1 * RATE)
    assert moves.abs().max() <= limit and (moves != 0).sum() > 16
    late = tone_burst(800.0, 0.9, 0.1)
    delayed = perturb.time_shift(late, torch.tensor([limit]), limit)
    assert delayed[0, :limit].abs().max() == 0  # the end fell off; nothing wrapped to the start
    assert torch.equal(delayed[0, limit:], late[0, :-limit])


def test_speed_perturbation_shortens_and_raises_a_tone_burst():
    burst = tone_burst(1000.0, 0.3, 0.4)
    faster = perturb.change_speed(burst, 1.15)
    assert faster.shape == burst.shape
    assert active_seconds(faster[0]) == pytest.approx(0.4 / 1.15, abs=0.015)
    assert peak_hz(faster[0]) == pytest.approx(1150.0, rel=0.005)  # lengths round to fast FFT sizes
    slower = perturb.change_speed(burst, 0.85)
    assert active_seconds(slower[0]) == pytest.approx(0.4 / 0.85, abs=0.015)


def test_speed_stage_groups_items_by_factor(words, frontend):
    augmenter = Augmenter(only("speed"), frontend)
    out = augmenter.speed(words, generator(3))
    fixed = Augmenter(only("speed", speed_range=(1.1, 1.1)), frontend).speed(words, generator(3))
    assert torch.allclose(fixed, perturb.change_speed(words, 1.1), atol=1e-6)
    assert out.shape == words.shape and not torch.allclose(out, words)


def test_pitch_shift_moves_a_tone_but_keeps_its_duration():
    burst = tone_burst(1000.0, 0.3, 0.4)
    up = perturb.pitch_shift(burst, torch.tensor([2 ** (3 / 12)]), CONFIG.n_fft, CONFIG.n_fft // 4)
    assert peak_hz(up[0]) == pytest.approx(1000.0 * 2 ** (3 / 12), abs=8.0)
    assert active_seconds(up[0]) == pytest.approx(0.4, abs=0.02)
    same = perturb.pitch_shift(burst, torch.tensor([1.0]), CONFIG.n_fft, CONFIG.n_fft // 4)
    assert torch.allclose(same, burst, atol=1e-3)


def test_pitch_shift_batch_matches_items():
    words = torch.from_numpy(np.stack([tone_word(150.0, 200.0, seed=i) for i in range(3)]))
    ratios = torch.tensor([0.85, 1.0, 1.2])
    batch = perturb.pitch_shift(words, ratios, CONFIG.n_fft, CONFIG.n_fft // 4)
    for item in range(3):
        alone = perturb.pitch_shift(words[item : item + 1], ratios[item : item + 1], CONFIG.n_fft, CONFIG.n_fft // 4)
        assert torch.allclose(batch[item], alone[0], atol=1e-5)


def test_vtlp_identity_at_one_and_raises_a_peak_above_one(frontend):
    power = frontend.power_spectrum(tone_burst(1000.0, 0.2, 0.6, batch=2))  # (2, frames, bins)
    alpha = torch.tensor([1.0, 1.1])
    warped = perturb.warp_frequencies(power, alpha, RATE, 4800.0)
    assert torch.equal(warped[0], power[0])
    bin_hz = RATE / CONFIG.n_fft
    middle = power.shape[1] // 2
    assert float(power[1, middle].argmax()) * bin_hz == pytest.approx(1000.0, abs=bin_hz)
    assert float(warped[1, middle].argmax()) * bin_hz == pytest.approx(1100.0, abs=bin_hz)


def test_vtlp_keeps_band_edges(frontend):
    power = torch.rand(3, 5, CONFIG.n_fft // 2 + 1)
    warped = perturb.warp_frequencies(power, torch.tensor([0.85, 1.0, 1.15]), RATE, 4800.0)
    assert torch.allclose(warped[:, :, 0], power[:, :, 0]) and torch.allclose(warped[:, :, -1], power[:, :, -1])


def test_smooth_curves_peak_at_the_drawn_gain_and_zero_is_flat():
    bins = CONFIG.n_fft // 2 + 1
    coefficients = torch.rand(3, 4, generator=generator()) * 2 - 1
    curves = perturb.smooth_curves(coefficients, torch.tensor([0.0, 6.0, 12.0]), RATE, bins)
    assert curves.shape == (3, bins)
    assert torch.equal(curves[0], torch.zeros(bins))
    assert curves[1:].abs().amax(dim=1).tolist() == pytest.approx([6.0, 12.0])


def test_equalize_scales_each_bin_by_its_gain(frontend):
    power = frontend.power_spectrum(tone_burst(1000.0, 0.2, 0.6, batch=2))
    curves = torch.zeros(2, power.shape[-1])
    curves[1] = 10.0
    filtered = perturb.equalize(power, curves)
    assert torch.equal(filtered[0], power[0])
    assert torch.allclose(filtered[1], 10.0 * power[1])


def test_eq_stage_colours_every_frame_alike_within_the_peak(frontend):
    """A channel, not a change of sound: each mel band moves by about the same dB in every frame (the gain
    varies a little inside a band, whose bins each frame fills differently), by at most the peak gain.
    With as many coefficients as mel bands the cepstra give the mel bands back."""
    noise = torch.randn(4, SAMPLES, generator=generator(1)) * 0.1  # flat spectrum: no band near the floor
    config = only("eq", eq_peak_db=8.0)
    filtered = Augmenter(config, frontend)(noise, generator())
    to_mel_db = frontend.dct.T  # orthonormal and square here
    moved = filtered @ to_mel_db - frontend(noise) @ to_mel_db  # (batch, frames, mel bands)
    peaks = moved.abs().amax(dim=(1, 2))
    assert (peaks > 0.1).all() and (peaks <= config.eq_peak_db + 1e-3).all()
    across_frames = (moved - moved.mean(dim=1, keepdim=True)).abs()
    assert (across_frames.amax(dim=(1, 2)) < 0.2 * peaks).all()
    assert (across_frames.mean(dim=(1, 2)) < 0.03 * peaks).all()


def test_specaugment_masks_time_and_cepstra(words, frontend):
    features = frontend(words)
    masked = Augmenter(only("specaugment"), frontend)(words, generator())
    mean = features.mean(dim=1, keepdim=True).expand_as(features)
    replaced = (masked != features) & (masked == mean)
    assert ((masked == features) | replaced).all()
    whole_frames = replaced.all(dim=2).sum()  # time masks blank every coefficient of a frame
    whole_coefficients = replaced.all(dim=1).sum()  # cepstral masks blank a coefficient throughout
    assert whole_frames > 0 and whole_coefficients > 0
    assert replaced.float().mean() < 0.5


def test_reverb_lengthens_a_clicks_decay():
    click = torch.zeros(2, SAMPLES)
    click[:, RATE // 5] = 1.0
    rirs = perturb.room_impulse_responses(
        torch.tensor([0.2, 0.8]), torch.tensor([5.0, 5.0]), round(0.9 * RATE), RATE, generator()
    )
    wet = perturb.reverberate(click, rirs)
    after = wet[:, RATE // 5 + round(0.1 * RATE) : RATE // 5 + round(0.3 * RATE)]  # 100-300 ms after the click
    assert click[:, RATE // 5 + 1 :].abs().max() == 0
    tail_db = 10 * torch.log10(after.square().sum(dim=1) / wet.square().sum(dim=1))
    # expected share of the 100-300 ms window: 0.8 s room -13.8 dB, 0.2 s room -36 dB
    assert tail_db[0] < -25 and tail_db[1] > -16
    assert wet[:, : RATE // 5].abs().max() < 1e-6  # causal (up to FFT round-off)


def test_reverb_stage_changes_the_waveform(words, frontend):
    wet = Augmenter(only("reverb"), frontend).reverb(words, generator())
    assert wet.shape == words.shape and not torch.allclose(wet, words)
    assert torch.allclose(wet.square().mean(dim=1), words.square().mean(dim=1), rtol=1e-3)


def test_noise_bank_skips_a_corrupt_wav_with_a_warning(tmp_path, caplog):
    (tmp_path / "nested").mkdir()
    write_wav(tmp_path / "nested" / "hum.wav", 0.1 * np.sin(np.arange(RATE) / 7.0), RATE)
    (tmp_path / "broken.wav").write_bytes(b"RIFF not really a wave")
    with caplog.at_level(logging.WARNING, logger="audio.augment"):
        bank = load_noise_bank([tmp_path], RATE)
    assert bank.shape == (RATE,) and bank.dtype == torch.float32
    assert bank.square().mean().sqrt() == pytest.approx(1.0, rel=1e-3)
    assert any("broken.wav" in record.getMessage() for record in caplog.records)


def test_noise_bank_without_folders_is_synthetic_coloured_noise():
    bank = load_noise_bank([], RATE)
    assert bank.shape == synthetic_noise(RATE).shape and bank.numel() >= 3 * RATE
    assert torch.isfinite(bank).all() and bank.std() > 0.5


def test_noise_bank_errors_name_the_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing"):
        load_noise_bank([tmp_path / "missing"], RATE)
    with pytest.raises(ValueError, match="no usable WAV"):
        load_noise_bank([tmp_path], RATE)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_runs_on_cuda(words):
    augmenter = Augmenter(AugmentConfig(), MFCC(CONFIG)).cuda()
    out = augmenter(words.cuda(), torch.Generator(device="cuda").manual_seed(0))
    assert out.device.type == "cuda" and torch.isfinite(out).all()


def test_settings_from_the_command_line():
    config = AugmentConfig().with_settings(["noise_prob=0.25", "snr_db_range=0,20", "time_masks=3"])
    assert (config.noise_prob, config.snr_db_range, config.time_masks) == (0.25, (0.0, 20.0), 3)
    for bad, message in [
        ("noise=1", "KEY=VALUE"),
        ("noise_prob", "KEY=VALUE"),
        ("time_masks=x", "not a int"),
        ("noise_prob=2", "probability"),
    ]:
        with pytest.raises(ValueError, match=message):
            AugmentConfig().with_settings([bad])
