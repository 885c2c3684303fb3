"""The fast path (nn.LSTM) and the trace path (step by step) must agree."""

import platform
from collections import namedtuple
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch

from audio.labels import DEFAULT_LABELS
from model.classifier import KeywordClassifier, normalize_utterance
from model.config import ModelConfig
from model.device import (
    StolenTime,
    cpu_name,
    cpu_steal_seconds,
    describe_machine,
    machine_summary,
    split_pool,
    torch_threads,
)


def make_model(**overrides) -> KeywordClassifier:
    torch.manual_seed(0)
    config = ModelConfig(**{"hidden_size": 32, "dropout": 0.0, **overrides})
    return KeywordClassifier(config).eval()


@pytest.fixture
def waves(chirp_word) -> torch.Tensor:
    noise = np.random.default_rng(3).normal(0, 0.05, 16_000).astype(np.float32)
    return torch.from_numpy(np.stack([chirp_word, noise]))  # (2, samples)


@pytest.mark.parametrize("num_layers", [1, 3])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("pooling", ["attention", "mean"])
def test_trace_matches_fast_path(waves, num_layers, bidirectional, pooling):
    model = make_model(num_layers=num_layers, bidirectional=bidirectional, pooling=pooling)
    with torch.no_grad():
        logits = model(waves).numpy()
        fast_h = model.recurrent(normalize_utterance(model.features(waves))).numpy()  # (batch, time, dirs * H)
    trace = model.trace(waves)
    directions = 2 if bidirectional else 1
    assert trace.states.shape == (num_layers, directions, 6, 2, 101, 32)
    np.testing.assert_allclose(trace.logits, logits, atol=1e-5, rtol=0)
    traced_h = np.concatenate([trace.state("h", num_layers - 1, d) for d in range(directions)], axis=-1)
    np.testing.assert_allclose(traced_h, fast_h, atol=1e-5, rtol=0)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_layers_run_one_by_one_with_their_own_dropout_draws_train_the_fused_layer(waves, bidirectional):
    model = make_model(num_layers=3, bidirectional=bidirectional, dropout=0.5)
    features = normalize_utterance(model.features(waves))
    with torch.no_grad():
        fused = model.recurrent(features)  # eval: no dropout
        x = features
        for layer in model.recurrent.single_layers:
            x, _ = layer(x)
    torch.testing.assert_close(x, fused, rtol=0, atol=1e-6)
    model.train()
    dropped = [model.recurrent(features, torch.Generator().manual_seed(seed)) for seed in (1, 1, 2)]
    assert torch.equal(dropped[0], dropped[1]) and not torch.equal(dropped[0], dropped[2])
    assert not torch.allclose(dropped[0], fused)
    dropped[0].sum().backward()
    assert all(parameter.grad is not None for parameter in model.recurrent.layers.parameters())
    assert [name for name, _ in model.recurrent.named_parameters()] == [
        f"layers.{name}" for name in model.recurrent.layers._flat_weights_names
    ]  # the single layers are views, not parameters of their own
    torch.manual_seed(0)
    KeywordClassifier(model.config)  # making the views draws nothing: models start as they did before them
    after_model = torch.rand(3)
    torch.manual_seed(0)
    torch.nn.LSTM(40, 32, num_layers=3, batch_first=True, bidirectional=bidirectional, dropout=0.5)
    torch.nn.Linear(model.recurrent.output_size, 1)  # the attention pool's score
    torch.nn.Linear(model.recurrent.output_size, len(model.labels))
    assert torch.equal(after_model, torch.rand(3))


def test_gates_lie_in_their_ranges(waves):
    trace = make_model(num_layers=2).trace(waves)
    for name in ("i", "f", "o"):
        gate = np.stack([trace.state(name, layer, d) for layer in range(2) for d in range(2)])
        assert gate.min() > 0.0 and gate.max() < 1.0, name
    for name in ("g", "h"):
        assert np.abs(trace.states[:, :, trace.state_names.index(name)]).max() < 1.0


def test_cell_update_follows_the_equations(waves):
    trace = make_model(num_layers=1, bidirectional=False).trace(waves)
    i, f, g, o, c, h = (trace.state(name) for name in "ifgoch")
    np.testing.assert_allclose(c[:, 1:], f[:, 1:] * c[:, :-1] + i[:, 1:] * g[:, 1:], atol=1e-6)
    np.testing.assert_allclose(h, o * np.tanh(c), atol=1e-6)


def test_backward_direction_is_time_aligned(waves):
    """The backward direction's first state in time order is the one that saw the whole clip."""
    model = make_model(num_layers=1, bidirectional=True)
    trace = model.trace(waves)
    i, g = trace.state("i", 0, 1), trace.state("g", 0, 1)
    c = trace.state("c", 0, 1)
    # At the last frame the backward cell starts from zero state: c = i * g.
    np.testing.assert_allclose(c[:, -1], i[:, -1] * g[:, -1], atol=1e-6)


