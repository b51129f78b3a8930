"""Faults a scenario schedules; importing this package registers every built-in fault."""

from . import empty_body, hang, http_error, lost_response, malformed_json, network, slow_body
from .base import FAULTS, Answer, Fault, HttpFault, NetworkFault, Schedule

__all__ = ["FAULTS", "Answer", "Fault", "HttpFault", "NetworkFault", "Schedule", "empty_body",
           "hang", "http_error", "lost_response", "malformed_json", "network", "slow_body"]
