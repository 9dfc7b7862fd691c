"""Text and HTML views of an inference preview, derived from its ``to_dict()``.

Every value that comes from data or from the user (column names, class labels,
error messages, paths) goes through ``html.escape``.
"""

from __future__ import annotations

from html import escape
from typing import Any

MAX_ROWS = 20


def _models_line(data: dict[str, Any]) -> str:
    parts = []
    for name, spec in data.get("models", {}).items():
        where = spec.get("path") or spec.get("handler") or ""
        parts.append(f"{name}: {spec.get('kind')} {where}".strip())
    return "; ".join(parts)


def _flat_metrics(metrics: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    nested = {k: v for k, v in metrics.items() if isinstance(v, dict)}
    if nested:
        return [(f"model {k}", v) for k, v in nested.items()]
    return [("model", metrics)]


def render_text(data: dict[str, Any]) -> str:
    """A few plain lines: what ran where, how many rows, the key metrics."""
    preds, errors = data["predictions"], data["errors"]
    lines = [
        f"RunInference preview ({data['kind']}): {len(preds['data'])} of "
        f"{data['sample_rows']} rows predicted, {len(errors['data'])} failed",
        f"DEVICE: {data['device'].upper()} — {data['device_reason']}",
        f"models: {_models_line(data)}",
    ]
    if data.get("agreement") is not None:
        lines.append(f"agreement: {data['agreement']:.1%}")
    if data.get("split") is not None:
        lines.append(f"traffic split: {data['split']:.0%} to A, the rest to B")
    for label, metrics in _flat_metrics(data["metrics"]):
        shown = ", ".join(f"{k}={v}" for k, v in metrics.items())
        lines.append(f"{label}: {shown}")
    if errors["data"]:
        cols = errors["columns"]
        first = dict(zip(cols, errors["data"][0], strict=False))
        lines.append(f"first error: {first.get('error')}")
    return "\n".join(lines)


def _table(frame: dict[str, Any], limit: int = MAX_ROWS) -> str:
    cols = frame["columns"]
    head = "".join(f"<th>{escape(str(c))}</th>" for c in ["", *cols])
    body = []
    for index, row in zip(frame["index"][:limit], frame["data"][:limit], strict=False):
        cells = "".join(f"<td>{escape(_fmt(v))}</td>" for v in row)
        body.append(f"<tr><th>{escape(str(index))}</th>{cells}</tr>")
    more = len(frame["data"]) - limit
    tail = f"<p>… {more} more rows</p>" if more > 0 else ""
    return (
        f"<table class='beam-ml-table'><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>{tail}"
    )


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def render_html(data: dict[str, Any]) -> str:
    """The preview as HTML: the device line first and prominent, then metrics and rows."""
    preds, errors = data["predictions"], data["errors"]
    gpu = data["device"] == "gpu"
    colour = "#1b5e20" if gpu else "#e65100" if "not available" in data["device_reason"] else "#333"
    parts = [
        "<div class='beam-ml-inference'>",
        f"<div class='beam-ml-device' style='font-size:1.2em;font-weight:bold;color:{colour}'>"
        f"Device: {escape(data['device'].upper())} — {escape(data['device_reason'])}</div>",
        f"<p>RunInference {escape(data['kind'])} on {int(data['sample_rows'])} sample rows: "
        f"<b>{len(preds['data'])}</b> predicted, <b>{len(errors['data'])}</b> failed. "
        f"Models: {escape(_models_line(data))}</p>",
    ]
    if data.get("agreement") is not None:
        parts.append(
            "<p><b>Agreement A/B: " + escape(format(data["agreement"], ".1%")) + "</b></p>"
        )
    if data.get("split") is not None:
        parts.append(
            "<p>Traffic split: " + escape(format(data["split"], ".0%")) + " to A, the rest to B</p>"
        )
    for label, metrics in _flat_metrics(data["metrics"]):
        rows = "".join(
            f"<tr><th>{escape(str(k))}</th><td>{escape(_fmt(v))}</td></tr>"
            for k, v in metrics.items()
        )
        parts.append(f"<details open><summary>Metrics ({escape(label)})</summary>")
        parts.append(f"<table class='beam-ml-metrics'>{rows}</table></details>")
    parts.append("<h4>Predictions</h4>" + _table(preds))
    if errors["data"]:
        parts.append("<h4>Failed rows</h4>" + _table(errors))
    parts.append("</div>")
    return "".join(parts)
