"""Adds a command that raises, with a patient identifier and a password in its message."""
from lotas_core import hookimpl


def run(ctx, args):
    raise PermissionError("IPP 0099887766, mot de passe Tr0ub4dor&3")


@hookimpl
def lotas_register_commands(subparsers):
    command = subparsers.add_parser("audit-export", help="exporte le journal d'audit")
    command.set_defaults(func=run)
