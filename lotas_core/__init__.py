"""lotas core: the framework that knows nothing about psychiatry, 2019 or e-PMSI.

Plugins import their building blocks from here: ``hookimpl``, the base types and the errors.
"""

from lotas_core.errors import LotasError, PluginError, UsageError
from lotas_core.plugin_host.hookspecs import hookimpl
from lotas_core.reading.records import RecordSource
from lotas_core.selection.campaign import Campaign, EligibilityRule, SampleSizes
from lotas_core.selection.columns import RowColumn
from lotas_core.transmission.contract import Receipt, Transport, TransportAction, TransportError

__version__ = "0.1.0"

__all__ = [
    "Campaign",
    "EligibilityRule",
    "LotasError",
    "PluginError",
    "Receipt",
    "RecordSource",
    "RowColumn",
    "SampleSizes",
    "Transport",
    "TransportAction",
    "TransportError",
    "UsageError",
    "__version__",
    "hookimpl",
]
