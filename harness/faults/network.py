"""Network faults: each is the Toxiproxy toxic of the same name, with its attributes, on the
target's proxy. They act on the bytes, so the agent sees what a real network does to it."""

from __future__ import annotations

from pydantic import Field

from .base import NetworkFault


class Latency(NetworkFault):
    """Delay every piece of data by ``latency`` ms ± ``jitter`` ms."""

    key = "latency"
    effect = "slow"
    latency: int = Field(ge=0, le=3_600_000, description="milliseconds")
    jitter: int = Field(0, ge=0, le=3_600_000, description="± milliseconds, seeded")


class Bandwidth(NetworkFault):
    """Limit the connection to ``rate`` KB/s."""

    key = "bandwidth"
    effect = "slow"
    rate: int = Field(ge=0, description="KB per second")


class SlowClose(NetworkFault):
    """Delay closing the connection by ``delay`` ms."""

    key = "slow_close"
    effect = "slow"
    delay: int = Field(ge=0, le=3_600_000, description="milliseconds")


class Timeout(NetworkFault):
    """Stop all data; close the connection after ``timeout`` ms (0: never). A hung service.
    Switching it off closes every connection it held, as Toxiproxy does, so it cannot be
    scheduled by call (``hang`` can)."""

    key = "timeout"
    effect = "lost"
    by_call = False
    timeout: int = Field(0, ge=0, le=3_600_000, description="milliseconds; 0 holds forever")


class ResetPeer(NetworkFault):
    """Reset the connection (TCP RST) when data arrives, after ``timeout`` ms."""

    key = "reset_peer"
    effect = "lost"
    timeout: int = Field(0, ge=0, le=3_600_000, description="milliseconds")


class Slicer(NetworkFault):
    """Cut data into pieces of about ``average_size`` bytes, ``delay`` µs apart."""

    key = "slicer"
    effect = "slow"
    average_size: int = Field(ge=1)
    size_variation: int = Field(0, ge=0)
    delay: int = Field(0, ge=0, description="microseconds between pieces")


class LimitData(NetworkFault):
    """Close the connection after ``bytes`` bytes: the answer is cut off."""

    key = "limit_data"
    effect = "lost"
    bytes: int = Field(ge=0)
