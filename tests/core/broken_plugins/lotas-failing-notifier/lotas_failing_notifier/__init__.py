"""A working transport, and a lotas_draw_transmitted notification that raises."""
from pydantic import BaseModel

from lotas_core import Receipt, Transport, hookimpl


class Options(BaseModel):
    pass


class Drop(Transport):
    name = "drop"
    title_fr = "Dépôt"
    options_model = Options

    def check(self):
        return "Dépôt prêt"

    def send(self, payload):
        return Receipt(transport=self.name, receipt="ACK-1", sha256=payload.sha256)


@hookimpl
def lotas_register_transports(register):
    register(Drop)


@hookimpl
def lotas_draw_transmitted(draw, receipt):
    raise OSError("IPP 0099887766, mot de passe Tr0ub4dor&3")
