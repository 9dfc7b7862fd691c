"""The validate step: rules (YAML) and/or a reference, every row valid or quarantined.

The subgraph is :class:`beam_ml.validation.ValidateDataset`, the same one
``bml.validate`` runs. The reference is a profile step, any data step (read,
transform, validate: it is profiled in the graph, on the same sample in a
preview) or a saved profile JSON file; without rules, rules are inferred from it.

>>> ValidateStep("check", "jul", reference="jan").inputs()
('jul', 'jan')
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import apache_beam as beam

from beam_ml.errors import BeamMLError
from beam_ml.steps.base import (
    Step,
    StepPreview,
    attach,
    bad_records_of,
    batches_of,
    check_step_name,
    check_str,
    concat_frames,
    is_step_ref,
    only,
    proxy_of,
)

# Quarantined rows a validation report keeps as examples (its counts are exact;
# every quarantined row is in the step's "invalid" output).
from beam_ml.validation import REPORT_INVALID_ROWS


@dataclass(frozen=True)
class ValidateStep(Step):
    """Check the input against rules (a YAML file) and/or a reference.

    ``apply`` returns ``{"report": one ValidationReport, "valid": batches,
    "invalid": DataFrames of quarantined rows with _errors and _line}``.
    """

    input: str = ""
    reference: str | None = None
    rules: str | None = None
    kind: ClassVar[str] = "validate"
    position: ClassVar[int] = 3
    files: ClassVar[tuple[str, ...]] = ("report.json", "rows-*.jsonl", "invalid-*.jsonl")
    view: ClassVar[str] = "beam_ml.notebook.widgets:ValidationView"
    usage: ClassVar[str] = (
        "%beam_ml validate NAME (--reference STEP|PROFILE.json and/or --rules FILE.yaml) [-o VAR]"
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        check_step_name(self.input)
        check_str("reference", self.reference, optional=True)
        check_str("rules", self.rules, optional=True)
        if self.reference is None and self.rules is None:
            raise BeamMLError.expected(
                f"a reference or rules for validate step {self.name!r}",
                "neither",
                "pass --reference STEP (or a profile .json) or --rules FILE.yaml",
            )
        if self.reference is not None and is_step_ref(self.reference):
            check_step_name(self.reference)

    def _reference_step(self) -> str | None:
        return self.reference if self.reference and is_step_ref(self.reference) else None

    def inputs(self) -> tuple[str, ...]:
        ref = self._reference_step()
        return (self.input, ref) if ref else (self.input,)

    def accepts(self, position: int) -> tuple[str, ...]:
        return ("batches", "profile") if position == 1 else ("batches",)

    # ------------------------------------------------------------------ graph
    def expand(self, pipeline: Any, inputs: dict[str, Any]) -> Any:
        from beam_ml.profiling import Profile, ProfileDataset
        from beam_ml.validation import RuleSet, ValidateDataset

        source = inputs[self.input]
        batches = batches_of(source)
        rules = RuleSet.read(self.rules) if self.rules else None
        reference: Any = None
        ref_step = self._reference_step()
        if ref_step is not None:
            reference = inputs[ref_step]
            if proxy_of(reference) is not None:  # a data step: profile it here
                reference = reference | "ReferenceProfile" >> ProfileDataset()
        elif self.reference is not None:
            with open(self.reference, encoding="utf-8") as handle:
                ref_profile = Profile.from_json(handle.read())
            reference = pipeline | "Reference" >> beam.Create([ref_profile])
        out = batches | "Validate" >> ValidateDataset(
            rules,
            reference=reference,
            bad_records=bad_records_of(source),
            report_rows=REPORT_INVALID_ROWS,
            source=self.input,
        )
        attach(out["valid"], proxy=proxy_of(batches))
        return out

    def outputs(self, result: Any) -> dict[str, Any]:
        return {
            "report.json": result["report"],
            "rows": result["valid"],
            "invalid": result["invalid"],
        }

    # ------------------------------------------------------------------ preview
    def from_outputs(
        self, collected: dict[str, list[Any]], inputs: dict[str, StepPreview], context: Any
    ) -> StepPreview:
        return StepPreview(
            only(collected["report.json"], self),
            rows=concat_frames(collected["rows"]),
            extra={"invalid": concat_frames(collected["invalid"])},
        )

    def parity(self, folder: Path, preview: StepPreview) -> tuple[bool, str]:
        from beam_ml.steps.parity import compare_reports

        data = json.loads((folder / "report.json").read_text(encoding="utf-8"))
        return compare_reports(data, preview.result)

    def verdict(self, preview: StepPreview | None, folder: Path | None = None) -> str | None:
        """The report's verdict in words: of the preview, or of the module's report.json."""
        if folder is not None:
            path = folder / "report.json"
            if not path.exists():
                return "no report.json"
            return report_verdict(json.loads(path.read_text(encoding="utf-8")))
        return None if preview is None else report_verdict(preview.result.to_dict())

    # ------------------------------------------------------------------ export
    def module_args(self, option: Any) -> dict[str, str | None]:
        args = {}
        if self.rules is not None:
            args["rules"] = option("rules", self.rules, f"rules YAML of step {self.name}")
        if self.reference is not None and self._reference_step() is None:
            args["reference"] = option(
                "reference", self.reference, f"reference profile JSON of step {self.name}"
            )
        return args

    # ------------------------------------------------------------------ form
    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--reference")
        parser.add_argument("--rules")

    @classmethod
    def from_args(
        cls, options: argparse.Namespace, body: str | None, default_device: str
    ) -> tuple[Step, int | None]:
        o = options
        step = cls(name=f"{o.name}_validate", input=o.name, reference=o.reference, rules=o.rules)
        return step, None


def report_verdict(report: dict[str, Any]) -> str:
    """A validation report in a few words: which checks failed, how many rows quarantined.

    Failed ``warn``-level checks are warnings: the verdict stays "passed".

    >>> report_verdict({"passed": False, "checks": [{"id": "range:x", "passed": False},
    ...                 {"id": "mean:x", "passed": False, "level": "warn"}],
    ...                 "rows": {"total": 10, "invalid": 2}})
    'FAILED range:x; warnings mean:x; 2 of 10 rows quarantined'
    """
    failed = [c for c in report.get("checks", []) if not c.get("passed")]
    errors = [c["id"] for c in failed if c.get("level") != "warn"]
    warnings = [c["id"] for c in failed if c.get("level") == "warn"]
    rows = report.get("rows", {})
    quarantined = f"{rows.get('invalid', 0):,} of {rows.get('total', 0):,} rows quarantined"
    warned = f"warnings {_shown(warnings)}; " if warnings else ""
    if not errors:
        return f"passed; {warned}{quarantined}"
    return f"FAILED {_shown(errors)}; {warned}{quarantined}"


def _shown(ids: list[str]) -> str:
    return ", ".join(ids[:3]) + (f" (+{len(ids) - 3})" if len(ids) > 3 else "")
