"""Text and HTML views of an inference preview, from its ``to_dict()``.

The HTML is ``widgets/templates/inference.html`` (autoescaped: column names,
labels, error messages and paths render as text): the device banner first,
then the predictions, the failed rows, and Beam's metrics collapsed; an A/B
comparison shows its models side by side with their agreement rate.

>>> data = {"device": "cpu", "device_requested": "gpu", "device_reason": "r"}
>>> device_banner(data)["fell_back"]
True
"""

from __future__ import annotations

import uuid
from typing import Any

from beam_ml.rendering import fmt, pct, render

MAX_ROWS = 20

# (label, metric) rows of the side-by-side table of an A/B comparison
SIDE_BY_SIDE = (
    ("rows inferred", "num_inferences"),
    ("failed batches", "failed_batches"),
    ("rows per second (inference)", "throughput_rows_per_s"),
    ("mean batch latency (ms)", "batch_latency_ms_mean"),
    ("model load (ms)", "model_load_ms"),
)


def device_banner(data: dict[str, Any]) -> dict[str, Any]:
    """What the device banner shows: the device, the reason, and whether to warn.

    It warns only when a GPU was asked for and the model ran on cpu.
    """
    reason = str(data.get("device_reason", ""))
    asked = data.get("device_requested")
    if not asked and reason.startswith("asked "):
        asked = reason[len("asked ") :].split(";", 1)[0]
    device = str(data.get("device", ""))
    return {"device": device, "reason": reason, "fell_back": asked == "gpu" and device != "gpu"}


def _models(data: dict[str, Any]) -> list[dict[str, Any]]:
    metrics = data.get("metrics", {})
    out = []
    for name, spec in data.get("models", {}).items():
        where = spec.get("path") or spec.get("handler") or ""
        nested = metrics.get(name) if isinstance(metrics.get(name), dict) else metrics
        out.append({"name": name, "kind": spec.get("kind"), "where": where, "metrics": nested})
    return out


