"""A transport whose send() raises a ValueError quoting an identifier and a password."""
from pydantic import BaseModel

from lotas_core import Transport, hookimpl


class Options(BaseModel):
    pass


class Leaky(Transport):
    name = "leaky"
    title_fr = "Transport bavard"
    options_model = Options

    def check(self):
        raise ValueError("IPP 0099887766, mot de passe Tr0ub4dor&3")

    def send(self, payload):
        raise ValueError("IPP 0099887766, mot de passe Tr0ub4dor&3")


@hookimpl
def lotas_register_transports(register):
    register(Leaky)
