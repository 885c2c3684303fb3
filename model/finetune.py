"""The fine-tuning loop: a trained model adapts to a few takes in seconds, not minutes.

What makes it quick and keeps old words: the recurrent layers below the top one move at a share
of the learning rate (the MFCC front end has no weights), the learning rate is a tenth of
training's with a short warm-up and a cosine decay, a few epochs only, and every batch mixes the
user's takes (each repeated, so each epoch sees several augmented versions) with base-vocabulary
clips. Besides the cross-entropy, a supervised contrastive term pulls each batch's embeddings of
one label together and pushes other labels' apart. Then the head is refit
to convergence on the fine-tuned embeddings (`model.head_refit`). On the CPU each batch is split
over the cores, each part on its own thread (`SplitBatch`). Progress is reported every
step; `should_stop` is polled every step and the model is then left half-trained, so the caller
must not save it (the model on disk stays as it was).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from torch import nn

from audio.dataset import ClipSet
from model.classifier import KeywordClassifier
from model.device import split_pool, split_workers
from model.head_refit import refit_on_clips
from model.training import class_weights

Augment = Callable[[torch.Tensor, torch.Generator], torch.Tensor]


@dataclass(frozen=True)
class FinetuneConfig:
    """Defaults were measured on one speaker's takes (see bench/own_voice.py)."""

    # Three epochs in which each take is seen 20 times: over ten seeds of the own-voice bench 97.6 % of the held-out
    # takes against 97.1 % for four epochs of 8, for a quarter more training steps there (135 against 108;
    # docs/fine-tuning.md, "Three epochs of twenty").
    epochs: int = 3
    batch_size: int = 32
    learning_rate: float = 5e-3
    weight_decay: float = 1e-2
    warmup: float = 0.1  # share of the steps spent ramping the learning rate up
    freeze_layers: int = 0  # lower recurrent layers kept as they are
    # The trained recurrent layers below the top one move at this share of the learning rate. With the contrastive
    # term below, measured over ten seeds of the own-voice bench (docs/fine-tuning.md, "The lower layer and a
    # contrastive term").
    lower_layer_lr: float = 0.3
    user_repeats: int = 20  # times each user take appears per epoch (augmented anew each time)
    # A word with more takes than this shares the places that many would fill (`take_repeats`; each take is seen
    # at least once), so more takes do not make fine-tuning longer. `python -m bench.own_voice ... --held-from 40
    # --takes T [--full-takes 1000]`, draws 0-2, when each take was seen 8 times an epoch: 10, 20 or 40 takes a word
    # sharing the places of five scored 96.4-98.4 % and trained in 13-16 s; each take seen 8 times, 96.4-98.6 % in
    # 20-59 s (docs/fine-tuning.md, "How many takes").
    full_takes: int = 5
    label_smoothing: float = 0.0
    distill_weight: float = 0.3  # keep the base model's answers on base material (Learning without Forgetting)
    distill_temperature: float = 2.0
    contrastive_weight: float = 0.5  # weight of `supervised_contrastive_loss` (0: none)
    contrastive_temperature: float = 0.2
    clip_grad_norm: float = 1.0
    refit_copies: int = 8  # the head is refit on each clip this often at most (as often as it is repeated); 0: no refit
    refit_anchor: float = 1e-2  # how strongly the refit head is held to the fine-tuned one
    # Each batch is split over this many threads, each on one core (`SplitBatch`); 0: one per torch CPU thread
    # on the CPU, one on a GPU. On 2 cores a step split in two ran 1.1 to 1.5 times as fast as the whole batch
    # on both torch threads (`python -m bench.finetune_workers`, docs/fine-tuning.md).
    workers: int = 0
    seed: int = 0

    def __post_init__(self) -> None:
        if (
            self.epochs < 1
            or self.batch_size < 1
            or self.learning_rate <= 0
            or self.user_repeats < 1
            or self.full_takes < 1
        ):
            raise ValueError(f"epochs, batch size, learning rate, repeats and full takes must be positive: {self}")
        non_negative = (self.freeze_layers, self.refit_copies, self.refit_anchor, self.distill_weight)
        if min(*non_negative, self.contrastive_weight, self.workers) < 0:
            raise ValueError(
                "freeze_layers, refit_copies, refit_anchor, distill_weight, contrastive_weight and workers must be"
                f" >= 0: {self}"
            )
        if not 0 < self.lower_layer_lr <= 1 or self.contrastive_temperature <= 0:
            raise ValueError(f"lower_layer_lr must be in (0, 1] and contrastive_temperature positive: {self}")
        if not 0 <= self.label_smoothing < 1:
            raise ValueError(f"label_smoothing must be in [0, 1), got {self.label_smoothing}")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class StepReport:
    """One optimiser step: the batch's loss and accuracy, and the time so far and still to go."""

    step: int
    steps: int
    epoch: int
    epochs: int
    loss: float
    accuracy: float
    elapsed: float
    eta: float


