"""Batched, stateless signal perturbations behind `audio.augment.Augmenter`.

Every function takes a batch and per-item parameters as tensors on the batch's device
and never leaves it; none draws random numbers except `room_impulse_responses`, which takes
an explicit generator. Waveforms are (batch, samples),
power spectra (batch, frames, bins), features (batch, frames, coefficients).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

ACTIVE_DB = 30.0  # frames within this many dB of the loudest count as speech
LN_1000 = math.log(1000.0)  # a 60 dB amplitude decay


def fit_centre(waves: torch.Tensor, samples: int) -> torch.Tensor:
    """Crop or zero-pad (batch, any) to (batch, samples), keeping the middle."""
    excess = waves.shape[-1] - samples
    if excess >= 0:
        return waves[:, excess // 2 : excess // 2 + samples]
    return F.pad(waves, (-excess // 2, -excess - (-excess // 2)))


def is_fast_length(n: int, primes: tuple[int, ...] = (2, 3, 5, 7, 11)) -> bool:
    """True when `n` (positive) has no prime factor outside `primes`: such FFT sizes are quick."""
    if n < 1:
        return False
    for prime in primes:
        while n % prime == 0:
            n //= prime
    return n == 1


def fast_length(target: int) -> int:
    """The FFT size without prime factors above 11 nearest to `target` (positive).

    Such sizes lie within 0.4 % of any target near a second of audio; a size with a
    large prime factor makes the FFT up to 25 times slower.
    """
    distance = 0
    while not (is_fast_length(target - distance) or is_fast_length(target + distance)):
        distance += 1
    return target - distance if is_fast_length(target - distance) else target + distance


def next_fast_length(minimum: int) -> int:
    """The smallest size >= `minimum` made of factors 2, 3 and 5, the quickest FFT sizes."""
    size = minimum
    while not is_fast_length(size, (2, 3, 5)):
        size += 1
    return size


def change_speed(waves: torch.Tensor, factor: float) -> torch.Tensor:
    """Play (batch, samples) about `factor` times faster (tempo and pitch), same length out.

    Band-limited resampling in the DFT domain: the spectrum is truncated (faster,
    an ideal anti-alias filter) or zero-padded (slower) and inverted at the new
    length, then cropped or padded about the centre back to `samples`. The new length
    is rounded to a fast FFT size, so the factor is met within 0.4 %. The DFT treats
    the clip as periodic; clip edges are near-silent, so the wrap is harmless.
    """
    if factor <= 0:
        raise ValueError(f"speed factor must be positive, got {factor}")
    samples = waves.shape[-1]
    out_len = fast_length(round(samples / factor))
    spectrum = torch.fft.rfft(waves)  # (batch, samples // 2 + 1)
    keep = out_len // 2 + 1
    spectrum = F.pad(spectrum, (0, keep - spectrum.shape[-1]))  # truncate (negative pad) or zero-fill
    stretched = torch.fft.irfft(spectrum, n=out_len) * (out_len / samples)  # (batch, out_len)
    return fit_centre(stretched, samples)


def gather_bins(values: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """values (batch, frames, bins), index (batch, out_bins) -> (batch, frames, out_bins)."""
    return values.gather(2, index[:, None, :].expand(-1, values.shape[1], -1))


def overlap_add(grains: torch.Tensor, hop: int) -> torch.Tensor:
    """(batch, frames, size) grains every `hop` samples -> (batch, size + hop * (frames - 1)).

    `size` must be a multiple of `hop`: the sum is then size // hop shifted adds.
    """
    batch, frames, size = grains.shape
    if size % hop:
        raise ValueError(f"grain size {size} must be a multiple of the hop {hop}")
    parts = size // hop
    blocks = grains.reshape(batch, frames, parts, hop)
    out = grains.new_zeros(batch, frames + parts - 1, hop)
    for part in range(parts):
        out[:, part : part + frames] += blocks[:, :, part]
    return out.reshape(batch, -1)


def pitch_shift(waves: torch.Tensor, ratios: torch.Tensor, n_fft: int, hop: int) -> torch.Tensor:
    """Scale every frequency of (batch, samples) by `ratios` (batch,), keeping the tempo.

    A phase vocoder that scales the frequency axis frame by frame (Laroche & Dolson
    1999): output bin j takes the magnitude at bin j / ratio (linear interpolation) and
    the instantaneous frequency of the nearest source bin times ratio, whose phase is
    integrated over the frames. One batched STFT and inverse, any ratio per item;
    `n_fft` must be a multiple of `hop` (4 hops per frame keep the phases coherent).
    """
    samples = waves.shape[-1]
    window = torch.hann_window(n_fft, device=waves.device, dtype=waves.dtype)
    frames = F.pad(waves, (n_fft // 2, n_fft // 2)).unfold(1, n_fft, hop) * window  # (batch, frames, n_fft)
    spec = torch.fft.rfft(frames)  # (batch, frames, bins)
    bins = spec.shape[2]
    source = torch.arange(bins, device=waves.device, dtype=waves.dtype) / ratios[:, None]  # (batch, bins)
    inside = (source <= bins - 1).to(waves.dtype)[:, None, :]  # (batch, 1, bins): above Nyquist is silent
    low = source.floor().clamp(max=bins - 1).long()
    high = (low + 1).clamp(max=bins - 1)
    weight = (source - low).clamp(max=1.0)[:, None, :]
    magnitude = (spec.real.square() + spec.imag.square()).sqrt()  # 3x faster than complex abs on CPU
    magnitude = torch.lerp(gather_bins(magnitude, low), gather_bins(magnitude, high), weight) * inside
    nearest = source.round().clamp(max=bins - 1).long()
    phase = gather_bins(spec.angle(), nearest)  # (batch, frames, bins)
    expected = (nearest * (2 * math.pi * hop / n_fft))[:, None, :]  # phase advance of the bin centre
    deviation = torch.remainder(phase.diff(dim=1) - expected + math.pi, 2 * math.pi) - math.pi
    steps = torch.remainder((expected + deviation) * ratios[:, None, None], 2 * math.pi)
    phase = torch.cat([phase[:, :1], phase[:, :1] + steps.cumsum(dim=1)], dim=1)  # (batch, frames, bins)
    shifted = torch.complex(magnitude * torch.cos(phase), magnitude * torch.sin(phase))
    grains = torch.fft.irfft(shifted, n=n_fft) * window  # (batch, frames, n_fft)
    envelope = overlap_add(window.square().expand(1, grains.shape[1], n_fft), hop)  # (1, total)
    out = overlap_add(grains, hop) / envelope.clamp(min=1e-8)
    return out[:, n_fft // 2 : n_fft // 2 + samples]


def room_impulse_responses(
    rt60: torch.Tensor, drr_db: torch.Tensor, length: int, sample_rate: int, generator: torch.Generator
) -> torch.Tensor:
    """Synthetic room impulse responses (batch, length) for per-item RT60 (s) and DRR (dB).

    Model: a unit direct path followed by Gaussian noise under an exponential envelope
    that falls 60 dB in RT60 seconds. This is the statistical room model (Polack 1993;
    the late field of a real room is dense, diffuse and decays exponentially), the same
    recipe as the noise-tail RIRs widely used for ASR augmentation; it needs no room
    geometry and no compiled dependency (pyroomacoustics' image method would, and its
    early reflections matter little for 1 s keyword clips). The tail is scaled so that
    direct energy / tail energy equals the drawn DRR. Not modelled: frequency-dependent
    decay and discrete early echoes.
    """
    batch = rt60.shape[0]
    t = torch.arange(1, length, device=rt60.device, dtype=torch.float32) / sample_rate  # (length - 1,)
    envelope = torch.exp(-LN_1000 * t[None, :] / rt60[:, None])  # (batch, length - 1)
    tail = torch.randn(batch, length - 1, generator=generator, device=rt60.device) * envelope
    tail_energy = tail.square().sum(dim=1, keepdim=True).clamp(min=1e-12)  # (batch, 1)
    tail = tail * torch.sqrt(10.0 ** (-drr_db[:, None] / 10.0) / tail_energy)
    direct = torch.ones(batch, 1, device=rt60.device)
    return torch.cat([direct, tail], dim=1)  # (batch, length)


def reverberate(waves: torch.Tensor, rirs: torch.Tensor) -> torch.Tensor:
    """Convolve (batch, samples) with (batch, taps) by FFT; keep the first `samples`.

    The wet clip is rescaled to the dry clip's RMS, so later SNR and gain ranges
    mean the same with or without the room.
    """
    samples = waves.shape[-1]
    size = next_fast_length(samples + rirs.shape[-1] - 1)  # linear, not circular, convolution
    wet = torch.fft.irfft(torch.fft.rfft(waves, n=size) * torch.fft.rfft(rirs, n=size), n=size)
    wet = wet[:, :samples]  # (batch, samples)
    dry_rms = waves.square().mean(dim=1, keepdim=True).sqrt()
    wet_rms = wet.square().mean(dim=1, keepdim=True).sqrt().clamp(min=1e-12)
    return wet * (dry_rms / wet_rms)


def time_shift(waves: torch.Tensor, shifts: torch.Tensor, limit: int) -> torch.Tensor:
    """Delay (batch, samples) by `shifts` (batch,) samples, |shift| <= limit; zero fill, no wrap."""
    batch, samples = waves.shape
    windows = F.pad(waves, (limit, limit)).unfold(1, samples, 1)  # view (batch, 2 * limit + 1, samples)
    return windows[torch.arange(batch, device=waves.device), limit - shifts.clamp(-limit, limit)]


def speech_power(waves: torch.Tensor, frame: int) -> torch.Tensor:
    """Mean power (batch,) over the frames within ACTIVE_DB of each clip's loudest frame.

    Measuring over the word rather than the whole clip keeps the SNR meaningful
    whether the word fills the second or a tenth of it.
    """
    usable = waves.shape[-1] // frame * frame
    frames = waves[:, :usable].reshape(waves.shape[0], -1, frame)  # (batch, frames, frame)
    power = frames.square().mean(dim=2)  # (batch, frames)
    active = power >= power.amax(dim=1, keepdim=True) * 10.0 ** (-ACTIVE_DB / 10.0)
    return (power * active).sum(dim=1) / active.sum(dim=1).clamp(min=1)


def mix_at_snr(waves: torch.Tensor, noise: torch.Tensor, snr_db: torch.Tensor, frame: int) -> torch.Tensor:
    """Add `noise` (batch, samples) to `waves` at `snr_db` (batch,) against speech power.

    An item with snr_db = +inf is returned unchanged (noise scaled by exactly 0).
    """
    noise_power = noise.square().mean(dim=1).clamp(min=1e-10)  # (batch,)
    scale = torch.sqrt(speech_power(waves, frame) / (noise_power * 10.0 ** (snr_db / 10.0)))
    return waves + scale[:, None] * noise


def apply_gain(waves: torch.Tensor, gain_db: torch.Tensor, peak: float = 1.0) -> torch.Tensor:
    """Scale (batch, samples) by `gain_db` (batch,), lowering the gain where the peak would pass `peak`."""
    factor = 10.0 ** (gain_db / 20.0)  # (batch,)
    loudest = waves.abs().amax(dim=1).clamp(min=1e-12)
    return waves * torch.minimum(factor, peak / loudest)[:, None]


def overdrive(waves: torch.Tensor, drive_db: torch.Tensor) -> torch.Tensor:
    """Hard clipping, as a microphone whose gain is set too high: (batch, samples) -> same shape.

    Each item is scaled so its peak sits `drive_db` (batch,) above full scale, then cut at +-1;
    0 dB leaves the shape as it is (the item peaks at exactly 1).
    """
    loudest = waves.abs().amax(dim=1).clamp(min=1e-12)  # (batch,)
    return (waves * (10.0 ** (drive_db / 20.0) / loudest)[:, None]).clamp(-1.0, 1.0)


def warp_frequencies(power: torch.Tensor, alpha: torch.Tensor, sample_rate: int, boundary_hz: float) -> torch.Tensor:
    """Vocal tract length perturbation of (batch, frames, bins) by `alpha` (batch,).

    The piecewise-linear warp of Jaitly & Hinton (2013): f -> alpha f up to
    boundary_hz * min(alpha, 1) / alpha, then a straight line to Nyquist, so the band
    edges stay put. Energy at f moves to warp(f): alpha > 1 raises formants. Computed in
    bin units, so alpha = 1 returns the input exactly.
    """
    bins = power.shape[-1]
    top = bins - 1.0
    knee_out = boundary_hz * torch.clamp(alpha, max=1.0) / (sample_rate / 2) * top  # warp(knee_in), (batch,)
    knee_in = knee_out / alpha
    out = torch.arange(bins, device=power.device, dtype=power.dtype)[None, :]  # (1, bins)
    below = out / alpha[:, None]
    above = top - (top - out) * ((top - knee_in) / (top - knee_out))[:, None]
    source = torch.where(out <= knee_out[:, None], below, above).clamp(0.0, top)  # (batch, bins)
    low = source.floor().long()
    high = (low + 1).clamp(max=bins - 1)
    weight = (source - low)[:, None, :]  # (batch, 1, bins)
    frames = power.shape[1]
    below_bin = power.gather(2, low[:, None, :].expand(-1, frames, -1))  # (batch, frames, bins)
    above_bin = power.gather(2, high[:, None, :].expand(-1, frames, -1))
    return torch.lerp(below_bin, above_bin, weight)


def equalize(power: torch.Tensor, curve_db: torch.Tensor) -> torch.Tensor:
    """Filter (batch, frames, bins) power spectra through a gain of `curve_db` (batch, bins) dB per bin."""
    return power * (10.0 ** (curve_db / 10.0))[:, None, :]


def smooth_curves(coefficients: torch.Tensor, peak_db: torch.Tensor, sample_rate: int, bins: int) -> torch.Tensor:
    """Smooth random gain curves (batch, bins) in dB, as microphones and rooms colour a voice.

    Each is a sum of cosines over the mel scale, cos(pi k m), k = 1 .. terms, m the bin's mel position
    in [0, 1], weighted by `coefficients` (batch, terms) and scaled so that its largest gain is
    `peak_db` (batch,) dB; 0 dB leaves the spectrum as it is.
    """
    hz = torch.linspace(0.0, sample_rate / 2, bins, device=coefficients.device, dtype=coefficients.dtype)
    mel = torch.log1p(hz / 700.0) / math.log1p(sample_rate / 2 / 700.0)  # (bins,) in [0, 1], HTK's mel
    k = torch.arange(1, coefficients.shape[1] + 1, device=coefficients.device, dtype=coefficients.dtype)
    shape = coefficients @ torch.cos(torch.pi * k[:, None] * mel[None, :])  # (batch, bins)
    return shape * (peak_db / shape.abs().amax(dim=1).clamp(min=1e-6))[:, None]


def span_mask(starts: torch.Tensor, widths: torch.Tensor, size: int) -> torch.Tensor:
    """(batch, masks) starts and widths -> (batch, size) True inside any span."""
    position = torch.arange(size, device=starts.device)[None, None, :]  # (1, 1, size)
    inside = (position >= starts[:, :, None]) & (position < (starts + widths)[:, :, None])
    return inside.any(dim=1)


def mask_features(features: torch.Tensor, time_mask: torch.Tensor, coefficient_mask: torch.Tensor) -> torch.Tensor:
    """SpecAugment on (batch, frames, coefficients) with masks (batch, frames), (batch, coefficients).

    Masked cells take the clip's mean of that coefficient over time: unlike zero, the
    mean carries no information about the masked span whatever the feature scale.
    """
    mean = features.mean(dim=1, keepdim=True)  # (batch, 1, coefficients)
    masked = time_mask[:, :, None] | coefficient_mask[:, None, :]  # (batch, frames, coefficients)
    return torch.where(masked, mean, features)
