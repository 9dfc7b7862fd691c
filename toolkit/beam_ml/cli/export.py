"""``beam-ml export NOTEBOOK.ipynb``: the notebook's steps as a module; ``--check``: parity."""

from __future__ import annotations

import argparse
from typing import Any


def add_export(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "export",
        help="export a saved notebook's %%beam_ml steps as a Beam pipeline module",
        description="Read the %beam_ml / %%beam_ml cells of a saved notebook (running nothing)"
        " and write a pipeline module plus requirements.txt. --check also runs the module"
        " on the notebook's sample and compares each step with the notebook's preview"
        " (exit 0 on parity, 1 on a difference).",
    )
    parser.add_argument("notebook", help="the saved .ipynb")
    parser.add_argument("-o", "--output", default="pipeline.py", help="module to write")
    parser.add_argument(
        "--check", action="store_true", help="run the module on the sample and compare"
    )
    parser.add_argument("--sample", type=int, help="rows of each input for --check")
    parser.add_argument(
        "--streaming",
        action="store_true",
        help="a streaming module: watch the read's pattern for new files, run the steps per window",
    )
    parser.add_argument(
        "--output_format",
        "--output-format",
        dest="output_format",
        choices=("jsonl", "parquet"),
        default="jsonl",
        help="the module's default file format of row outputs (profiles and reports are JSON)",
    )
    parser.add_argument(
        "--airflow",
        metavar="DAG.py",
        help="also write an Airflow DAG that runs the module (BeamRunPythonPipelineOperator)",
    )
    parser.add_argument(
        "--kfp",
        metavar="PIPELINE.yaml",
        help="also write a Kubeflow Pipelines v2 pipeline (one component running the module)",
    )
    parser.add_argument(
        "--full",
        action="store_true",
        help="with --check: also run the module on the full inputs and show each step's "
        "preview verdict beside the full run's",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar on stderr")


def run_export(args: argparse.Namespace, beam_args: list[str]) -> int:
    from beam_ml.exporting import check, export

    if args.streaming and args.check:
        print("beam-ml export: --check compares a batch module; drop --streaming or --check")
        return 2
    result = export(args.notebook, args.output, args.output_format, streaming=args.streaming)
    print(result)
    if args.airflow:
        from beam_ml.exporting.orchestrators import airflow_dag

        print(f"wrote the Airflow DAG {airflow_dag(result, args.airflow)}")
    if args.kfp:
        from beam_ml.exporting.orchestrators import kfp_pipeline

        print(f"wrote the Kubeflow pipeline {kfp_pipeline(result, args.kfp)}")
    if not args.check:
        return 0
    report = check(
        args.notebook,
        args.sample,
        args.output,
        beam_args,
        full=args.full,
        output_format=args.output_format,
    )
    print(report)
    return 0 if report.passed else 1
