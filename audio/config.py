"""The one place where sample rate, window and hop live; everything else derives from them."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class FeatureConfig:
    """Front-end settings: times in seconds, sample counts derived.

    Defaults are the standard Speech Commands set-up: 1 s windows at 16 kHz,
    25 ms frames every 10 ms, a 512-point FFT, 40 mel bands and 40 cepstra.
    """

    sample_rate: int = 16_000
    clip_seconds: float = 1.0
    frame_seconds: float = 0.025
    hop_seconds: float = 0.010
    n_fft: int = 512
    n_mels: int = 40
    n_mfcc: int = 40
    f_min: float = 0.0
    f_max: float | None = None
    log_floor: float = 1e-10
    top_db: float | None = 80.0

    def __post_init__(self) -> None:
        if self.sample_rate <= 0:
            raise ValueError(f"sample_rate must be positive, got {self.sample_rate}")
        if self.win_length > self.n_fft:
            raise ValueError(
                f"frame of {self.win_length} samples does not fit n_fft={self.n_fft}; "
                "raise n_fft or shorten frame_seconds"
            )
        if self.hop_length <= 0:
            raise ValueError(f"hop_seconds={self.hop_seconds} gives no samples per hop")
        if not 0 < self.n_mfcc <= self.n_mels:
            raise ValueError(f"n_mfcc must be in 1..n_mels={self.n_mels}, got {self.n_mfcc}")

    @property
    def clip_samples(self) -> int:
        return round(self.clip_seconds * self.sample_rate)

    @property
    def win_length(self) -> int:
        return round(self.frame_seconds * self.sample_rate)

    @property
    def hop_length(self) -> int:
        return round(self.hop_seconds * self.sample_rate)

    @property
    def clip_frames(self) -> int:
        """Frames in one clip (centred frames, as librosa counts them)."""
        return 1 + self.clip_samples // self.hop_length

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> FeatureConfig:
        return cls(**data)
