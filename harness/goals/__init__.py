"""Goals: what doing the job means; importing this package registers every built-in goal."""

from . import answer, approval_requested, combinators, record_written, tool_called
from .base import GOALS, Goal, GoalResult, parse_goal

__all__ = [
    "GOALS",
    "Goal",
    "GoalResult",
    "answer",
    "approval_requested",
    "combinators",
    "parse_goal",
    "record_written",
    "tool_called",
]
