"""``%beam_ml`` / ``%%beam_ml``: thin notebook syntax over the notebook Session.

::

    %load_ext beam_ml
    %beam_ml read penguins data/penguins.csv --sample 500
    %%beam_ml transform heavy --from penguins
    df = df[df.body_mass_g > 4000]
    %beam_ml profile heavy -o heavy_profile
    %beam_ml validate heavy --reference penguins_profile
    %beam_ml infer heavy --model sklearn:model.pkl --features bill_length_mm,bill_depth_mm
    %beam_ml steps
    %beam_ml export pipeline.py

Every form records a step in the session, binds its result in the notebook and
shows it. Anything the user gets wrong is a one-line ``UsageError``, never a
traceback. The line is split with ``shlex`` (quotes and spaces inside them
kept exactly) and the cell body is never parsed for options, so neither of
``%%beam_sql``'s defects (squeezed double spaces, ``-v`` in a query taken as an
option) can happen here. Defaults are configurable::

    %config BeamML.default_sample = 500
    %config BeamML.default_device = 'cpu'
"""

from __future__ import annotations

import keyword
import logging
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class, no_var_expand
from IPython.display import display
from traitlets import Enum, Int, TraitError, observe, validate

from beam_ml.errors import DEVICES, BeamMLError, one_line
from beam_ml.notebook.session import Session

if TYPE_CHECKING:
    from beam_ml.steps.forms import Form

__all__ = ["BeamML", "load_ipython_extension", "session"]


def _usage(message: str) -> UsageError:
    return UsageError(one_line(message))


