"""What every command needs: the resolved settings and, lazily, the plugin facade."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from lotas_core.settings import LoadedSettings, Settings, load_settings, require_finess

if TYPE_CHECKING:
    from lotas_core.plugin_host.facade import Lotas


@dataclass
class CommandContext:
    """Built once per command; plugins are loaded only by commands that need them."""

    config_file: Path | None = None
    #: ``--campaign`` given on the command line: it replaces the ``campaign`` setting.
    campaign: str | None = None
    _loaded: LoadedSettings | None = field(default=None, repr=False)

    @property
    def loaded(self) -> LoadedSettings:
        if self._loaded is None:
            overrides = {"campaign": self.campaign} if self.campaign else {}
            self._loaded = load_settings(self.config_file, **overrides)
        return self._loaded

    @property
    def settings(self) -> Settings:
        return self.loaded.settings

    @cached_property
    def lotas(self) -> Lotas:
        from lotas_core.plugin_host.facade import Lotas

        return Lotas.from_settings(self.settings)

    def finess(self, given: str | None) -> str:
        """The FINESS from the command line, else from the settings; a clear error if neither."""
        return require_finess(given or self.settings.finess)

    def campaign_id(self, given: str | None) -> str:
        """The campaign from the command line (``--campaign``), else from the settings."""
        return given or self.settings.campaign

    def archives(self, given: Path | None, campaign_id: str | None = None) -> Path:
        """The archive folder from the command line, else the configured one (whose default
        is the campaign's sub-folder)."""
        if given:
            return Path(given).expanduser()
        return self.lotas.archive_folder(self.settings, campaign_id)
