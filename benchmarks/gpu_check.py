"""A real GPU run: preview a torch model with device="gpu" and "auto", compare with the CPU run.

    .venv/bin/python benchmarks/gpu_check.py              # 1M rows (the issue's check)
    .venv/bin/python benchmarks/gpu_check.py --rows 100000

Checks, on a machine with a CUDA build of torch and a GPU:

1. ``preview_inference(..., device="gpu")`` and ``device="auto"`` report
   ``device == "gpu"`` with a reason that says CUDA was available;
2. their predictions (every output column) equal the CPU run's within 1e-5;
3. times the preview of ``--rows`` rows on each device (pipeline build, model
   load and run included).

It exits 1 if a check fails. On a machine without CUDA it prints one
"no CUDA device" line (plus the CPU timing) and exits 0. Only torch, pandas,
numpy and apache-beam are needed besides beam_ml.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

WIDTH = 20


def _model(folder: Path) -> str:
    import torch

    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Linear(WIDTH, 64), torch.nn.ReLU(), torch.nn.Linear(64, 2)
    ).eval()
    path = folder / "mlp_script.pt"
    torch.jit.save(torch.jit.script(net), str(path))
    return str(path)


def _data(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(rng.standard_normal((rows, WIDTH)), columns=[f"f{i}" for i in range(WIDTH)])


def _preview(frame: pd.DataFrame, model: str, device: str):
    from beam_ml.inference import preview_inference

    start = time.perf_counter()
    result = preview_inference(frame, f"torchscript:{model}", sample=len(frame), device=device)
    return result, time.perf_counter() - start


def _outputs(result) -> np.ndarray:
    columns = sorted(c for c in result.predictions.columns if str(c).startswith("output_"))
    return result.predictions[columns].to_numpy(np.float64)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    from beam_ml.inference import cuda_available

    frame = _data(args.rows)
    with tempfile.TemporaryDirectory() as folder:
        model = _model(Path(folder))
        cpu, cpu_seconds = _preview(frame, model, "cpu")
        print(f"cpu : {args.rows:,} rows in {cpu_seconds:.2f} s ({cpu.device_reason})")
        if not cuda_available():
            import torch

            print(
                f"no CUDA device: torch {torch.__version__} sees no usable GPU; "
                "the GPU checks did not run (the injected-probe tests are the CI check)"
            )
            return 0
        failures = []
        for device in ("gpu", "auto"):
            result, seconds = _preview(frame, model, device)
            diff = float(np.max(np.abs(_outputs(result) - _outputs(cpu))))
            ok_device = result.device == "gpu" and "CUDA available" in result.device_reason
            ok_values = diff <= 1e-5 and len(result.predictions) == args.rows
            print(
                f"{device:4}: {args.rows:,} rows in {seconds:.2f} s; device {result.device} "
                f"({result.device_reason}); max |gpu - cpu| {diff:.2e}; "
                f"{'ok' if ok_device and ok_values else 'FAILED'}"
            )
            if not ok_device:
                failures.append(f"{device}: reported {result.device} ({result.device_reason})")
            if not ok_values:
                failures.append(f"{device}: predictions differ from cpu by {diff:.2e}")
            if device == "gpu":
                print(f"speed-up gpu / cpu: {cpu_seconds / seconds:.2f}x")
    for failure in failures:
        print(f"FAILED {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
