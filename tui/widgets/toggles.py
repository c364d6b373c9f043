"""Check boxes and radio buttons readable without colour: ``[X]``/``[ ]``, ``(•)``/``( )``.

Textual draws a ticked and an unticked box with the same glyph in two colours; on a monochrome
terminal, for a colour-blind user or in a screenshot they look alike. These subclasses keep
Textual's behaviour and messages (``Checkbox.Changed``, ``RadioSet.Changed``) and only change the
drawing. ``Choice`` also starts its keyboard cursor on the chosen option, not on the first one,
so that Space on a fresh form never switches the choice.
"""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Checkbox, RadioButton, RadioSet

TICKED = "[X]"
UNTICKED = "[ ]"
CHOSEN = "(•)"
NOT_CHOSEN = "( )"


class Box(Checkbox):
    """A check box drawn ``[X]`` when ticked and ``[ ]`` when not."""

    @property
    def _button(self) -> Content:
        style = self.get_visual_style("toggle--button")
        return Content.styled(TICKED if self.value else UNTICKED, style)


class Radio(RadioButton):
    """A radio button drawn ``(•)`` when chosen and ``( )`` when not."""

    @property
    def _button(self) -> Content:
        style = self.get_visual_style("toggle--button")
        return Content.styled(CHOSEN if self.value else NOT_CHOSEN, style)


class Choice(RadioSet):
    """A radio set whose keyboard cursor starts on the chosen option."""

    def on_mount(self) -> None:
        # RadioSet's own mount handler (run after this one) puts the cursor on the first option.
        self.call_later(self._cursor_on_chosen)

    def _cursor_on_chosen(self) -> None:
        buttons = list(self.query(RadioButton))
        for index, button in enumerate(buttons):
            if button.value:
                self._selected = index
                break
