"""Errors a user can meet.

Every error carries two messages: a French sentence for the DIM user (the UI and the CLI show it)
and an English one for developers and logs. Neither ever contains an IPP or a password.
"""

from __future__ import annotations


class LotasError(Exception):
    """Base of every expected error; the CLI turns it into one line and an exit code."""

    exit_code: int = 2

    def __init__(self, message_fr: str, message_en: str | None = None) -> None:
        super().__init__(message_fr)
        self.message_fr = message_fr
        self.message_en = message_en or message_fr

    @property
    def user_message(self) -> str:
        """The French sentence shown to the user."""
        return self.message_fr

    @property
    def developer_message(self) -> str:
        """The English sentence for logs and bug reports."""
        return self.message_en


class UsageError(LotasError):
    """Bad usage or bad input (exit code 2): names what is wrong and what to do."""


class ConfigError(UsageError):
    """The settings (file or environment) are invalid."""


class PluginError(LotasError):
    """A plugin failed to load, implements a misspelt hook or registers a duplicate id."""

    def __init__(self, plugin: str, message_fr: str, message_en: str | None = None) -> None:
        super().__init__(message_fr, message_en)
        self.plugin = plugin


class ArchiveError(UsageError):
    """No usable PIVOINE archive: missing folder, no match, corrupt zip, missing member."""


class CheckFailed(LotasError):
    """A verification found a difference (exit code 1)."""

    exit_code = 1


def os_reason_fr(exc: BaseException) -> str:
    """Why an operating-system call failed, in French: the one table of reasons,
    ``lotas_core.reasons`` (kept here for the callers that import it from the errors)."""
    from lotas_core.reasons import os_reason_fr as reason

    return reason(exc) if isinstance(exc, OSError) else "erreur du système"
