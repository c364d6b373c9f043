"""Copy text to the operating system's clipboard, and say honestly where it went.

The terminal's clipboard sequence (OSC 52) is always sent too, but nothing tells whether the
terminal honoured it (a default tmux, many Linux terminals and Windows consoles drop it). So the
text also goes through the platform's own command when there is one: ``pbcopy`` (macOS),
``clip.exe`` (Windows, WSL), ``wl-copy`` (Wayland), ``xclip`` or ``xsel`` (X11), and, inside
tmux, tmux's own paste buffer. These commands are what well-kept libraries such as pyperclip
call; calling them directly lets the screen say which one worked.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

#: Seconds a clipboard command may take (xclip forks and returns at once; a hung one is dropped).
COMMAND_TIMEOUT = 3.0


@dataclass(frozen=True)
class ClipboardCommand:
    """A program that reads the text on its standard input and puts it on a clipboard."""

    argv: tuple[str, ...]
    #: Where the text lands, in French, for the notice.
    where_fr: str
    encoding: str = "utf-8"


SYSTEM = "le presse-papiers du système"
TMUX = "le tampon de tmux (collez avec Préfixe puis ])"


def _is_wsl(environ: Mapping[str, str]) -> bool:
    if environ.get("WSL_DISTRO_NAME"):
        return True
    try:
        return "microsoft" in Path("/proc/version").read_text(encoding="ascii", errors="replace")
    except OSError:
        return False


def platform_commands(environ: Mapping[str, str] | None = None,
                      platform: str | None = None) -> list[ClipboardCommand]:
    """The clipboard commands that make sense here, best first (not checked to exist)."""
    env = os.environ if environ is None else environ
    platform = sys.platform if platform is None else platform
    commands: list[ClipboardCommand] = []
    if platform == "darwin":
        commands.append(ClipboardCommand(("pbcopy",), SYSTEM))
    elif platform.startswith("win"):
        commands.append(ClipboardCommand(("clip.exe",), SYSTEM, "utf-16"))
    else:
        if env.get("WAYLAND_DISPLAY"):
            commands.append(ClipboardCommand(("wl-copy",), SYSTEM))
        if env.get("DISPLAY"):
            commands.append(ClipboardCommand(("xclip", "-selection", "clipboard"), SYSTEM))
            commands.append(ClipboardCommand(("xsel", "--clipboard", "--input"), SYSTEM))
        if _is_wsl(env):
            commands.append(ClipboardCommand(("clip.exe",), SYSTEM, "utf-16"))
    if env.get("TMUX"):
        commands.append(ClipboardCommand(("tmux", "load-buffer", "-"), TMUX))
    return commands


Runner = Callable[..., "subprocess.CompletedProcess[bytes]"]


def copy_with_commands(text: str, commands: Sequence[ClipboardCommand],
                       runner: Runner = subprocess.run) -> str | None:
    """Give ``text`` to the first command that exists and succeeds; where it went, or None."""
    for command in commands:
        program = shutil.which(command.argv[0])
        if program is None:
            continue
        try:
            done = runner(
                [program, *command.argv[1:]], input=text.encode(command.encoding),
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                timeout=COMMAND_TIMEOUT, check=False,
            )
        except (OSError, subprocess.SubprocessError):
            continue
        if done.returncode == 0:
            return command.where_fr
    return None


def copy_notice(rows: int, where: str | None) -> tuple[str, str]:
    """``(title, text)`` of the notice after a copy: where the rows went, said plainly."""
    if where is not None:
        return f"{rows} lignes copiées dans {where}", "(et envoyées au terminal, OSC 52)"
    return (
        f"{rows} lignes envoyées au terminal (OSC 52), non vérifiable",
        "Aucun presse-papiers du système trouvé (xclip, xsel, wl-copy…) : si rien ne se "
        "colle, utilisez « Exporter… ».",
    )
