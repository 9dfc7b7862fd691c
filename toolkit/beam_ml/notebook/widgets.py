"""ipywidgets views of previews: inference (device toggle, sample size), profile, validation.

Each view is a plain object: its logic lives in plain methods
(``InferenceView.set_device('cpu')`` re-runs the step through the session), and
``.widget`` is the ipywidgets box that calls them, built on first use. Every
view also renders as static HTML with a text/plain fallback (the result's own
``_repr_mimebundle_``), so a saved notebook, nbconvert and GitHub still show
it. ipywidgets is imported lazily: this module imports without it.

>>> view = InferenceView(session, "penguins_infer")     # doctest: +SKIP
>>> view.set_device("gpu")                              # doctest: +SKIP
>>> view.result.device                                  # doctest: +SKIP
"""

from __future__ import annotations

import html
import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pandas as pd

from beam_ml.errors import BeamMLError, one_line
from beam_ml.notebook.session import DEVICES, Progress, Session

DEVICE_LABELS = (("Auto", "auto"), ("CPU", "cpu"), ("GPU", "gpu"))
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def _ipywidgets() -> Any:
    import ipywidgets

    return ipywidgets


def css() -> str:
    """The CSS of the notebook views (``widgets/notebook.css``, shipped as beam_ml.assets)."""
    from beam_ml.assets import css as read_css

    return read_css("notebook.css")


def _styled(body: str) -> str:
    return f'<div class="bml bml-view"><style>{css()}</style>{body}</div>'


def _bundle(obj: Any) -> dict[str, Any]:
    """The static mime bundle of a result (text/plain always)."""
    method = getattr(obj, "_repr_mimebundle_", None)
    bundle = dict(method()) if method else {}
    if isinstance(obj, pd.DataFrame):
        bundle = {"text/plain": repr(obj), "text/html": obj.to_html(max_rows=20)}
    bundle.setdefault("text/plain", repr(obj))
    return bundle


class View:
    """Base: a result, its static bundle, and (lazily) an ipywidgets box."""

    def __init__(self) -> None:
        self._widget: Any = None

    @property
    def widget(self) -> Any:
        if self._widget is None:
            self._widget = self._build()
        return self._widget

    def _build(self) -> Any:
        raise NotImplementedError

    def static_bundle(self) -> dict[str, Any]:
        raise NotImplementedError

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        """The widget for live frontends, plus static HTML and text for everything else."""
        bundle = self.static_bundle()
        try:
            live = self.widget._repr_mimebundle_()
        except ImportError:
            return bundle
        if live and WIDGET_MIME in live:
            bundle[WIDGET_MIME] = live[WIDGET_MIME]
        return bundle


# --------------------------------------------------------------------------- progress


class ProgressView(View):
    """Progress while a step runs: the stage, rows processed and time elapsed.

    With ``tick`` (seconds), the elapsed time of a running stage counts up in
    the widget from a background thread, since the kernel is busy running Beam.

    >>> v = ProgressView()
    >>> v.update(Progress("heavy_profile", "profile", "started", 344, 0.0))
    >>> v.text
    'profile heavy_profile: started, 344 rows, 0.0 s'
    """

    def __init__(self, clock: Any = time.perf_counter, tick: float | None = None) -> None:
        super().__init__()
        self.events: list[Progress] = []
        self.clock = clock
        self.tick = tick
        self._since = 0.0
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    @property
    def text(self) -> str:
        return self.events[-1].text() if self.events else "waiting"

    @property
    def running(self) -> bool:
        return bool(self.events) and self.events[-1].stage == "started"

    def update(self, event: Progress) -> None:
        self.events.append(event)
        self._stop_ticker()
        if self.running:
            self._since = self.clock() - event.elapsed
            if self.tick and self._widget is not None:
                self._stop = threading.Event()
                self._ticker = threading.Thread(target=self._tick, daemon=True)
                self._ticker.start()
        self._render()

    def _tick(self) -> None:
        while not self._stop.wait(self.tick):
            self._render()

    def _stop_ticker(self) -> None:
        self._stop.set()
        if self._ticker is not None and self._ticker is not threading.current_thread():
            self._ticker.join()
        self._ticker = None

    def _render(self) -> None:
        if self._widget is not None:
            self._widget.value = self._html()

    def elapsed(self) -> float:
        if not self.events:
            return 0.0
        return self.clock() - self._since if self.running else self.events[-1].elapsed

    def _html(self) -> str:
        if not self.events:
            return '<span class="bml-muted">waiting</span>'
        e = self.events[-1]
        running = e.stage == "started"
        rows = "–" if e.rows is None else f"{e.rows:,}"
        cls = "bml-bad" if e.stage == "failed" else ("bml-muted" if running else "bml-good")
        return (
            f'<span class="bml bml-progress"><b>{html.escape(e.kind)}</b> '
            f"{html.escape(e.step)}: "
            f'<span class="{cls}">{html.escape("running" if running else e.stage)}</span>'
            f" · rows {rows} · {self.elapsed():.1f} s</span>"
        )

    def _build(self) -> Any:
        return _ipywidgets().HTML(value=self._html())

    def static_bundle(self) -> dict[str, Any]:
        return {"text/plain": self.text, "text/html": _styled(self._html())}


