"""On-the-fly training augmentation on the model's device: clean clips in, augmented MFCC out.

`Augmenter` chains, each item with its own probability and parameters drawn from the
caller's generator: speed, pitch, room, time shift, background noise, gain, clipping (waveform),
vocal tract length perturbation and a microphone's colouring (power spectrum), SpecAugment masks
(features). The signal processing lives in `audio.perturb`; this module draws parameters and batches.
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np
import torch
from torch import nn

from audio import perturb
from audio.features import MFCC
from audio.io import AudioFileError, read_audio
from audio.noise import COLOURS, coloured_noise

logger = logging.getLogger(__name__)

Range = tuple[float, float]
SYNTHETIC_NOISE_SECONDS = 10.0  # per colour: white, pink, brown


@dataclass(frozen=True)
class AugmentConfig:
    """Probabilities (per item, 0 disables a stage) and ranges (drawn uniformly).

    Defaults: speed 0.85-1.15x (p 0.5, on a 0.025 grid so items can be batched by factor),
    pitch +-3 semitones (p 0.2, the costliest stage), room RT60 0.1-0.9 s and DRR -2..15 dB
    (p 0.3), shift up to +-0.1 s (p 0.5), noise at -5..25 dB SNR (p 0.8), gain -12..+6 dB (p 0.5), VTLP alpha
    0.85-1.15 with the 4.8 kHz boundary of Jaitly & Hinton (p 0.5), SpecAugment (p 0.5)
    with 2 time masks of up to 10 frames and 2 cepstral masks of up to 4 coefficients.
    Clipping (a microphone set too hot: peak driven 3-18 dB over full scale) is off unless asked for,
    as is EQ: a smooth random gain over frequency of up to `eq_peak_db` (`eq_terms` cosines over the
    mel scale), the colouring of another microphone, room or session.
    """

    speed_prob: float = 0.5
    speed_range: Range = (0.85, 1.15)
    speed_step: float = 0.025
    pitch_prob: float = 0.2
    pitch_semitones: Range = (-3.0, 3.0)
    reverb_prob: float = 0.3
    rt60_range: Range = (0.1, 0.9)
    drr_db_range: Range = (-2.0, 15.0)
    shift_prob: float = 0.5
    shift_seconds: float = 0.1
    noise_prob: float = 0.8
    snr_db_range: Range = (-5.0, 25.0)
    gain_prob: float = 0.5
    gain_db_range: Range = (-12.0, 6.0)
    clipping_prob: float = 0.0
    clipping_drive_db_range: Range = (3.0, 18.0)
    vtlp_prob: float = 0.5
    vtlp_alpha_range: Range = (0.85, 1.15)
    vtlp_boundary_hz: float = 4800.0
    eq_prob: float = 0.0
    eq_peak_db: float = 8.0
    eq_terms: int = 4
    specaugment_prob: float = 0.5
    time_masks: int = 2
    time_mask_frames: int = 10
    cepstral_masks: int = 2
    cepstral_mask_width: int = 4

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name.endswith("_prob") and not 0.0 <= value <= 1.0:
                raise ValueError(f"{item.name} is a probability in [0, 1], got {value}")
            if isinstance(value, tuple) and not (len(value) == 2 and value[0] <= value[1]):
                raise ValueError(f"{item.name} must be (low, high) with low <= high, got {value}")
        positive = {
            "speed_range": self.speed_range[0],
            "speed_step": self.speed_step,
            "rt60_range": self.rt60_range[0],
            "vtlp_alpha_range": self.vtlp_alpha_range[0],
            "vtlp_boundary_hz": self.vtlp_boundary_hz,
        }
        for name, value in positive.items():
            if value <= 0:
                raise ValueError(f"{name} must be positive, got {value}")
        counts = (
            "shift_seconds",
            "eq_peak_db",
            "eq_terms",
            "time_masks",
            "time_mask_frames",
            "cepstral_masks",
            "cepstral_mask_width",
        )
        for name in counts:
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative, got {getattr(self, name)}")

    @classmethod
    def off(cls) -> AugmentConfig:
        """Every stage disabled: the Augmenter then returns exactly frontend(waveforms)."""
        return cls(**{item.name: 0.0 for item in fields(cls) if item.name.endswith("_prob")})

    def to_dict(self) -> dict:
        return asdict(self)

    def with_settings(self, settings: list[str]) -> AugmentConfig:
        """This config with `KEY=VALUE` settings applied, e.g. `noise_prob=0.5`, `snr_db_range=0,20`."""
        values = self.to_dict()
        for setting in settings:
            key, separator, text = setting.partition("=")
            if not separator or key not in values:
                raise ValueError(f"augmentation setting {setting!r} is not KEY=VALUE with KEY one of {sorted(values)}")
            kind = type(values[key])
            try:
                parsed = tuple(float(part) for part in text.split(",")) if kind is tuple else kind(text)
            except ValueError:
                raise ValueError(f"augmentation setting {setting!r}: {text!r} is not a {kind.__name__}") from None
            values[key] = parsed
        return type(self).from_dict(values)

    @classmethod
    def from_dict(cls, data: dict) -> AugmentConfig:
        known = {item.name for item in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown augmentation settings {sorted(unknown)}; known: {sorted(known)}")
        return cls(**{key: tuple(value) if isinstance(value, list) else value for key, value in data.items()})


def synthetic_noise(sample_rate: int, seconds: float = SYNTHETIC_NOISE_SECONDS) -> torch.Tensor:
    """White, pink and brown noise, `seconds` each at unit RMS, concatenated: (samples,)."""
    rng = np.random.default_rng(0)
    samples = round(seconds * sample_rate)
    return torch.from_numpy(np.concatenate([coloured_noise(colour, samples, rng) for colour in COLOURS]))


def load_noise_bank(dirs: list[Path], sample_rate: int) -> torch.Tensor:
    """All WAVs under `dirs` (recursively), each scaled to unit RMS, concatenated: (samples,).

    Unreadable or silent files are skipped with a warning naming them. With no folders,
    returns synthetic coloured noise (`synthetic_noise`). Raises FileNotFoundError for a
    missing folder and ValueError when the folders hold no usable WAV.
    """
    if not dirs:
        logger.info("no noise folders given; using synthetic white, pink and brown noise")
        return synthetic_noise(sample_rate)
    paths = []
    for folder in map(Path, dirs):
        if not folder.is_dir():
            raise FileNotFoundError(
                f"noise folder {folder} does not exist; pass existing folders, or none for synthetic noise"
            )
        paths += sorted(path for path in folder.rglob("*") if path.suffix.lower() == ".wav" and path.is_file())
    pieces = []
    for path in paths:
        try:
            audio = read_audio(path, sample_rate)  # (samples,)
        except AudioFileError as error:
            logger.warning("skipping noise file %s: %s", path, error)
            continue
        rms = float(np.sqrt(np.mean(np.square(audio, dtype=np.float64))))
        if rms < 1e-6:
            logger.warning("skipping noise file %s: it is silent", path)
            continue
        pieces.append(torch.from_numpy(audio / rms))
    if not pieces:
        raise ValueError(f"no usable WAV file under {[str(d) for d in dirs]}; add noise recordings or pass no folders")
    return torch.cat(pieces).float()


def draw(low_high: Range, batch: int, generator: torch.Generator, device: torch.device) -> torch.Tensor:
    """(batch,) uniform draws in [low, high]."""
    low, high = low_high
    return low + (high - low) * torch.rand(batch, generator=generator, device=device)


class Augmenter(nn.Module):
    """(batch, samples) clean clips -> augmented MFCC (batch, frames, n_mfcc) on their device.

    Parameters are drawn for the whole batch every call, whichever items a stage picks,
    so the same generator state always gives the same output. The noise bank is a
    non-persistent buffer: `.to(device)` moves it; it is never saved with a model.
    """

    def __init__(self, config: AugmentConfig, frontend: MFCC, noise: torch.Tensor | None = None) -> None:
        super().__init__()
        self.config = config
        self.frontend = frontend
        features = frontend.config
        if noise is None:
            noise = synthetic_noise(features.sample_rate)
        if noise.dim() != 1 or noise.numel() == 0:
            raise ValueError(f"noise bank must be a non-empty (samples,) tensor, got shape {tuple(noise.shape)}")
        repeats = math.ceil(features.clip_samples / noise.numel())  # a short bank still fills a clip
        self.register_buffer("noise", noise.float().repeat(repeats), persistent=False)
        self.pitch_fft = features.n_fft
        self.pitch_hop = features.n_fft // 4  # 75 % overlap keeps the phase vocoder clean
        self.rir_taps = max(2, round(config.rt60_range[1] * features.sample_rate))

    @torch.no_grad()
    def forward(self, waveforms: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """(batch, samples) clean 1 s clips -> augmented MFCC (batch, frames, n_mfcc)."""
        if waveforms.dim() != 2:
            raise ValueError(f"expected waveforms shaped (batch, samples), got {tuple(waveforms.shape)}")
        c, x = self.config, waveforms
        waveform_stages = (
            (c.speed_prob, self.speed),
            (c.pitch_prob, self.pitch),
            (c.reverb_prob, self.reverb),
            (c.shift_prob, self.shift),
            (c.noise_prob, self.add_noise),
            (c.gain_prob, self.gain),
            (c.clipping_prob, self.clipping),
        )
        for probability, stage in waveform_stages:  # in this order; a disabled stage draws no numbers
            if probability > 0:
                x = stage(x, generator)
        power = self.frontend.power_spectrum(x)  # (batch, frames, bins)
        if c.vtlp_prob > 0:
            power = self.vtlp(power, generator)
        if c.eq_prob > 0:
            power = self.equalize(power, generator)
        features = self.frontend.cepstra(power)  # (batch, frames, n_mfcc)
        if c.specaugment_prob > 0:
            features = self.specaugment(features, generator)
        return features

    def chosen(self, probability: float, batch: int, g: torch.Generator, device: torch.device) -> torch.Tensor:
        return torch.rand(batch, generator=g, device=device) < probability  # (batch,) bool

    def speed(self, x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        """Items grouped by factor on the config's grid: one resampling call per factor."""
        c = self.config
        steps = round((c.speed_range[1] - c.speed_range[0]) / c.speed_step)
        level = torch.randint(0, steps + 1, (x.shape[0],), generator=g, device=x.device)
        picked = self.chosen(c.speed_prob, x.shape[0], g, x.device)
        level = torch.where(picked, level, -1)
        out = x.clone()
        for step in level.unique().tolist():  # one host sync per batch for the group sizes
            factor = round(c.speed_range[0] + step * c.speed_step, 6)
            if step < 0 or factor == 1.0:
                continue
            index = (level == step).nonzero().squeeze(1)
            out.index_copy_(0, index, perturb.change_speed(x.index_select(0, index), factor))
        return out

    def pitch(self, x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        ratios = 2.0 ** (draw(self.config.pitch_semitones, x.shape[0], g, x.device) / 12.0)
        index = self.chosen(self.config.pitch_prob, x.shape[0], g, x.device).nonzero().squeeze(1)
        if index.numel() == 0:
            return x
        shifted = perturb.pitch_shift(x.index_select(0, index), ratios[index], self.pitch_fft, self.pitch_hop)
        return x.index_copy(0, index, shifted)

    def reverb(self, x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        c, batch = self.config, x.shape[0]
        rt60, drr = draw(c.rt60_range, batch, g, x.device), draw(c.drr_db_range, batch, g, x.device)
        index = self.chosen(c.reverb_prob, batch, g, x.device).nonzero().squeeze(1)
        rate = self.frontend.config.sample_rate
        rirs = perturb.room_impulse_responses(rt60[index], drr[index], self.rir_taps, rate, g)
        if index.numel() == 0:
            return x
        return x.index_copy(0, index, perturb.reverberate(x.index_select(0, index), rirs))

    def shift(self, x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        limit = round(self.config.shift_seconds * self.frontend.config.sample_rate)
        shifts = torch.randint(-limit, limit + 1, (x.shape[0],), generator=g, device=x.device)
        picked = self.chosen(self.config.shift_prob, x.shape[0], g, x.device)
        return perturb.time_shift(x, torch.where(picked, shifts, 0), limit)

    def add_noise(self, x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        batch, samples = x.shape
        if samples > self.noise.numel():
            raise ValueError(f"clips of {samples} samples are longer than the noise bank ({self.noise.numel()})")
        starts = torch.randint(0, self.noise.numel() - samples + 1, (batch,), generator=g, device=x.device)
        segments = self.noise.unfold(0, samples, 1)[starts]  # (batch, samples)
        snr = draw(self.config.snr_db_range, batch, g, x.device)
        snr = torch.where(self.chosen(self.config.noise_prob, batch, g, x.device), snr, math.inf)
        return perturb.mix_at_snr(x, segments, snr, self.frontend.config.hop_length)

    def gain(self, x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        gain_db = draw(self.config.gain_db_range, x.shape[0], g, x.device)
        picked = self.chosen(self.config.gain_prob, x.shape[0], g, x.device)
        return torch.where(picked[:, None], perturb.apply_gain(x, gain_db), x)

    def clipping(self, x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        drive_db = draw(self.config.clipping_drive_db_range, x.shape[0], g, x.device)
        picked = self.chosen(self.config.clipping_prob, x.shape[0], g, x.device)
        return torch.where(picked[:, None], perturb.overdrive(x, drive_db), x)

    def vtlp(self, power: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        c, batch = self.config, power.shape[0]
        alpha = draw(c.vtlp_alpha_range, batch, g, power.device)
        alpha = torch.where(self.chosen(c.vtlp_prob, batch, g, power.device), alpha, 1.0)
        return perturb.warp_frequencies(power, alpha, self.frontend.config.sample_rate, c.vtlp_boundary_hz)

    def equalize(self, power: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        c, batch = self.config, power.shape[0]
        coefficients = torch.rand(batch, c.eq_terms, generator=g, device=power.device) * 2 - 1
        peak = draw((0.0, c.eq_peak_db), batch, g, power.device)
        peak = torch.where(self.chosen(c.eq_prob, batch, g, power.device), peak, 0.0)
        curves = perturb.smooth_curves(coefficients, peak, self.frontend.config.sample_rate, power.shape[-1])
        return perturb.equalize(power, curves)

    def specaugment(self, features: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        c = self.config
        batch, frames, coefficients = features.shape
        time_mask = self.random_spans(batch, c.time_masks, c.time_mask_frames, frames, g, features.device)
        cepstral_mask = self.random_spans(
            batch, c.cepstral_masks, c.cepstral_mask_width, coefficients, g, features.device
        )
        picked = self.chosen(c.specaugment_prob, batch, g, features.device)[:, None]  # (batch, 1)
        return perturb.mask_features(features, time_mask & picked, cepstral_mask & picked)

    @staticmethod
    def random_spans(batch: int, count: int, widest: int, size: int, g: torch.Generator, device) -> torch.Tensor:
        """(batch, size) mask of `count` spans per item, widths uniform in 0..widest."""
        widest = min(widest, size)
        widths = torch.randint(0, widest + 1, (batch, count), generator=g, device=device)
        starts = (torch.rand(batch, count, generator=g, device=device) * (size - widths + 1)).long()
        return perturb.span_mask(starts, widths, size)
