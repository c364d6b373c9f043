"""Registers a transport class without an options model."""
from lotas_core import Receipt, Transport, hookimpl


class Pigeon(Transport):
    name = "pigeon"
    title_fr = "Pigeon voyageur"

    def check(self):
        return "ok"

    def send(self, payload):
        return Receipt(transport=self.name, receipt="r", sha256=payload.sha256)


@hookimpl
def lotas_register_transports(register):
    register(Pigeon)
