"""Apache Beam pipeline exported by beam-ml-toolkit from a notebook's steps.

Steps, in order: penguins (read), heavy (transform), stats (profile), check (validate),
pred (infer).

Run it (the defaults are the inputs, models and devices the notebook used; a default
path is read relative to this file's folder, a path given here relative to the current
folder)::

    python pipeline.py --output out
    python pipeline.py --output out --output_format parquet
    python pipeline.py --output out --direct_num_workers=2 --direct_running_mode=multi_processing
    python pipeline.py --runner DataflowRunner --project PROJECT --region REGION \
        --temp_location gs://BUCKET/tmp --output gs://BUCKET/out \
        --extra_package dist/beam_ml_toolkit-VERSION.tar.gz

Outputs, one folder per step under --output:

    penguins/  bad_records-*.jsonl
    heavy/  rows-*.jsonl
    stats/  profile.json
    check/  report.json, rows-*.jsonl, invalid-*.jsonl
    pred/  predictions-*.jsonl, errors-*.jsonl

(rows as <stem>-*.parquet with --output_format parquet; bad records stay .jsonl)
"""

import argparse
import logging
import os
import sys

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions
from beam_ml.steps import (
    InferStep,
    ProfileStep,
    ReadStep,
    TransformStep,
    ValidateStep,
    write_outputs,
)


class PipelineArgs(PipelineOptions):
    """Inputs, models and devices of the steps, and where the outputs go."""

    @classmethod
    def _add_argparse_args(cls, parser):
        parser.add_argument(
            "--penguins_path",
            "--input",
            default="data/penguins.csv",
            help="input of step penguins (csv)",
        )
        parser.add_argument(
            "--check_rules", default="rules/penguins.yaml", help="rules YAML of step check"
        )
        parser.add_argument(
            "--pred_model", default="torchscript:models/mlp.pt", help="model of step pred"
        )
        parser.add_argument(
            "--pred_device",
            default="gpu",
            choices=("auto", "cpu", "gpu"),
            help="device of step pred",
        )
        parser.add_argument(
            "--pred_accelerator",
            default="type:nvidia-tesla-t4;count:1;install-nvidia-driver",
            help="accelerator resource hint of step pred (used when its device is gpu)",
        )
        parser.add_argument(
            "--output",
            default="output",
            help="folder (or gs://, s3://...) for the outputs of every step",
        )
        parser.add_argument(
            "--output_format",
            default="jsonl",
            choices=("jsonl", "parquet"),
            help="file format of row outputs (profiles and reports are JSON either way)",
        )


# Options whose defaults are local files, relative to this module's folder: their defaults.
LOCAL_PATHS = {}


def transform_heavy(df):
    df = df[df.body_mass_g > 4000]
    df["ratio"] = df.bill_length_mm / df.bill_depth_mm
    return df


def absolute_paths(args):
    """Make each LOCAL_PATHS option absolute: a default against this module's folder, a
    path given on the command line against the current folder (workers run elsewhere)."""
    here = os.path.dirname(os.path.abspath(__file__))
    for dest, default in LOCAL_PATHS.items():
        value = getattr(args, dest)
        kind, sep, rest = value.partition(":")
        spec = sep and kind.isidentifier() and not rest.startswith("//")
        path = rest if spec else value
        if "://" in value or os.path.isabs(path):
            continue
        path = os.path.abspath(os.path.join(here if value == default else os.getcwd(), path))
        setattr(args, dest, f"{kind}:{path}" if spec else path)


def build_pipeline(p, options):
    """Apply every step under a label named after it; write its outputs."""
    args = options.view_as(PipelineArgs)
    steps = [
        ReadStep(name="penguins", format="csv", path=args.penguins_path),
        TransformStep(name="heavy", input="penguins").using(transform_heavy),
        ProfileStep(name="stats", input="heavy", top_k=20),
        ValidateStep(name="check", input="heavy", rules=args.check_rules),
        InferStep(
            name="pred",
            input="check",
            features=("bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"),
            model=args.pred_model,
            device=args.pred_device,
            accelerator=args.pred_accelerator,
        ),
    ]
    outputs = {}
    for step in steps:
        inputs = {name: outputs[name] for name in step.inputs()}
        outputs[step.name] = step.apply(p, inputs)
        write_outputs(step, outputs[step.name], args.output, args.output_format)
    return outputs


def run(argv=None):
    """Build the pipeline from the command line's options and run it to the end."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if "-h" in argv or "--help" in argv:
        # PipelineOptions would list only -h: show this module's own options and defaults
        parser = argparse.ArgumentParser(
            description=__doc__.split("\n\n")[0],
            formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        )
        PipelineArgs._add_argparse_args(parser)
        parser.print_help()
        print("\nAny other Beam pipeline option is passed to the runner (e.g. --runner).")
        return
    options = PipelineOptions(argv)
    absolute_paths(options.view_as(PipelineArgs))
    with beam.Pipeline(options=options) as p:
        build_pipeline(p, options)


if __name__ == "__main__":
    logging.getLogger().setLevel(logging.INFO)
    run()