@dataclass
class FinetuneResult:
    steps: list[StepReport] = field(default_factory=list)
    stopped: bool = False
    seconds: float = 0.0
    refit_seconds: float = 0.0
    refit_objective: tuple[float, float] | None = None  # the head's objective before and after the refit


def warm_up_training() -> None:
    """Make one optimiser and take a step, so that a fine-tune started later does not pay for it.

    torch imports its compiler stack (`torch._dynamo`) when a process makes its first optimiser, which
    takes most of a second (the own-voice bench reports it as `warm_up_seconds`). The app warms up while
    the fine-tune dialog is open, before Start is pressed.
    """
    weight = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.AdamW([weight])
    weight.sum().backward()
    optimizer.step()  # its first step imports a little more


def layer_of(name: str) -> int:
    """The recurrent layer a `torch.nn.LSTM` parameter belongs to: weight_ih_l1_reverse -> 1."""
    return int(name.split("_l")[1].split("_")[0])


def freeze_lower_layers(model: KeywordClassifier, count: int) -> list[nn.Parameter]:
    """Stop gradients to recurrent layers 0 .. count-1; returns the parameters left to train."""
    if count > model.config.num_layers:
        raise ValueError(f"cannot freeze {count} layers of a {model.config.num_layers}-layer model")
    for name, parameter in model.recurrent.layers.named_parameters():
        parameter.requires_grad_(layer_of(name) >= count)
    return [parameter for parameter in model.parameters() if parameter.requires_grad]


def parameter_groups(
    model: KeywordClassifier, parameters: list[nn.Parameter], learning_rate: float, share: float
) -> list[dict]:
    """`parameters` as optimiser groups: the top recurrent layer, the pooling and the head at `learning_rate`,
    the trained recurrent layers below the top one at `share` of it (none when they are all frozen)."""
    top = model.config.num_layers - 1
    lower = [
        parameter
        for name, parameter in model.recurrent.layers.named_parameters()
        if parameter.requires_grad and layer_of(name) < top
    ]
    lower_ids = {id(parameter) for parameter in lower}
    rest = [parameter for parameter in parameters if id(parameter) not in lower_ids]
    return [{"params": rest, "lr": learning_rate}] + ([{"params": lower, "lr": learning_rate * share}] if lower else [])


