"""Registers a transport instance instead of its class."""
from pydantic import BaseModel

from lotas_core import Receipt, Transport, hookimpl


class Options(BaseModel):
    pass


class Pigeon(Transport):
    name = "pigeon"
    title_fr = "Pigeon voyageur"
    options_model = Options

    def check(self):
        return "ok"

    def send(self, payload):
        return Receipt(transport=self.name, receipt="r", sha256=payload.sha256)


@hookimpl
def lotas_register_transports(register):
    register(Pigeon(Options()))
