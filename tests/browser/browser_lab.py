"""Drive a real JupyterLab in Debian's headless Chromium (Selenium + chromedriver).

Nothing here downloads anything: the browser and its driver are the Debian
packages that ``tests/browser/setup.sh`` installs, and Selenium is handed both
paths so Selenium Manager never runs.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"

# User settings for this JupyterLab only (JUPYTERLAB_SETTINGS_DIR points at a tmp folder):
# every cell stays in the DOM (no windowing, so offscreen outputs can be asserted), and
# JupyterLab neither asks about nor fetches news and updates (no network, no toast on top).
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "checkForUpdates": False,
        "fetchNews": "false",
    },
}


# The JupyterLab defaults beam-ml-toolkit installs (share/jupyter/lab/settings/overrides.d):
# widget state saved with the notebook, so reopened controls render without a kernel.
OVERRIDES = Path(__file__).resolve().parents[2] / "widgets" / "jupyterlab" / "overrides.d"


def browser_installed() -> bool:
    return os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)


def require_browser() -> None:
    """Skip without Debian's chromium and chromedriver, except under CI=true: there, fail."""
    if browser_installed():
        return
    message = (
        f"{CHROMIUM} or {CHROMEDRIVER} is missing: run tests/browser/setup.sh "
        "(apt-get install chromium chromium-driver)"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true and {message}", pytrace=False)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(
    condition: Callable[[], Any], timeout: float, what: str, interval: float = 0.25
) -> Any:
    """Poll ``condition`` until it returns something truthy; fail saying ``what`` never came."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = condition()
        except (StaleElementReferenceException, WebDriverException) as exc:
            # The page re-rendered between finding an element and reading it: try again.
            value, last_error = None, exc
        if value:
            return value
        time.sleep(interval)
    detail = f" (last error: {last_error.__class__.__name__})" if last_error else ""
    raise TimeoutError(f"waited {timeout:.0f} s for {what}{detail}")


class JupyterLab:
    """A JupyterLab server on a free loopback port with a random token, serving ``root``.

    Its config, settings, workspaces and runtime files live under ``home`` so the
    developer's own Jupyter configuration changes nothing. ``stop()`` always ends it.
    """

    def __init__(self, root: Path, home: Path, log_path: Path) -> None:
        self.root = root
        self.home = home
        self.log_path = log_path
        self.token = secrets.token_hex(16)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def _environment(self) -> dict[str, str]:
        settings = self.home / "lab-settings"
        for name, values in LAB_SETTINGS.items():
            path = settings / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values), encoding="utf-8")
        app_settings = self.home / "app-settings"
        shutil.copytree(OVERRIDES, app_settings / "overrides.d", dirs_exist_ok=True)
        env = dict(os.environ)
        env.update(
            JUPYTERLAB_SETTINGS_DIR=str(settings),
            JUPYTERLAB_WORKSPACES_DIR=str(self.home / "lab-workspaces"),
            JUPYTER_CONFIG_DIR=str(self.home / "config"),
            JUPYTER_RUNTIME_DIR=str(self.home / "runtime"),
            IPYTHONDIR=str(self.home / "ipython"),
        )
        return env

    def start(self, timeout: float = 60) -> None:
        command = [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--allow-root",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root}",
            # Offline: no extension manager that asks PyPI, no news feed.
            "--LabApp.extension_manager=readonly",
            "--LabApp.news_url=",
            # the overrides beam-ml-toolkit ships, as an installed package puts them
            f"--LabApp.app_settings_dir={self.home / 'app-settings'}",
        ]
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            command,
            cwd=self.root,
            env=self._environment(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # so stop() can end the kernels it started, too
        )
        log.close()
        wait_for(self._answers, timeout, f"JupyterLab to answer on {self.base}")

    def _answers(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(
                f"JupyterLab exited with {self.process.returncode}:\n{self.log_tail()}"
            )
        try:
            with urllib.request.urlopen(self.url("/api/status"), timeout=2) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False

    def url(self, path: str) -> str:
        sep = "&" if "?" in path else "?"
        return f"{self.base}{path}{sep}token={self.token}"

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """SIGTERM: the server shuts its kernels down (they run in sessions of their own),
        then exits; a server that hangs is killed with its process group."""
        if self.process is None or self.process.poll() is not None:
            return
        try:
            self.process.terminate()
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)


def chromium(user_data_dir: Path, width: int = 1400, height: int = 1000) -> webdriver.Chrome:
    """Debian's chromium, headless, with a fresh profile; Selenium Manager never runs."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--disable-extensions",
        f"--window-size={width},{height}",
        f"--user-data-dir={user_data_dir}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(60)
    return driver


