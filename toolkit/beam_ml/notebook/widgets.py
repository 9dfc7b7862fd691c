"""ipywidgets views of previews: inference (device toggle, sample size), profile, validation.

Each view is a plain object: its logic lives in plain methods
(``InferenceView.set_device('cpu')`` re-runs the step through the session), and
``.widget`` is the ipywidgets box of its controls, built on first use. A view
shows as two outputs: the controls, then its static HTML (with text/plain),
which a saved notebook, nbconvert and GitHub show without a kernel and which is
re-drawn in place whenever the step changes (``view_base.StepView``). ipywidgets
is imported lazily: this module imports without it.

>>> view = InferenceView(session, "penguins_infer")     # doctest: +SKIP
>>> view.set_device("gpu")                              # doctest: +SKIP
>>> view.result.device                                  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import Any

from beam_ml.notebook.frame_view import FramePreview
from beam_ml.notebook.inference_view import InferenceView
from beam_ml.notebook.profile_view import ProfileView, histogram_svg
from beam_ml.notebook.progress_view import ProgressView, progress_display
from beam_ml.notebook.session import DEVICES, Session
from beam_ml.notebook.validation_view import ValidationView
from beam_ml.notebook.view_base import WIDGET_MIME


def view_for(session: Session, name: str, result: Any, live: bool = True) -> Any:
    """The view of step ``name``'s result: the class its step kind names (``Step.view``).

    Without ``live`` (no ipywidgets wanted) a data step still gets its static
    frame view and any other result is shown as it is.
    """
    step = session.get(name)
    if not step.view:
        return result
    module, _, attr = step.view.partition(":")
    cls = getattr(importlib.import_module(module), attr)
    if not live and cls is not FramePreview:
        return result
    return cls.for_step(session, name, result)


__all__ = [
    "DEVICES",
    "WIDGET_MIME",
    "FramePreview",
    "InferenceView",
    "ProfileView",
    "ProgressView",
    "ValidationView",
    "histogram_svg",
    "progress_display",
    "view_for",
]