def _metric_tables(metrics: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    nested = [(f"model {k}", v) for k, v in metrics.items() if isinstance(v, dict)]
    if not nested:
        return [("model", metrics)] if metrics else []
    rest = {k: v for k, v in metrics.items() if not isinstance(v, dict)}
    return nested + ([("run", rest)] if rest else [])


def _table(frame: dict[str, Any], limit: int = MAX_ROWS) -> dict[str, Any]:
    rows = [
        {"label": index, "cells": values}
        for index, values in zip(frame["index"][:limit], frame["data"][:limit], strict=False)
    ]
    return {"columns": frame["columns"], "rows": rows, "more": max(len(frame["data"]) - limit, 0)}


def _pair_table(frame: dict[str, Any], limit: int = MAX_ROWS) -> dict[str, Any] | None:
    """The A/B predictions side by side: each row marked agree / disagree.

    The first ``limit`` rows, plus every disagreement after them (up to ``4 * limit``),
    so the "show disagreements" filter has them to show.
    """
    columns = frame["columns"]
    if not {"a_prediction", "b_prediction"} <= set(columns):
        return None
    ia, ib = columns.index("a_prediction"), columns.index("b_prediction")
    order = [ia, ib] + [i for i in range(len(columns)) if i not in (ia, ib)]
    rows: list[dict[str, Any]] = []
    disagree = 0
    for n, (label, values) in enumerate(zip(frame["index"], frame["data"], strict=False)):
        same = values[ia] == values[ib]
        disagree += not same
        if n < limit or (not same and len(rows) < 4 * limit):
            rows.append({"label": label, "agree": same, "cells": [values[i] for i in order]})
    return {
        "columns": [columns[i] for i in order],
        "rows": rows,
        "disagree": disagree,
        "more": max(len(frame["data"]) - len(rows), 0),
    }


def _key(value: Any) -> tuple[int, str]:
    return (0, f"{float(value):020.6f}") if isinstance(value, int | float) else (1, str(value))


def confusion(frame: dict[str, Any], a: str, b: str, limit: int = 12) -> dict[str, Any] | None:
    """Counts of (``a`` value, ``b`` value) over every row of ``frame``, for a matrix.

    >>> m = confusion({"columns": ["x", "y"], "data": [[1, 1], [1, 2]], "index": ["0", "1"]},
    ...               "x", "y")
    >>> m["labels"], [r["cells"] for r in m["rows"]]
    ([1, 2], [[1, 1], [0, 0]])
    """
    columns = frame["columns"]
    if a not in columns or b not in columns:
        return None
    ia, ib = columns.index(a), columns.index(b)
    pairs = [(row[ia], row[ib]) for row in frame["data"]]
    labels = sorted({v for pair in pairs for v in pair if v is not None}, key=_key)
    if not labels or len(labels) > limit:
        return None
    where = {v: i for i, v in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for x, y in pairs:
        if x in where and y in where:
            matrix[where[x]][where[y]] += 1
    return _matrix_view(labels, matrix, a, b)


def _matrix_view(
    labels: list[Any], matrix: list[list[int]], rows: str, cols: str
) -> dict[str, Any]:
    peak = max((max(r) for r in matrix if r), default=1) or 1
    return {
        "labels": labels,
        "rows_are": rows,
        "cols_are": cols,
        "rows": [
            {
                "label": label,
                "cells": row,
                "styles": [
                    f"background: rgba(var(--bml-pos), {0.8 * n / peak:.2f})" if n else ""
                    for n in row
                ],
                "diagonal": i,
            }
            for i, (label, row) in enumerate(zip(labels, matrix, strict=True))
        ],
    }


def _evaluations(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Each model's metrics against the label (when the run had one): accuracy and matrix."""
    evaluation = data.get("evaluation") or data.get("label_metrics")
    if not isinstance(evaluation, dict):
        return []
    label = evaluation.get("label", "label")
    per_model = evaluation.get("models") or {"": evaluation.get("metrics") or {}}
    out = []
    for name, metrics in per_model.items():
        if not isinstance(metrics, dict):
            continue
        cm = metrics.get("confusion_matrix") or {}
        matrix = None
        if cm.get("labels") and cm.get("matrix"):
            who = f"{name} prediction" if name else "prediction"
            matrix = _matrix_view(list(cm["labels"]), cm["matrix"], str(label), who)
        shown = ("accuracy", "balanced_accuracy", "f1_macro", "roc_auc", "mae", "rmse", "r2")
        out.append(
            {
                "model": name,
                "label": label,
                "scores": [(k, metrics[k]) for k in shown if metrics.get(k) is not None],
                "matrix": matrix,
            }
        )
    return out


def context(data: dict[str, Any]) -> dict[str, Any]:
    """The template's view of a preview's ``to_dict()``."""
    comparison = data.get("kind") == "compare"
    pairs = _pair_table(data["predictions"]) if comparison else None
    return {
        "uid": uuid.uuid4().hex[:10],
        "pairs": pairs,
        "versus": (
            confusion(data["predictions"], "a_prediction", "b_prediction") if pairs else None
        ),
        "evaluations": _evaluations(data),
        "device": device_banner(data),
        "kind": data["kind"],
        "sample_rows": data["sample_rows"],
        "predicted": len(data["predictions"]["data"]),
        "failed": len(data["errors"]["data"]),
        "agreement": data.get("agreement"),
        "split": data.get("split"),
        "models": _models(data),
        "side_by_side": SIDE_BY_SIDE if comparison else (),
        "predictions": _table(data["predictions"]),
        "errors": _table(data["errors"]),
        "metrics": _metric_tables(data.get("metrics", {})),
    }


def render_html(data: dict[str, Any]) -> str:
    """The preview as HTML: the device banner first, then predictions, then metrics."""
    return render("inference.html", v=context(data))


def render_page(data: dict[str, Any]) -> str:
    """The preview as a whole HTML page (what ``beam-ml infer --html`` writes)."""
    return render("inference_page.html", v=context(data))


def render_text(data: dict[str, Any]) -> str:
    """A few plain lines: what ran where, how many rows, the key metrics.

    >>> render_text({"kind": "preview", "device": "cpu", "device_reason": "asked cpu; ran on cpu",
    ...              "sample_rows": 1, "models": {}, "metrics": {},
    ...              "predictions": {"data": [[1]], "columns": ["a"], "index": ["0"]},
    ...              "errors": {"data": [], "columns": [], "index": []}}).splitlines()[1]
    'DEVICE: CPU — asked cpu; ran on cpu'
    """
    view = context(data)
    models = "; ".join(f"{m['name']}: {m['kind']} {m['where']}".strip() for m in view["models"])
    lines = [
        f"RunInference preview ({view['kind']}): {view['predicted']} of "
        f"{view['sample_rows']} rows predicted, {view['failed']} failed",
        f"DEVICE: {data['device'].upper()} — {data['device_reason']}",
        f"models: {models}",
    ]
    if view["agreement"] is not None:
        lines.append(f"agreement: {pct(view['agreement'])}")
    if view["split"] is not None:
        lines.append(f"traffic split: {pct(view['split'])} to A, the rest to B")
    for label, metrics in view["metrics"]:
        lines.append(f"{label}: " + ", ".join(f"{k}={fmt(v)}" for k, v in metrics.items()))
    if view["failed"]:
        errors = data["errors"]
        first = dict(zip(errors["columns"], errors["data"][0], strict=False))
        lines.append(f"first error: {first.get('error')}")
    return "\n".join(lines)