@contextmanager
def progress_display(session: Session) -> Iterator[ProgressView]:
    """Show a progress line while ``session`` runs Beam steps in this block.

    Nothing is shown for cached results and for the pandas-speed previews
    (read, transform); at the end the line says what ran and how long it took.
    """
    view = ProgressView(tick=0.5)
    handle: dict[str, Any] = {}

    def listen(event: Progress) -> None:
        beam_stage = event.kind not in ("read", "transform") and event.stage == "started"
        if beam_stage and "display" not in handle:
            from IPython.display import display

            handle["display"] = display(view, display_id=True)  # builds the widget first
        view.update(event)

    unsubscribe = session.on_progress(listen)
    try:
        yield view
    finally:
        unsubscribe()
        view._stop_ticker()
        if "display" in handle and handle["display"] is not None:
            handle["display"].update(view)


# --------------------------------------------------------------------------- tables


class FramePreview(View):
    """The pandas sample a read or transform step binds: a caption and its first rows."""

    def __init__(
        self,
        name: str,
        frame: pd.DataFrame,
        sample: int,
        rows: int = 10,
        bad_records: list[Any] | None = None,
    ) -> None:
        super().__init__()
        self.name, self.frame, self.sample, self.rows = name, frame, sample, rows
        self.bad_records = list(bad_records or [])

    def caption(self) -> str:
        shape = f"{len(self.frame):,} rows x {len(self.frame.columns)} columns"
        text = f"{self.name}: {shape} (preview of up to {self.sample:,} rows, bound to {self.name})"
        if self.bad_records:
            first = self.bad_records[0]
            text += (
                f"; {len(self.bad_records)} line(s) could not be read, "
                f"first: line {first.line}: {first.reason}"
            )
        return text

    def static_bundle(self) -> dict[str, Any]:
        head = self.frame.head(self.rows)
        return {
            "text/plain": f"{self.caption()}\n{head!r}",
            "text/html": _styled(
                f"<p>{html.escape(self.caption())}</p>{head.to_html(border=0, escape=True)}"
            ),
        }

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return self.static_bundle()  # no controls: plain HTML is the whole view


# --------------------------------------------------------------------------- inference


