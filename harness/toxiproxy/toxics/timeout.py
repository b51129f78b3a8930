from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from . import Forward, Toxic

if TYPE_CHECKING:
    from ..proxy import Link


class Timeout(Toxic):
    """Stops all data and closes the connection after ``timeout`` ms without data (each
    dropped chunk restarts the countdown); 0 never closes. Removing it closes the connection."""

    type = "timeout"
    timeout: int = Field(0, ge=0)

    def attach(self, link: Link, name: str) -> None:
        self._arm(link, name)

    def _arm(self, link: Link, name: str) -> None:
        if self.timeout > 0:
            link.set_timer(name, self.timeout / 1000, link.connection.close)

    async def handle(self, data: bytes, forward: Forward, link: Link) -> None:
        self._arm(link, link.current_toxic)  # dropped on the floor

    def detach(self, link: Link, name: str) -> None:
        link.cancel_timer(name)
        if not link.closing:
            link.connection.close()
