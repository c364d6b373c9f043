"""The core calls the screens make, in one place.

The UI depends only on ``lotas_core``'s public functions; this thin adapter imports them lazily
(the screen opens fast and ``lotas_core`` never imports textual) and gives tests one seam to fake.
Every method may run in a worker thread: none touches a widget.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lotas_core.selection.columns import RowLayout

if TYPE_CHECKING:
    from lotas_core.draws.history import DrawRecord
    from lotas_core.plugin_host.facade import Lotas
    from lotas_core.reading.records import ProgressCallback
    from lotas_core.selection.pipeline import Selection
    from lotas_core.settings import Settings
    from lotas_core.transmission.contract import ManualForm, Receipt, Transport
    from lotas_core.transmission.credentials import Credentials
    from lotas_core.transmission.delivery import Delivery

#: The window title when the settings name a campaign that is not installed.
FALLBACK_TITLE = "LOTAS"


class Backend:
    """What the screens ask of lotas: draws, history, exports, transmission."""

    def __init__(self, lotas: Lotas) -> None:
        self.lotas = lotas

    # -- the campaign ------------------------------------------------------------------------

    def campaign_title(self, campaign_id: str) -> str:
        """The campaign's window title ("LOTAS PSY SMA 2021"); plain "LOTAS" when the campaign
        is not installed (the screen still opens, and says why when a draw is asked)."""
        campaign = self.lotas.campaigns().get(campaign_id)
        return str(campaign.title) if campaign is not None else FALLBACK_TITLE

    def row_layout(self, campaign_id: str, rows: Iterable[Mapping[str, Any]] = ()) -> RowLayout:
        """The columns of a campaign's drawn table (guessed from ``rows`` if not installed)."""
        return self.lotas.row_layout(campaign_id, rows)

    def archive_folder(self, settings: Settings) -> Path:
        """The folder searched for archives (the campaign's default sub-folder, or the chosen
        one)."""
        campaign = self.lotas.campaigns().get(settings.campaign)
        if campaign is None:
            return settings.archive_folder_for(settings.campaign)
        return self.lotas.archive_folder(settings, campaign.id)

    # -- draws and history -------------------------------------------------------------------

    def make_draw(self, settings: Settings, *, folder: Path, finess: str,
                  seed: bytes | None = None, progress: ProgressCallback | None = None,
                  ) -> tuple[DrawRecord, Selection]:
        """Read the archive, select, draw and store: ``(DrawRecord, Selection)``."""
        from lotas_core.draws.service import make_draw

        return make_draw(self.lotas, settings, folder=folder, finess=finess, seed=seed,
                         progress=progress)

    def list_draws(self, settings: Settings, finess: str | None, campaign_id: str | None
                   ) -> list[DrawRecord]:
        """The draws of ``finess`` for the campaign, newest first (empty when no history yet)."""
        from lotas_core.draws.service import open_history

        if not settings.history_path.exists():
            return []
        return open_history(settings).list(finess=finess, campaign_id=campaign_id)

    def archive_to_use(self, campaign_id: str, folder: Path, finess: str) -> Path | None:
        """The archive a draw would read in ``folder`` (``ArchiveError`` if there is none)."""
        return self.lotas.locate_archive(campaign_id, folder, finess)

    def verify(self, settings: Settings, draw_id: str, folder: Path | None = None
               ) -> tuple[bool, str]:
        """Re-run the selection and the draw; ``(ok, French summary)``."""
        from lotas_core.draws.service import verify_draw

        differences = verify_draw(self.lotas, settings, draw_id, folder=folder)
        notes = "".join(f"\nNote : {note}" for note in differences.notes)
        if not differences:
            return True, ("Tirage vérifié : la relecture de l'archive redonne le même tirage."
                          + notes)
        return False, "Différences : " + " ; ".join(differences) + notes

    # -- exports ------------------------------------------------------------------------------

    def to_tsv(self, record: DrawRecord) -> str:
        """Exactly what ``lotas export --format tsv`` writes."""
        from lotas_core.draws.exports import to_tsv

        return to_tsv(record, self.row_layout(record.campaign_id, record.rows))

    def export(self, record: DrawRecord, fmt: str, path: Path) -> Path:
        from lotas_core.draws.exports import export

        export(record, fmt, path, self.row_layout(record.campaign_id, record.rows),
               self.lotas.funnel_labels(record.campaign_id))
        return path

    def funnel_labels(self, campaign_id: str) -> dict[str, str]:
        """The French labels of a campaign's funnel steps, in reading order."""
        return self.lotas.funnel_labels(campaign_id)

    # -- transmission -------------------------------------------------------------------------

    def test_connection(self, settings: Settings, transport_name: str | None,
                        credentials: Credentials | None = None) -> str:
        from lotas_core.transmission.sending import test_connection

        return test_connection(self.lotas, settings, transport_name, credentials=credentials)

    def transmit(self, settings: Settings, draw_id: str, transport_name: str | None,
                 credentials: Credentials | None = None,
                 warn: Callable[[str], None] | None = None) -> Receipt:
        """Send and store the receipt; a failing notification plugin is given to ``warn``."""
        from lotas_core.transmission.sending import transmit

        return transmit(self.lotas, settings, draw_id, transport_name, credentials=credentials,
                        warn=warn)

    def delivery(self, record: DrawRecord) -> Delivery:
        """Where a draw's transmission stands, as its history events tell (no network)."""
        from lotas_core.transmission.delivery import summarize

        return summarize(record.draw_id, list(record.transmissions))

    def refresh_deliveries(self, settings: Settings, draw_ids: list[str],
                           credentials: Credentials | None = None) -> dict[str, Delivery]:
        """Ask the intermediary (e-POP relay) about the pending draws; changes are recorded."""
        from lotas_core.draws.service import open_history
        from lotas_core.transmission.delivery import refresh_many

        history = open_history(settings)
        records = [history.get(draw_id) for draw_id in draw_ids]
        return refresh_many(self.lotas, settings, history, records, credentials)

    def trust_certificate(self, config_file: Path | None, transport_name: str, option: str,
                          fingerprint: str) -> Path:
        """Record a trusted certificate fingerprint in the settings file (not a secret)."""
        from lotas_core.settings import default_config_path
        from lotas_core.transmission.sending import trust_certificate

        return trust_certificate(config_file or default_config_path(), transport_name, option,
                                 fingerprint)

    def transports(self) -> dict[str, type[Transport]]:
        """Every registered transport class by name (empty if the plugins fail to load)."""
        return dict(self.lotas.transports())

    def run_transport_action(self, transport_name: str, action_id: str) -> dict[str, Any]:
        """Run a button the transport declares (``Transport.actions``): the options it found,
        by option name; empty when the transport or the action is missing or found nothing."""
        return self.lotas.run_transport_action(transport_name, action_id)

    def manual_forms(self) -> dict[str, str]:
        """Role of the manual's "Paramétrage ePop" form -> the transport declaring it."""
        return self.lotas.manual_forms()

    def manual_form(self, transport_name: str) -> ManualForm | None:
        """Transport ``transport_name``'s declaration for the manual's form, if any."""
        return self.lotas.manual_form(transport_name)

    def form_values(self, transport_name: str, options: Mapping[str, Any]) -> dict[str, Any]:
        """The manual form's values (by form key) from the transport's stored options."""
        return self.lotas.manual_form_values(transport_name, options)

    def form_hints(self, transport_name: str, options: Mapping[str, Any]) -> dict[str, str]:
        """French hints (by form key) for stored values the manual's form cannot show."""
        return self.lotas.manual_form_hints(transport_name, options)

    def form_options(self, transport_name: str, options: Mapping[str, Any],
                     values: Mapping[str, Any]) -> dict[str, Any]:
        """The transport's options updated with the manual form's values."""
        return self.lotas.manual_form_options(transport_name, options, values)