# Read the state of every code cell in one round trip: its prompt ("[3]:", "[*]:", "[ ]:")
# and whether the notebook's kernel is idle.
_CELL_STATE_JS = """
const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
if (!panel) { return null; }
const prompts = [...panel.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')]
    .map(e => e.textContent.trim());
const indicator = panel.querySelector('.jp-Notebook-ExecutionIndicator');
// The status bar's kernel item: "Python 3 (ipykernel) | Idle", "No Kernel | Idle", ...
const status = [...document.querySelectorAll('#jp-main-statusbar .jp-StatusBar-TextItem')]
    .map(e => e.textContent.trim()).find(t => t.includes(' | ')) || '';
return {
    prompts: prompts,
    execution: indicator ? indicator.getAttribute('data-status') : null,
    kernel: status,
};
"""

_NUMBERED = re.compile(r"^\[\d+\]:$")


class LabPage:
    """One JupyterLab tab: open a notebook, run it like a user, read what it shows."""

    def __init__(self, driver: webdriver.Chrome, lab: JupyterLab, artifacts: Path) -> None:
        self.driver = driver
        self.lab = lab
        self.artifacts = artifacts

    # -- opening and running
    def open_notebook(self, name: str, timeout: float = 60) -> None:
        """Open ``name`` and wait for its kernel; a notebook without kernelspec metadata
        asks which kernel to start, and we answer as a user would (Select = Python 3)."""
        self.driver.get(self.lab.url(f"/lab/tree/{name}"))
        wait_for(
            lambda: self._visible(".jp-NotebookPanel .jp-Notebook .jp-Cell"),
            timeout,
            f"{name} to open in JupyterLab",
        )
        ready: list[bool] = []

        def kernel_ready() -> bool:
            dialog = self._visible(".jp-Dialog .jp-Dialog-button.jp-mod-accept")
            if dialog is not None:
                dialog.click()
                ready.clear()
                return False
            ready.append(self._kernel_idle())
            # Idle for a second in a row, with no dialog: the session is settled.
            return len(ready) >= 4 and all(ready[-4:])

        wait_for(kernel_ready, timeout, f"the kernel of {name} to start")

    def _kernel_idle(self) -> bool:
        state = self.driver.execute_script(_CELL_STATE_JS)
        return bool(state) and state["execution"] == "idle" and state["kernel"].endswith("Idle")

    def run_all_cells(self) -> None:
        """Run menu → Run All Cells, as a user would."""
        self.menu_command("Run", "Run All Cells")

    def save(self) -> None:
        """The notebook toolbar's Save button, so the executed notebook can be read back."""
        wait_for(
            lambda: self._visible(
                ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-NotebookPanel-toolbar "
                '[data-command="docmanager:save"]'
            ),
            10,
            "the Save button of the notebook toolbar",
        ).click()

    def menu_command(self, menu: str, label: str) -> None:
        """Click ``menu`` in the menu bar, then its entry labelled ``label``."""
        items = self.driver.find_elements(By.CSS_SELECTOR, "#jp-MainMenu .lm-MenuBar-item")
        matches = [item for item in items if item.text.strip() == menu]
        assert matches, f"no {menu!r} menu in {[item.text for item in items]}"
        matches[0].click()

        def entry() -> WebElement | None:
            for item in self.driver.find_elements(
                By.CSS_SELECTOR, ".lm-Menu li.lm-Menu-item:not(.lm-mod-disabled)"
            ):
                if item.is_displayed() and item.text.split("\n")[0].strip() == label:
                    return item
            return None

        wait_for(entry, 10, f"the {label!r} entry of the {menu} menu").click()

    def submenu_command(self, menu: str, submenu: str, label: str) -> None:
        """``menu`` → ``submenu`` → ``label`` (Settings → Theme → JupyterLab Dark)."""
        self.menu_command(menu, submenu)  # clicking a submenu's item opens it

        def entry() -> WebElement | None:
            for item in self.driver.find_elements(
                By.CSS_SELECTOR, ".lm-Menu li.lm-Menu-item:not(.lm-mod-disabled)"
            ):
                if item.is_displayed() and item.text.split("\n")[0].strip() == label:
                    return item
            return None

        wait_for(entry, 10, f"the {label!r} entry of {menu} → {submenu}").click()

    def shut_down_kernel(self, timeout: float = 30) -> None:
        """Kernel → Shut Down Kernel, then wait for the status bar to say there is none."""
        self.menu_command("Kernel", "Shut Down Kernel")
        wait_for(
            lambda: (
                "No Kernel" in (self.driver.execute_script(_CELL_STATE_JS) or {}).get("kernel", "")
                or self._visible(".jp-Dialog .jp-Dialog-button.jp-mod-accept")
            ),
            timeout,
            "the kernel to shut down",
        )
        dialog = self._visible(".jp-Dialog .jp-Dialog-button.jp-mod-accept")
        if dialog is not None:
            dialog.click()

    def wait_until_executed(self, timeout: float) -> list[str]:
        """Wait until no cell is queued or running and the kernel is idle; return the prompts."""
        seen: list[Any] = []

        def settled() -> list[str] | None:
            state = self.driver.execute_script(_CELL_STATE_JS)
            if not state or not state["prompts"]:
                return None
            prompts = state["prompts"]
            quiet = (
                state["execution"] == "idle"
                and state["kernel"].endswith("Idle")
                and not any("*" in p for p in prompts)
            )
            started = _NUMBERED.match(prompts[0]) is not None
            # The same quiet state twice in a row: not the gap between two queued cells.
            stable = quiet and started and seen and seen[-1] == prompts
            seen.append(prompts)
            return prompts if stable else None

        try:
            return list(wait_for(settled, timeout, "all cells to finish running", interval=0.5))
        except TimeoutError as exc:
            state = self.driver.execute_script(_CELL_STATE_JS)
            raise TimeoutError(f"{exc}; last state: {state}") from None

    # -- reading
    def _visible(self, selector: str) -> WebElement | None:
        for element in self.driver.find_elements(By.CSS_SELECTOR, selector):
            if element.is_displayed():
                return element
        return None

    def outputs(self, selector: str, within: str = "") -> list[WebElement]:
        """Elements matching ``selector`` inside the open notebook's cell outputs; with
        ``within``, only inside the cells whose outputs' text contains it."""
        return list(
            self.driver.execute_script(
                "const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');"
                "if (!panel) { return []; }"
                "return [...panel.querySelectorAll('.jp-Cell .jp-OutputArea')]"
                ".filter(o => o.textContent.includes(arguments[1]))"
                ".flatMap(o => [...o.querySelectorAll(arguments[0])]);",
                selector,
                within,
            )
        )

    def output_text(self) -> str:
        return str(
            self.driver.execute_script(
                "const p = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');"
                "return p ? [...p.querySelectorAll('.jp-OutputArea')]"
                ".map(e => e.textContent).join('\\n') : '';"
            )
        )

    # -- artifacts
    def screenshot(self, name: str, element: WebElement | None = None) -> Path:
        """The window as a user sees it; scrolled so that ``element``'s output is on top."""
        self.artifacts.mkdir(parents=True, exist_ok=True)
        path = self.artifacts / f"{name}.png"
        if element is not None:
            self.driver.execute_script(
                "const o = arguments[0].closest('.jp-OutputArea-child') || arguments[0];"
                "o.scrollIntoView({block: 'start'});",
                element,
            )
        self.driver.save_screenshot(str(path))
        return path


def copy_notebooks(source: Path, target: Path) -> list[str]:
    """Copy the tutorial notebooks (and only them) into ``target``; return their names."""
    target.mkdir(parents=True, exist_ok=True)
    names = []
    for path in sorted(source.glob("*.ipynb")):
        shutil.copy2(path, target / path.name)
        names.append(path.name)
    return names
