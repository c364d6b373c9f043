"""A third-party transport: drops the payload into a folder (an example for plugin authors)."""
import shutil
from pathlib import Path

from pydantic import BaseModel, Field

from lotas_core import Receipt, Transport, hookimpl

__version__ = "1.2.3"


class FolderOptions(BaseModel):
    folder: Path = Field(Path("/tmp/outbox"), description="Dossier de dépôt")


class FolderTransport(Transport):
    name = "folder_drop"
    title_fr = "Dépôt dans un dossier"
    options_model = FolderOptions

    def check(self):
        return "Dossier accessible"

    def send(self, payload):
        shutil.copy(payload.path, Path(self.options.folder) / payload.path.name)
        return Receipt(transport=self.name, receipt=payload.idempotency_key, sha256=payload.sha256)


@hookimpl
def lotas_register_transports(register):
    register(FolderTransport)