def test_default_config_is_the_12_class_bilstm():
    config = ModelConfig()
    assert config.labels == DEFAULT_LABELS and len(config.labels) == 12
    assert (config.num_layers, config.hidden_size, config.bidirectional) == (2, 128, True)


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"cell": "transformer"}, "unknown cell"),
        ({"labels": ("a", "a")}, "distinct"),
        ({"labels": ("a", "b/c")}, "separator"),
        ({"labels": ("a", "_background_noise_")}, "reserved"),
        ({"dropout": 1.5}, "dropout"),
    ],
)
def test_bad_config_is_refused(overrides, message):
    with pytest.raises(ValueError, match=message):
        ModelConfig(**overrides)


def test_config_round_trips_through_a_dict():
    config = ModelConfig(labels=("a", "b"), num_layers=3, pooling="mean")
    assert ModelConfig.from_dict(config.to_dict()) == config


def test_trace_follows_parameter_updates(waves):
    """The trace caches NumPy copies of the weights; an optimizer step must invalidate them."""
    model = make_model(num_layers=1)
    model.trace(waves)  # fill the cache
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    model(waves).sum().backward()
    optimizer.step()
    with torch.no_grad():
        logits = model(waves).numpy()
    np.testing.assert_allclose(model.trace(waves).logits, logits, atol=1e-5, rtol=0)


def test_torch_threads_sets_the_count_for_the_block_and_puts_it_back_after_an_error():
    before = torch.get_num_threads()
    wanted = 2 if before != 2 else 1
    with pytest.raises(RuntimeError), torch_threads(wanted):
        assert torch.get_num_threads() == wanted
        raise RuntimeError("the block failed")
    assert torch.get_num_threads() == before
    with torch_threads(None):
        assert torch.get_num_threads() == before


def test_a_split_pool_gives_its_threads_one_torch_thread_and_others_the_caller_s_count():
    """A thread started while a pool is open (a recogniser started by Listen, the next fine-tune's worker)
    gets the usual count, not the pool's one: the pool once held the default at one for a whole fine-tune."""
    with torch_threads(2), split_pool(2) as pool:
        in_the_pool = [pool.submit(torch.get_num_threads).result() for _ in range(4)]
        with ThreadPoolExecutor(1) as other:  # a thread whose first torch call comes while the pool is open
            started_meanwhile = other.submit(torch.get_num_threads).result()
        assert torch.get_num_threads() == 2  # the caller's own
    assert in_the_pool == [1, 1, 1, 1] and started_meanwhile == 2


def test_cpu_name_is_read_from_cpuinfo_and_falls_back_to_the_platform(tmp_path, monkeypatch):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nvendor_id\t: Test\nmodel name\t: Test CPU 9000 @ 3.00GHz\nflags\t\t: fpu\n")
    assert cpu_name(cpuinfo) == "Test CPU 9000 @ 3.00GHz"
    monkeypatch.setattr("platform.processor", lambda: "")
    monkeypatch.setattr("platform.machine", lambda: "riscv64")
    assert cpu_name(tmp_path / "missing") == "riscv64"  # macOS and Windows have no /proc/cpuinfo
    cpuinfo.write_text("processor\t: 0\nmodel name\t:\n")  # some ARM boards leave it empty
    assert cpu_name(cpuinfo) == "riscv64"


def test_machine_names_the_kernels_torch_picked():
    machine = describe_machine()
    assert machine["cpu_capability"] == torch.backends.cpu.get_cpu_capability()
    assert machine["torch"] == torch.__version__ and machine["cores"] >= 1 and machine["cpu"]
    cpu = {"cpu": "AMD EPYC", "cpu_capability": "AVX512", "cores": 2, "torch": "2.13.0+cpu"}
    assert machine_summary(cpu) == "AMD EPYC (AVX512 kernels, 2 cores, torch 2.13.0+cpu)"
    assert machine_summary({**cpu, "cuda": "NVIDIA H200"}).endswith("torch 2.13.0+cpu, NVIDIA H200)")


def test_stolen_time_is_the_share_of_every_core_the_hypervisor_took(monkeypatch):
    steal = iter([100.0, 101.0])
    monkeypatch.setattr("model.device.cpu_steal_seconds", lambda: next(steal))
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    assert StolenTime().share(seconds=1.0) == 0.5  # 1 s stolen of two cores' 2 s
    monkeypatch.undo()
    if platform.system() == "Linux":  # the one system that reports it
        assert cpu_steal_seconds() >= 0 and 0 <= StolenTime().share(seconds=0.5) <= 1
    times_without_steal = namedtuple("scputimes", "user system idle")(1.0, 1.0, 1.0)  # as on macOS and Windows
    monkeypatch.setattr("model.device.psutil.cpu_times", lambda: times_without_steal)
    assert cpu_steal_seconds() is None and StolenTime().share(seconds=1.0) is None
