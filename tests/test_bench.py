"""`bench` runs end to end and reports every figure it promises (it asserts no speed)."""

import json

import torch

from main import main


def test_bench_reports_latency_ratio_and_throughput(tmp_path, capsys):
    threads = torch.get_num_threads()
    status = main(["bench", "--json", "--runs", "50", "--train-clips", "64", "--model", str(tmp_path / "none"),
                   "--threads", "1"])
    assert status == 0 and torch.get_num_threads() == threads  # the setting does not leak
    report = json.loads(capsys.readouterr().out)
    (cpu,) = [entry for entry in report["results"] if entry["device"] == "cpu"]
    assert cpu["model"] == "untrained default architecture" and cpu["runs"] == 50 and cpu["threads"] == 1
    assert cpu["fast_ms"] > 0 and cpu["trace_ms"] > 0
    assert abs(cpu["trace_over_fast"] - cpu["trace_ms"] / cpu["fast_ms"]) < 1e-9
    assert cpu["train_clips_per_s"] > 0


def test_bench_refuses_too_few_runs(capsys):
    assert main(["bench", "--runs", "10"]) == 2
    assert "at least 50" in capsys.readouterr().err
