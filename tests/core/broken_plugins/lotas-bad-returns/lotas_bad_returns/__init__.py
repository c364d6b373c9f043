"""A transport whose check() returns a number and send() a dict (holding an identifier)."""
from pydantic import BaseModel

from lotas_core import Transport, hookimpl


class Options(BaseModel):
    pass


class Sloppy(Transport):
    name = "sloppy"
    title_fr = "Transport négligé"
    options_model = Options

    def check(self):
        return 42

    def send(self, payload):
        return {"receipt": "0099887766", "password": "Tr0ub4dor&3"}


@hookimpl
def lotas_register_transports(register):
    register(Sloppy)