class InferenceView(View):
    """An inference preview with a device toggle and a sample-size control.

    Changing either re-runs the step through the session (cached when it was
    run before with the same settings) and shows the new result.
    """

    def __init__(self, session: Session, name: str, result: Any = None) -> None:
        super().__init__()
        self.session = session
        self.name = name
        self.error: str | None = None
        self.result = result if result is not None else session.result(name)
        self.progress = ProgressView()
        self._syncing = False

    @property
    def device(self) -> str:
        return str(self.session.get(self.name).device)

    @property
    def sample(self) -> int:
        return self.session.sample_for(self.name)

    def set_device(self, device: str) -> Any:
        """Run the step on ``device`` ('auto' | 'cpu' | 'gpu'); return the new result."""
        return self._rerun(lambda: self.session.set_device(self.name, device))

    def set_sample(self, sample: int) -> Any:
        """Run the step on ``sample`` rows; return the new result."""
        return self._rerun(lambda: self.session.set_sample(self.name, int(sample)))

    @property
    def model(self) -> str:
        step = self.session.get(self.name)
        return str(getattr(step, "model", None) or ", ".join(getattr(step, "models", ())))

    def set_model(self, model: str) -> Any:
        """Run an infer step with another model (``KIND:PATH``); return the new result."""
        from dataclasses import replace

        def change() -> Any:
            step = self.session.get(self.name)
            if not hasattr(step, "model"):
                raise BeamMLError.expected(
                    "an infer step to change its model", f"{step.kind} step {self.name!r}"
                )
            sample = self.session._samples.get(self.name)
            return self.session.add(replace(step, model=str(model).strip()), sample=sample)

        return self._rerun(change)

    def rerun(self) -> Any:
        """Run the step again with its settings (cached unless its model or data changed)."""
        return self._rerun(lambda: self.session.run(self.name))

    def _rerun(self, action: Any) -> Any:
        unsubscribe = self.session.on_progress(self.progress.update)
        try:
            self.result = action()
            self.error = None
        except BeamMLError as error:
            self.error = one_line(str(error))
        finally:
            unsubscribe()
        self._sync()
        return self.result

    def summary(self) -> str:
        r = self.result
        device = getattr(r, "device", "?")
        reason = getattr(r, "device_reason", "")
        text = f"{self.name}: ran on {device} ({reason}), sample {self.sample:,} rows"
        return text + (f" | error: {self.error}" if self.error else "")

    def _status_html(self) -> str:
        status = f"<span>{html.escape(self.summary())}</span>"
        if self.error:
            status = f'<span class="bml-bad">{html.escape(self.summary())}</span>'
        return status

    def static_bundle(self) -> dict[str, Any]:
        inner = _bundle(self.result)
        return {
            "text/plain": f"{self.summary()}\n{inner['text/plain']}",
            "text/html": _styled(f"<p>{self._status_html()}</p>{inner.get('text/html', '')}"),
        }

    def _build(self) -> Any:
        w = _ipywidgets()
        self.device_toggle = w.ToggleButtons(
            options=list(DEVICE_LABELS), value=self.device, description="Device"
        )
        self.sample_box = w.BoundedIntText(
            value=self.sample, min=1, max=10_000_000, step=100, description="Sample"
        )
        self.status = w.HTML(value=self._status_html())
        self.output = w.HTML(value=_bundle(self.result).get("text/html", ""))
        self.rerun_button = w.Button(description="Re-run", icon="refresh")
        self.model_box = w.Text(
            value=self.model,
            description="Model",
            continuous_update=False,  # re-run when the user is done typing
            disabled=not hasattr(self.session.get(self.name), "model"),
            layout=w.Layout(width="60%"),
        )
        self.device_toggle.observe(self._on_device, names="value")
        self.sample_box.observe(self._on_sample, names="value")
        self.model_box.observe(self._on_model, names="value")
        self.rerun_button.on_click(lambda _button: self.rerun())
        controls = w.HBox([self.device_toggle, self.sample_box, self.rerun_button])
        return w.VBox([controls, self.model_box, self.progress.widget, self.status, self.output])

    def _on_model(self, change: Any) -> None:
        if not self._syncing and change["new"].strip() != self.model:
            self.set_model(change["new"])

    def _on_device(self, change: Any) -> None:
        if not self._syncing and change["new"] != self.device:
            self.set_device(change["new"])

    def _on_sample(self, change: Any) -> None:
        if not self._syncing and change["new"] != self.sample:
            self.set_sample(change["new"])

    def _sync(self) -> None:
        """Show the current settings and result in the controls (without re-running)."""
        if self._widget is None:
            return
        self._syncing = True
        try:
            self.device_toggle.value = self.device
            self.sample_box.value = self.sample
            self.model_box.value = self.model
            self.status.value = self._status_html()
            self.output.value = _bundle(self.result).get("text/html", "")
        finally:
            self._syncing = False


# --------------------------------------------------------------------------- profile


