"""`bench` runs end to end and reports every figure it promises (it asserts no speed)."""

import json

from main import main


def test_bench_reports_latency_ratio_and_throughput(tmp_path, capsys):
    status = main(["bench", "--json", "--runs", "50", "--train-clips", "64", "--model", str(tmp_path / "none")])
    assert status == 0
    report = json.loads(capsys.readouterr().out)
    (cpu,) = [entry for entry in report["results"] if entry["device"] == "cpu"]
    assert cpu["model"] == "untrained default architecture" and cpu["runs"] == 50
    assert cpu["fast_ms"] > 0 and cpu["trace_ms"] > 0
    assert abs(cpu["trace_over_fast"] - cpu["trace_ms"] / cpu["fast_ms"]) < 1e-9
    assert cpu["train_clips_per_s"] > 0


def test_bench_refuses_too_few_runs(capsys):
    assert main(["bench", "--runs", "10"]) == 2
    assert "at least 50" in capsys.readouterr().err
