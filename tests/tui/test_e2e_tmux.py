"""End to end in a real terminal: tmux runs ``lotas --demo``, keys are sent, the screen is read."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

FOOTER = "NB DOSSIERS TAS : 110 [ECHANT PRINC : 80 + ECHANT RESERV : 30]"
HEADER = ("NUMTAS", "TYPECH", "IPP", "SEXE", "AGE", "DATACTE")


def lotas_executable() -> Path:
    return Path(sys.executable).parent / "lotas"


class Tmux:
    """One private tmux server (``-L``) holding one detached session."""

    def __init__(self) -> None:
        self.socket = f"lotas-e2e-{uuid.uuid4().hex[:10]}"

    def run(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=30
        )
        if done.returncode != 0:
            raise RuntimeError(f"tmux {args[0]} failed: {done.stderr.strip()}")
        return done.stdout

    def capture(self) -> str:
        return self.run("capture-pane", "-p", "-t", "lotas")

    def wait_for(self, *texts: str, seconds: float = 60.0) -> str:
        """Poll the pane until every text shows (bounded: at most ``seconds``)."""
        deadline = time.monotonic() + seconds
        screen = ""
        while time.monotonic() < deadline:
            screen = self.capture()
            if all(text in screen for text in texts):
                return screen
            time.sleep(0.25)
        raise AssertionError(f"not on screen after {seconds} s: {texts}\n{screen}")

    def kill(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True,
                       timeout=30)
        # tmux may leave its socket file behind; it is ours, remove it.
        folder = Path(os.environ.get("TMUX_TMPDIR", "/tmp")) / f"tmux-{os.getuid()}"
        (folder / self.socket).unlink(missing_ok=True)


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (.ci/run "
                    "installs it)")
@pytest.mark.parametrize("size", [(120, 40), (100, 30), (80, 24)])
def test_lotas_demo_in_tmux_draws_and_shows_the_table(tmp_path, data_dir, config_file, size):
    assert lotas_executable().is_file(), "lotas is installed next to the test's python"
    env_vars = {
        "LOTAS_DATA_DIR": str(data_dir),
        "LOTAS_CONFIG_FILE": str(config_file),
        "HOME": os.environ["HOME"],
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
        "TERM": "xterm-256color",
    }
    exports = " ".join(f"{name}='{value}'" for name, value in env_vars.items())
    marker = tmp_path / "exit-code"
    # COLUMNS/LINES from the test runner would override the tmux window size in Textual.
    command = (
        f"env -u COLUMNS -u LINES {exports} '{lotas_executable()}' --demo; "
        f"echo $? > '{marker}'"
    )
    tmux = Tmux()
    width, height = size
    try:
        tmux.run("new-session", "-d", "-s", "lotas", "-x", str(width), "-y", str(height),
                 command)
        tmux.wait_for("Nouveau tirage au sort", "Historique des tirages au sort")
        tmux.run("send-keys", "-t", "lotas", "n")
        # The copy notice covers the top right for a few seconds, then the history shows whole.
        screen = tmux.wait_for(FOOTER, "IPP", "SEXE", "non transmis")
        # When one-line headers would not leave LISTEDA whole, they are split on two lines
        # (NUM / TAS, DAT / ACTE): DATACTE and LISTEDA stay on screen at 80 columns too.
        split = ("NUM", "TAS", "TYPE", "CH", "DAT", "ACTE")
        assert all(name in screen for name in HEADER) or all(name in screen for name in split)
        assert "000000001- " in screen  # the history entry, as the manual writes it
        assert "q Quitter" in screen.rstrip().splitlines()[-1], "the key bar shows Quitter"
        assert (data_dir / "archives" / "PSY").is_dir()
        # The demo does not write the user's settings.
        assert not config_file.exists()
        tmux.run("send-keys", "-t", "lotas", "q")
        deadline = time.monotonic() + 30
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert marker.read_text().strip() == "0"
        # The first rows are whole on screen: IPP and DATACTE are never cut.
        from lotas_core.draws.service import open_history
        from lotas_core.settings import load_settings

        record = open_history(load_settings().settings).list()[0]
        for row in record.rows[:3]:
            assert row["IPP"] in screen
            assert "/".join(reversed(row["DATACTE"].split("-"))) in screen
    finally:
        tmux.kill()


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (.ci/run "
                    "installs it)")
def test_lotas_demo_starts_in_tmux_with_a_broken_plugin(tmp_path, data_dir, config_file,
                                                       install_broken) -> None:
    site = install_broken("lotas-duplicate-campaign")
    env_vars = {
        "LOTAS_DATA_DIR": str(data_dir),
        "LOTAS_CONFIG_FILE": str(config_file),
        "HOME": os.environ["HOME"],
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
        "PYTHONPATH": str(site),
        "TERM": "xterm-256color",
    }
    exports = " ".join(f"{name}='{value}'" for name, value in env_vars.items())
    marker = tmp_path / "exit-code"
    command = (f"env -u COLUMNS -u LINES {exports} '{lotas_executable()}' --demo; "
               f"echo $? > '{marker}'")
    tmux = Tmux()
    try:
        tmux.run("new-session", "-d", "-s", "lotas", "-x", "120", "-y", "40", command)
        tmux.wait_for("Plugin désactivé", "duplicate_campaign")
        tmux.run("send-keys", "-t", "lotas", "Enter")
        deadline = time.monotonic() + 30
        while "Plugin désactivé" in tmux.capture() and time.monotonic() < deadline:
            time.sleep(0.2)
        tmux.run("send-keys", "-t", "lotas", "n")
        tmux.wait_for(FOOTER)
        tmux.run("send-keys", "-t", "lotas", "q")
        deadline = time.monotonic() + 30
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert marker.read_text().strip() == "0"
    finally:
        tmux.kill()