def histogram_svg(column: str, data: dict[str, Any], width: int = 360, height: int = 120) -> str:
    """An inline SVG bar chart of one column of ``Profile.to_dict()``.

    Numeric columns show their histogram; others their most frequent values.
    """
    hist = data.get("histogram")
    names: list[str] = []  # a label under each bar (categories), else the axis ends
    if hist and hist.get("counts"):
        counts = [int(c) for c in hist["counts"]]
        edges = [float(e) for e in hist["edges"]]
        labels = [f"{edges[i]:.4g} to {edges[i + 1]:.4g}: {c}" for i, c in enumerate(counts)]
        axis = (f"{edges[0]:.4g}", f"{edges[-1]:.4g}")
    elif data.get("top"):
        top = data["top"][:20]
        counts = [int(c) for _, c in top]
        labels = [f"{v}: {c}" for v, c in top]
        axis = (str(top[0][0]), str(top[-1][0]))
        if len(top) <= 10:
            names = [str(v) for v, _ in top]
    else:
        return f"<p>{html.escape(column)}: no values to plot</p>"
    peak = max(max(counts), 1)
    bar = width / len(counts)
    bars = []
    for i, (count, label) in enumerate(zip(counts, labels, strict=True)):
        h = 0 if count == 0 else max(1.0, (height - 20) * count / peak)
        bars.append(
            f'<rect x="{i * bar:.1f}" y="{height - 20 - h:.1f}" width="{max(bar - 1, 1):.1f}" '
            f'height="{h:.1f}" class="bml-bar"><title>{html.escape(label)}</title></rect>'
        )
    if names:
        chars = max(int(bar / 6), 3)  # about 6 px per character at the axis font size
        ticks = "".join(
            f'<text x="{(i + 0.5) * bar:.1f}" y="{height - 4}" text-anchor="middle" '
            f'class="bml-axis">{html.escape(_clip(name, chars))}</text>'
            for i, name in enumerate(names)
        )
    else:
        ticks = (
            f'<text x="0" y="{height - 4}" class="bml-axis">{html.escape(axis[0][:24])}</text>'
            f'<text x="{width}" y="{height - 4}" text-anchor="end" class="bml-axis">'
            f"{html.escape(axis[1][:24])}</text>"
        )
    return (
        f'<svg class="bml-hist" width="{width}" height="{height}" role="img" '
        f'aria-label="{html.escape(column, quote=True)}">{"".join(bars)}{ticks}</svg>'
    )


def _value(value: Any, limit: int = 80) -> str:
    """A check's observed/expected value, short: floats to 4 significant digits."""
    if isinstance(value, float):
        return _stat(value)
    if isinstance(value, dict):
        inner = ", ".join(f"{k}: {_value(v, limit)}" for k, v in value.items())
        return _clip(inner, limit)
    return _clip(one_line(str(value), 1000), limit)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _stat(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.4g}"
    return html.escape(str(value))


class ProfileView(View):
    """A profile with a column picker and the picked column's histogram and statistics."""

    STATS = ("type", "count", "nulls", "distinct", "mean", "std", "min", "max")

    def __init__(self, profile: Any, column: str | None = None) -> None:
        super().__init__()
        self.profile = profile
        self.data = profile.to_dict()
        names = list(self.data["columns"])
        self.column = column if column in names else (names[0] if names else None)

    @property
    def columns(self) -> list[str]:
        return list(self.data["columns"])

    def select(self, column: str) -> str:
        """Show ``column``; returns the HTML of its chart and statistics."""
        if column not in self.data["columns"]:
            raise BeamMLError.expected(
                "a column of the profile", repr(column), "pick one of " + ", ".join(self.columns)
            )
        self.column = column
        if self._widget is not None:
            self.picker.value = column
            self.detail.value = self.column_html()
        return self.column_html()

    def column_html(self) -> str:
        if self.column is None:
            return "<p>no columns</p>"
        c = self.data["columns"][self.column]
        rows = "".join(
            f"<tr><th>{s}</th><td>{_stat(c.get(s))}</td></tr>" for s in self.STATS if s in c
        )
        return (
            f"<h4>{html.escape(self.column)}</h4>"
            f'<div class="bml-column">{histogram_svg(self.column, c)}'
            f"<table>{rows}</table></div>"
        )

    def static_bundle(self) -> dict[str, Any]:
        return _bundle(self.profile)

    def _build(self) -> Any:
        w = _ipywidgets()
        self.picker = w.Dropdown(options=self.columns, value=self.column, description="Column")
        self.detail = w.HTML(value=_styled(self.column_html()))
        self.picker.observe(lambda ch: self.select(ch["new"]), names="value")
        summary = w.HTML(value=_bundle(self.profile).get("text/html", ""))
        return w.VBox(
            [self.picker, self.detail, w.Accordion(children=[summary], titles=("Report",))]
        )


