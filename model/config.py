"""One frozen ModelConfig describes a classifier completely; checkpoints store it as JSON."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from audio.config import FeatureConfig
from audio.labels import DEFAULT_LABELS, validate_label

POOLINGS = ("attention", "mean")


@dataclass(frozen=True)
class ModelConfig:
    """Architecture and labels. Defaults: the 12-class task with a 2 x 128 bidirectional LSTM."""

    labels: tuple[str, ...] = DEFAULT_LABELS
    cell: str = "lstm"
    hidden_size: int = 128
    num_layers: int = 2
    bidirectional: bool = True
    dropout: float = 0.1
    pooling: str = "attention"
    features: FeatureConfig = field(default_factory=FeatureConfig)

    def __post_init__(self) -> None:
        from model.cells import CELLS  # cells import torch; keep this module light

        object.__setattr__(self, "labels", tuple(validate_label(label) for label in self.labels))
        if len(self.labels) < 2 or len(set(self.labels)) != len(self.labels):
            raise ValueError(f"need at least two distinct labels, got {list(self.labels)}")
        if self.cell not in CELLS:
            raise ValueError(f"unknown cell {self.cell!r}; choose one of {sorted(CELLS)}")
        if self.pooling not in POOLINGS:
            raise ValueError(f"unknown pooling {self.pooling!r}; choose one of {POOLINGS}")
        if self.hidden_size < 1 or self.num_layers < 1:
            raise ValueError(f"hidden_size and num_layers must be >= 1, got {self.hidden_size}, {self.num_layers}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")

    @property
    def directions(self) -> int:
        return 2 if self.bidirectional else 1

    def to_dict(self) -> dict:
        data = asdict(self)
        data["labels"] = list(self.labels)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> ModelConfig:
        values = dict(data)
        values["labels"] = tuple(values["labels"])
        values["features"] = FeatureConfig.from_dict(values["features"])
        return cls(**values)
