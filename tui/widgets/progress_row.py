"""The busy row under the draws: what lotas is doing, a bar, and the seconds spent on it.

Reading an archive reports a fraction; a verification or a transmission does not (a network
transport may retry for a while), so the row then shows an indeterminate bar and the elapsed
seconds, so that the user sees that lotas is still working and on what. Several tasks may run
at once (a draw during a transmission): the row shows the latest and hides after the last.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label, ProgressBar


@dataclass
class _Task:
    stage: str
    fraction: float | None
    started: float


class ProgressRow(Horizontal):
    """Hidden when idle; ``busy(task, ...)`` shows a task, ``done(task)`` ends it."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._tasks: dict[str, _Task] = {}

    def compose(self) -> ComposeResult:
        yield Label("", id="stage")
        yield ProgressBar(total=1.0, id="progress", show_eta=False)
        yield Label("", id="elapsed")

    def on_mount(self) -> None:
        self.display = False
        self._timer = self.set_interval(1.0, self._tick, pause=True)

    def busy(self, task: str, stage: str, fraction: float | None) -> None:
        """Show ``task`` at ``stage``; ``fraction`` None gives an indeterminate bar."""
        previous = self._tasks.pop(task, None)
        started = previous.started if previous else time.monotonic()
        self._tasks[task] = _Task(stage, fraction, started)
        self._show()

    def done(self, task: str) -> None:
        """``task`` ended (however it ended): show the one still running, else hide."""
        self._tasks.pop(task, None)
        if self._tasks:
            self._show()
        else:
            self.display = False
            self._timer.pause()

    @property
    def tasks(self) -> list[str]:
        return list(self._tasks)

    def _show(self) -> None:
        current = list(self._tasks.values())[-1]
        self.display = True
        self.query_one("#stage", Label).update(current.stage)
        bar = self.query_one("#progress", ProgressBar)
        if current.fraction is None:
            bar.update(total=None)
        else:
            bar.update(total=1.0, progress=max(0.0, current.fraction))
        self._tick()
        self._timer.resume()

    def _tick(self) -> None:
        if not self._tasks:
            return
        seconds = int(time.monotonic() - list(self._tasks.values())[-1].started)
        self.query_one("#elapsed", Label).update(f"depuis {seconds} s" if seconds else "")