def take_repeats(targets: np.ndarray, repeats: int, full_takes: int) -> np.ndarray:
    """Times each take is seen an epoch: `repeats`, or fewer (once at least) when its label has more
    than `full_takes` takes, so that they fill no more places than `full_takes` takes seen `repeats` times.

    targets (takes,) label indices -> (takes,) repeats.
    """
    _, label_of_take, takes_per_label = np.unique(np.asarray(targets), return_inverse=True, return_counts=True)
    return np.clip(repeats * full_takes // takes_per_label[label_of_take], 1, repeats).astype(np.int64)


def epoch_order(repeats: np.ndarray, generator: torch.Generator) -> torch.Tensor:
    """Clip indices for one epoch: clip i appears repeats[i] times, shuffled. (sum(repeats),)"""
    indices = torch.from_numpy(np.repeat(np.arange(len(repeats)), repeats))
    return indices[torch.randperm(len(indices), generator=generator)]


def worker_count(config: FinetuneConfig, device: torch.device) -> int:
    """Threads a batch is split over (`model.device.split_workers`), at most one a clip."""
    return min(split_workers(device, config.workers), config.batch_size)


def part_seeds(seed: int, parts: int) -> list[int]:
    """Seeds of a batch's parts' generators: the first is `seed`, as a run in one part has it; the others
    are spawned from it (numpy's `SeedSequence`), so that seed S's second part does not draw seed S+1's
    numbers, as `seed + k` would, and runs of neighbouring seeds stay independent."""
    spawned = np.random.SeedSequence(seed).spawn(parts - 1)
    return [seed] + [int(child.generate_state(1, dtype=np.uint64)[0] >> 1) for child in spawned]


class SplitBatch:
    """One batch through the model's body (front end to embeddings) in parts, each part on its own thread.

    The loss couples a batch's clips (class balance, contrastive pairs), so it is computed once, on the parts'
    embeddings joined; each part then carries its share of the loss's gradient back through its own graph on
    its own thread, and the parts' gradients are added in a fixed order, so that a run repeats. The sum is the
    whole batch's gradient, as one backward pass would give it.
    """

    def __init__(self, model: KeywordClassifier, features: Augment, parts: Sequence[torch.Tensor]) -> None:
        self.model = model
        self.features = features
        self.parts = parts  # each (clips, samples)
        self.outputs: list[torch.Tensor] = []
        self.joined = torch.empty(0)

    def embeddings(self, pool: ThreadPoolExecutor, generators: Sequence[torch.Generator]) -> torch.Tensor:
        """The batch's embeddings (batch, size), detached from the parts' graphs; part k draws its
        augmentation and dropout from generators[k]."""
        self.outputs = list(
            pool.map(
                lambda part, generator: self.model.embed(self.features(part, generator), generator),
                self.parts,
                generators,
            )
        )
        self.joined = torch.cat([output.detach() for output in self.outputs]).requires_grad_()
        return self.joined

    def backward(self, pool: ThreadPoolExecutor, parameters: Sequence[torch.Tensor]) -> None:
        """Set the body's `parameters`' gradients, once the loss's backward has reached the joined embeddings."""
        shares = self.joined.grad.split([len(output) for output in self.outputs])
        gradients = list(
            pool.map(lambda output, share: torch.autograd.grad(output, parameters, share), self.outputs, shares)
        )
        for parameter, *parts in zip(parameters, *gradients):
            parameter.grad = torch.stack(parts).sum(dim=0)


def distillation_loss(logits: torch.Tensor, teacher: torch.Tensor, temperature: float) -> torch.Tensor:
    """KL(teacher || student) over the teacher's classes, the first `teacher.shape[1]` logits.

    logits (batch, classes); teacher (batch, old_classes) probabilities at `temperature`, NaN
    rows for clips without a teacher answer (they add nothing).
    """
    known = ~torch.isnan(teacher[:, 0])  # (batch,)
    if not known.any():
        return logits.new_zeros(())
    student = torch.log_softmax(logits[known, : teacher.shape[1]] / temperature, dim=1)
    return nn.functional.kl_div(student, teacher[known], reduction="batchmean") * temperature**2


def supervised_contrastive_loss(embeddings: torch.Tensor, targets: torch.Tensor, temperature: float) -> torch.Tensor:
    """Supervised contrastive loss (Khosla et al., 2020) of one batch: for each clip, the mean log-likelihood
    of picking a clip of its own label among the batch's other clips, by cosine similarity over `temperature`.

    embeddings (batch, size); targets (batch,). Clips whose label no other clip in the batch has add nothing.
    """
    unit = nn.functional.normalize(embeddings, dim=1)
    itself = torch.eye(len(targets), dtype=torch.bool, device=embeddings.device)
    similarity = (unit @ unit.T / temperature).masked_fill(itself, -1e9)  # (batch, batch)
    log_likelihood = similarity - torch.logsumexp(similarity, dim=1, keepdim=True)
    positive = (targets[:, None] == targets[None, :]) & ~itself
    anchors = positive.any(dim=1)
    if not anchors.any():
        return embeddings.new_zeros(())
    return -((log_likelihood * positive).sum(dim=1)[anchors] / positive.sum(dim=1)[anchors]).mean()


def finetune(
    model: KeywordClassifier,
    clips: ClipSet,
    config: FinetuneConfig,
    *,
    repeats: np.ndarray | None = None,
    teacher: np.ndarray | None = None,
    augment: Augment | None = None,
    on_step: Callable[[StepReport], None] | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> FinetuneResult:
    """Train `model` in place on `clips`; clip i is seen `repeats[i]` times an epoch (default once).

    `teacher` (clips, old_classes): the base model's probabilities at the distillation
    temperature for clips whose answers should be kept (NaN rows elsewhere).
    `augment(waveforms, generator)` maps clean clips (batch, samples) to MFCC; without it the
    model's own front end is used. Classes are balanced in the loss, after the repeats.
    """
    if len(clips) == 0:
        raise ValueError("nothing to fine-tune on: record some takes first")
    if clips.labels != model.labels:
        raise ValueError(f"clip labels {clips.labels} differ from the model's {model.labels}")
    repeats = np.ones(len(clips), np.int64) if repeats is None else np.asarray(repeats, np.int64)
    started = time.perf_counter()
    device = model.device
    parameters = freeze_lower_layers(model, config.freeze_layers)
    order_generator = torch.Generator().manual_seed(config.seed)
    steps_per_epoch = -(-int(repeats.sum()) // config.batch_size)
    total = config.epochs * steps_per_epoch
    optimizer = torch.optim.AdamW(
        parameter_groups(model, parameters, config.learning_rate, config.lower_layer_lr),
        weight_decay=config.weight_decay,
    )
    warmup = max(1, round(config.warmup * total))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min(1.0, (step + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * step / total))
    )
    weights = class_weights(np.repeat(clips.targets, repeats), len(model.labels)).to(device)
    loss_function = nn.CrossEntropyLoss(weight=weights, label_smoothing=config.label_smoothing)
    features = augment or (lambda batch, _generator: model.features(batch))
    waveforms, targets = torch.from_numpy(clips.waveforms), torch.from_numpy(clips.targets)
    answers = None if teacher is None or config.distill_weight == 0 else torch.from_numpy(teacher.astype(np.float32))
    workers = worker_count(config, device)
    generators = [torch.Generator(device=device).manual_seed(seed) for seed in part_seeds(config.seed, workers)]
    head = {id(parameter) for parameter in model.head.parameters()}
    body = [parameter for parameter in parameters if id(parameter) not in head]
    result = FinetuneResult()
    model.train()
    step = 0
    with split_pool(workers) as pool:
        for epoch in range(1, config.epochs + 1):
            for indices in epoch_order(repeats, order_generator).split(config.batch_size):
                if should_stop():
                    result.stopped = True
                    break
                batch = SplitBatch(model, features, [waveforms[part].to(device) for part in indices.chunk(workers)])
                embeddings = batch.embeddings(pool, generators)  # (batch, size), detached
                batch_targets = targets[indices].to(device)
                logits = model.head(embeddings)  # (batch, classes)
                loss = loss_function(logits, batch_targets)
                if config.contrastive_weight:
                    contrast = supervised_contrastive_loss(embeddings, batch_targets, config.contrastive_temperature)
                    loss = loss + config.contrastive_weight * contrast
                if answers is not None:
                    kept = distillation_loss(logits, answers[indices].to(device), config.distill_temperature)
                    loss = loss + config.distill_weight * kept
                optimizer.zero_grad(set_to_none=True)
                loss.backward()  # the head's gradients, and the loss's with respect to the embeddings
                batch.backward(pool, body)
                nn.utils.clip_grad_norm_(parameters, config.clip_grad_norm)
                optimizer.step()
                schedule.step()
                step += 1
                elapsed = time.perf_counter() - started
                report = StepReport(
                    step,
                    total,
                    epoch,
                    config.epochs,
                    loss.item(),
                    float((logits.argmax(dim=1) == batch_targets).float().mean()),
                    elapsed,
                    elapsed / step * (total - step),
                )
                result.steps.append(report)
                if on_step is not None:
                    on_step(report)
            if result.stopped:
                break
        for parameter in model.parameters():
            parameter.requires_grad_(True)
        model.eval()
        if not result.stopped and config.refit_copies:
            if should_stop():  # the refit itself takes a second or two and is not interrupted
                result.stopped = True
            else:
                refit_started = time.perf_counter()
                copies = np.minimum(repeats, config.refit_copies)
                result.refit_objective = refit_on_clips(
                    model, clips, copies, features, generators, config.refit_anchor, pool
                )
                result.refit_seconds = time.perf_counter() - refit_started
    result.seconds = time.perf_counter() - started
    return result
