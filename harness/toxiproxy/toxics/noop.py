from __future__ import annotations

from . import Toxic


class Noop(Toxic):
    """Passes everything through unchanged."""

    type = "noop"
