"""``beam-ml profile PATH``: a Beam-native profile of a dataset, printed and saved."""

from __future__ import annotations

import argparse
import time
from typing import Any

from beam_ml.cli.reading import add_read_options, data_source


def add_profile(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "profile",
        help="profile a dataset: types, statistics, sketches, correlations, alerts",
        description="Profile PATH (CSV, Parquet, JSON Lines; a file or a glob) in a Beam "
        "pipeline. Unknown --options go to Beam, e.g. --runner; many files on a laptop's "
        "cores: --direct_running_mode=multi_threading --direct_num_workers=2.",
    )
    parser.add_argument("path", metavar="PATH", help="data to profile: a file or a glob")
    parser.add_argument("--sample", type=int, metavar="N", help="profile only the first N rows")
    parser.add_argument("--json", metavar="OUT", help="write the profile as JSON")
    parser.add_argument("--html", metavar="OUT", help="write a standalone HTML report")
    parser.add_argument("--quiet", action="store_true", help="print no summary and no progress")
    add_read_options(parser)


def run_profile(args: argparse.Namespace, beam_args: list[str]) -> int:
    from beam_ml.profiling import profile

    started = time.perf_counter()
    source = data_source(args.path, args, quiet=args.quiet)
    # progress: the bar of beam_ml.cli.progress (beam-ml main), fed by the rows_read counter
    result = profile(source, sample=args.sample, options=beam_args or None)
    from beam_ml.writing import replacing, write_text

    if args.json:  # under a temporary name, renamed when complete (an interrupted run: none)
        write_text(args.json, result.to_json(indent=1))
    if args.html:
        with replacing(args.html) as temp:
            result.to_html(temp)
    if not args.quiet:
        print(result)
        print(f"profiled {result.rows:,} rows in {time.perf_counter() - started:.1f} s")
    return 0