@magics_class
class BeamML(Magics):
    """The ``%beam_ml`` magics, and their configuration (``%config BeamML``)."""

    default_sample = Int(1000, help="Rows each preview reads unless --sample says.").tag(
        config=True
    )
    default_device = Enum(DEVICES, "auto", help="Device of new infer steps.").tag(config=True)

    def __init__(self, shell: Any = None, session: Session | None = None, **kwargs: Any) -> None:
        super().__init__(shell=shell, **kwargs)
        self._session = session  # made on first use: a Session imports the steps (Beam)
        self.bindings: dict[str, list[str]] = {}  # step name -> variables showing its result
        self._shown: dict[str, Any] = {}  # step name -> the view its magic showed last
        self.widgets = True  # show ipywidgets views when ipywidgets imports

    @property
    def session(self) -> Session:
        if self._session is None:
            self._session = Session(self.default_sample, self.default_device)
        return self._session

    @session.setter
    def session(self, value: Session) -> None:
        self._session = value
        value.default_sample = self.default_sample
        value.default_device = self.default_device

    @validate("default_sample")
    def _check_sample(self, proposal: Any) -> int:
        if int(proposal["value"]) <= 0:
            raise TraitError(f"expected BeamML.default_sample > 0, got {proposal['value']!r}")
        return int(proposal["value"])

    @observe("default_sample")
    def _sample_changed(self, change: Any) -> None:
        if getattr(self, "_session", None) is not None:
            self.session.default_sample = change["new"]

    @observe("default_device")
    def _device_changed(self, change: Any) -> None:
        if getattr(self, "_session", None) is not None:
            self.session.default_device = change["new"]

    # ------------------------------------------------------------------ entry point
    @line_cell_magic
    @no_var_expand  # $x and {x} in paths and bodies are the user's text, not ours to expand
    def beam_ml(self, line: str, cell: str | None = None) -> None:
        """Explore with Beam on a sample; see ``%beam_ml`` forms in beam_ml.notebook.magics."""
        from beam_ml.steps.forms import parse_form

        try:
            # One parser for the magics and for `beam-ml export notebook.ipynb`.
            form = parse_form(line, cell, default_device=self.session.default_device)
        except BeamMLError as error:
            message = str(error)
            text = message if message.startswith("%beam_ml") else f"%beam_ml: {message}"
            raise _usage(text) from None
        try:
            if form.form == "steps":
                display(self.session)
            elif form.form == "export":
                self._export(form.options.path, streaming=form.options.streaming)
            else:
                self._record(form)
        except BeamMLError as error:
            raise _usage(f"%beam_ml {form.form}: {error}") from None
        except UsageError:
            raise
        except Exception as error:
            # Not a mistake we foresaw: still one line, the traceback on request.
            if os.environ.get("BEAM_ML_VERBOSE"):
                raise
            first = (str(error).strip().splitlines() or [""])[0]
            raise _usage(
                f"%beam_ml {form.form} failed: {type(error).__name__}: {first} "
                "(set BEAM_ML_VERBOSE=1 for the traceback)"
            ) from None

    def _record(self, form: Form) -> None:
        out = getattr(form.options, "out", None)
        if out is not None and (not out.isidentifier() or keyword.iskeyword(out)):
            raise _usage(
                f"%beam_ml {form.form}: -o expected a Python name such as stats, got {out!r}"
            )
        step = form.step
        for name in step.inputs():
            if name not in self.session.names():
                raise _usage(
                    f"%beam_ml {form.form}: {self.session._unknown(name, 'an input step name')}"
                )
        result = self._run(lambda: self.session.add(step, sample=form.sample))
        self._bind(step.name, step.name if step.binds_name else out, result)
        view = self._view(step.name, result)
        earlier = self._shown.pop(step.name, None)
        if earlier is not None and earlier is not view:
            earlier.retire()  # this step's cell ran again: its old output is gone
        if hasattr(view, "retire"):
            self._shown[step.name] = view
        display(view)
        from beam_ml.steps.forms_stream import windows_caption

        if windows_caption(result):  # a watched read: which windows its sample falls in
            print(windows_caption(result))
        self._refresh_downstream()

    def _export(self, path: str, streaming: bool = False) -> None:
        from beam_ml.exporting import export

        display(export(self.session, path, streaming=streaming))

    # ------------------------------------------------------------------ helpers
    def _run(self, action: Callable[[], Any]) -> Any:
        """Run a session action with a progress line while Beam works."""
        from beam_ml.runner import quiet_beam_logs

        # Beam warns about "limited Interactive Beam features" in a shell: not our user's concern.
        with quiet_beam_logs(logging.ERROR):
            _quiet_interactive_environment()
            if not self.widgets:
                return action()
            from beam_ml.notebook.widgets import progress_display

            with progress_display(self.session):
                return action()

    def _bind(self, step: str, var: str | None, value: Any) -> None:
        if var is None or self.shell is None:
            return
        self.shell.user_ns[var] = value
        names = self.bindings.setdefault(step, [])
        if var not in names:
            names.append(var)

    def _refresh_downstream(self) -> None:
        """Rebind the variables of downstream steps that the change recomputed."""
        notes = []
        for step, value in self.session.refreshed.items():
            if isinstance(value, BeamMLError):
                notes.append(f"{step} failed: {value}")
                continue
            for var in self.bindings.get(step, []):
                if self.shell is not None:
                    self.shell.user_ns[var] = value
            notes.append(step)
        if notes:
            print("recomputed downstream: " + "; ".join(notes))
        self.session.refreshed = {}

    def _view(self, step: str, result: Any) -> Any:
        """The view of a step's result: the step's own view class (the result without widgets)."""
        from beam_ml.notebook.widgets import view_for

        return view_for(self.session, step, result, live=self.widgets)


_INTERACTIVE_READY: list[bool] = []


def _quiet_interactive_environment() -> None:
    """Create Beam's interactive environment once, swallowing what it displays.

    Any pipeline built inside IPython makes Beam set it up, and in a notebook it
    then displays a script that loads jQuery from a CDN into the saved notebook;
    our previews use none of Interactive Beam.
    """
    if _INTERACTIVE_READY:
        return
    from apache_beam.runners.interactive import interactive_environment as ie
    from IPython.utils.capture import capture_output

    with capture_output(stdout=False, stderr=False, display=True):
        ie.current_env()
    _INTERACTIVE_READY.append(True)


def load_ipython_extension(ipython: Any) -> None:
    """Register ``%beam_ml`` / ``%%beam_ml`` (and ``%config BeamML``) in ``ipython``."""
    ipython.register_magics(BeamML(ipython))


def session(ipython: Any = None) -> Session:
    """The session the magics of ``ipython`` (default: the running shell) record into."""
    if ipython is None:
        from IPython import get_ipython

        ipython = get_ipython()
    magics = ipython.magics_manager.registry.get("BeamML") if ipython else None
    if magics is None:
        raise BeamMLError.expected(
            "the beam_ml extension to be loaded", "it is not", "run %load_ext beam_ml"
        )
    return magics.session