# --------------------------------------------------------------------------- validation


class ValidationView(View):
    """A validation report: checks (failures first or all) and the quarantined rows."""

    def __init__(self, report: Any) -> None:
        super().__init__()
        self.report = report
        self.data = report.to_dict()
        self.show = "failures"

    def checks(self) -> list[dict[str, Any]]:
        checks = list(self.data.get("checks", []))
        if self.show == "failures":
            return [c for c in checks if not c.get("passed")]
        return checks

    def set_filter(self, show: str) -> str:
        """Show 'failures' or 'all' checks; returns the table's HTML."""
        if show not in ("failures", "all"):
            raise BeamMLError.expected("'failures' or 'all'", repr(show))
        self.show = show
        if self._widget is not None:
            self.table.value = _styled(self.checks_html())
        return self.checks_html()

    def checks_html(self) -> str:
        checks = self.checks()
        if not checks:
            return '<p class="bml-good">no failed checks</p>'
        rows = "".join(
            "<tr>"
            f'<td class="{"bml-good" if c.get("passed") else "bml-bad"}">'
            f"{'pass' if c.get('passed') else 'FAIL'}</td>"
            f"<td>{html.escape(str(c.get('rule')))}</td>"
            f"<td>{html.escape(str(c.get('column') or ''))}</td>"
            f"<td>{html.escape(_value(c.get('observed')))}</td>"
            f"<td>{html.escape(_value(c.get('expected')))}</td>"
            "</tr>"
            for c in checks
        )
        head = "<tr><th></th><th>rule</th><th>column</th><th>observed</th><th>expected</th></tr>"
        return f"<table>{head}{rows}</table>"

    def static_bundle(self) -> dict[str, Any]:
        return _bundle(self.report)

    def _build(self) -> Any:
        w = _ipywidgets()
        summary = w.HTML(value=_styled(f"<p>{html.escape(self.summary())}</p>"))
        self.filter = w.ToggleButtons(
            options=[("Failures", "failures"), ("All checks", "all")], value=self.show
        )
        self.table = w.HTML(value=_styled(self.checks_html()))
        self.filter.observe(lambda ch: self.set_filter(ch["new"]), names="value")
        report = w.HTML(value=_bundle(self.report).get("text/html", ""))
        details = w.Accordion(children=[report], titles=("Report and quarantined rows",))
        return w.VBox([summary, self.filter, self.table, details])

    def summary(self) -> str:
        """One line: the verdict and where the rows went."""
        rows = self.data.get("rows", {})
        verdict = "passed" if self.data.get("passed") else "failed"
        failed = sum(1 for c in self.data.get("checks", []) if not c.get("passed"))
        counts = ", ".join(f"{v:,} {k}" for k, v in rows.items() if isinstance(v, int))
        return f"validation {verdict}: {failed} failed check(s); rows: {counts}"


# --------------------------------------------------------------------------- dispatch


def view_for(session: Session, name: str, result: Any) -> Any:
    """The interactive view of step ``name``'s result (the result itself if none fits)."""
    kind = session.get(name).to_dict().get("kind")
    if kind in ("infer", "compare") and hasattr(result, "device"):
        return InferenceView(session, name, result)
    if kind == "profile" and hasattr(result, "columns"):
        return ProfileView(result)
    if kind == "validate" and hasattr(result, "checks"):
        return ValidationView(result)
    return result


__all__ = [
    "DEVICES",
    "FramePreview",
    "InferenceView",
    "ProfileView",
    "ProgressView",
    "ValidationView",
    "histogram_svg",
    "progress_display",
    "view_for",
]
