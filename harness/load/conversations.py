"""Many conversations through one base URL: which conversation a request to the mock model
belongs to, each conversation's own place in the script, and which conversation a tool call
serves.

The rule (documented in the README):

- Every task a load run sends carries a ticket (``T-00042``). A request to the model belongs to
  the conversation whose ticket is in the **latest user message that carries a known ticket**;
  for the Responses API, the conversation includes what ``previous_response_id`` chains to.
- Tickets found in *earlier* user messages of the same request are other users' tasks in this
  conversation's history: the agent mixed conversations. The request records them as ``mixed``.
- A request with no known ticket belongs to the conversation ``unattributed``.
- A tool call belongs to a conversation the model told to make it (the same operation, the
  same arguments) that has not asked the model anything since: the oldest of them not yet
  attempted; else (a retry) one with nothing in flight and no success, else one without a
  success, else the oldest. A call no conversation is waiting for goes where that call last
  went; one the model never asked for (or with other arguments) is ``unattributed``.
- Conversations making the very same call are interchangeable: when one asks the model again
  with no success credited while another still waiting was credited one, the success moves to
  the one that went on (its agent did get the answer).

Each conversation plays the script from its first turn with its own seeded random choices;
``{field}`` in the script's tool arguments and texts is filled from the conversation's task
(its ticket and the record the task was made from).
"""

from __future__ import annotations

import json
import random
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._seed import derive
from ..llm.tokens import message_text
from .spec import TICKET, LoadTask, fill

if TYPE_CHECKING:
    from ..llm.turns import Completion, Turn
    from ..scenario import Script

UNATTRIBUTED = "unattributed"


class ScriptCursor:
    """A position in the model's script: each request takes the next turn (a turn with
    ``times: N`` answers N requests; a sticky turn answers forever)."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self._cursor = 0
        self._used = 0
        self._lock = threading.Lock()

    def next_turn(self) -> tuple[Turn, int | str]:
        """The turn that answers this request, and its script index (or "after_script")."""
        script = self.script
        with self._lock:
            if self._cursor >= len(script.turns):
                return script.after_script, "after_script"
            index = self._cursor
            turn = script.turns[index]
            if not turn.sticky:
                self._used += 1
                if self._used >= turn.times:
                    self._cursor, self._used = self._cursor + 1, 0
            return turn, index


@dataclass
class Conversation:
    ticket: str
    task: LoadTask | None
    cursor: ScriptCursor
    rng: random.Random
    llm_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    mixed: set[str] = field(default_factory=set)
    open_calls: set[tuple[str, str]] = field(default_factory=set)

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def fill(self, reply: Completion) -> Completion:
        """The reply with ``{field}`` filled from this conversation's task."""
        if self.task is None:
            return reply
        from ..llm.turns import Completion, ToolCall

        values = self.task.values
        return Completion(
            content=None if reply.content is None else fill(reply.content, values),
            tool_calls=[ToolCall(c.name, fill(c.arguments, values)) for c in reply.tool_calls],
            finish_reason=reply.finish_reason)


@dataclass
class _Waiting:
    """A conversation waiting for one tool call: its attempts, those in flight, and the trace
    data of those that succeeded."""

    tries: int = 0
    live: int = 0
    succeeded: list[dict[str, Any]] = field(default_factory=list)


def _canonical(arguments: Any) -> str:
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments)
        except ValueError:
            return str(arguments)
    return json.dumps(arguments, sort_keys=True, ensure_ascii=False)


class Conversations:
    def __init__(self, tasks: list[LoadTask], script: Script, seed: int) -> None:
        self.tasks = {t.ticket: t for t in tasks}
        self.script = script
        self.seed = seed
        self.live: dict[str, Conversation] = {}
        #: Calls the model asked for → the conversations told to make them, in order.
        self._open: dict[tuple[str, str], dict[str, _Waiting]] = {}
        self._last: dict[tuple[str, str], str] = {}  # where each call last went
        self._lock = threading.Lock()

    def _get(self, ticket: str) -> Conversation:
        conv = self.live.get(ticket)
        if conv is None:
            conv = self.live[ticket] = Conversation(
                ticket, self.tasks.get(ticket), ScriptCursor(self.script),
                random.Random(derive(self.seed, "conversation", ticket)))
        return conv

    def identify(self, messages: list[Any]) -> tuple[Conversation, list[str]]:
        """The conversation a request belongs to, and the other tickets mixed into it."""
        found: list[str] = []
        for message in messages:
            if not isinstance(message, dict) or message.get("role") != "user":
                continue
            for match in TICKET.finditer(message_text(message)):
                ticket = match[0]
                if ticket in self.tasks and ticket not in found[-1:]:
                    found.append(ticket)
        owner = found[-1] if found else UNATTRIBUTED
        mixed = sorted({t for t in found if t != owner})
        with self._lock:
            conv = self._get(owner)
            conv.llm_calls += 1
            conv.mixed.update(mixed)
            self._close(conv)
        return conv, mixed

    def expect_calls(self, conv: Conversation, calls: list[tuple[str, str]]) -> None:
        """The model told ``conv`` to make these tool calls (name, arguments)."""
        with self._lock:
            for name, arguments in calls:
                call = (name, _canonical(arguments))
                self._open.setdefault(call, {}).setdefault(conv.ticket, _Waiting())
                conv.open_calls.add(call)

    def _close(self, conv: Conversation) -> None:
        """``conv`` asks the model again, so the calls it was told to make are done. If none
        of its attempts succeeded while another conversation waiting for the very same call
        was credited with a success, that success was this one's (they are interchangeable:
        same operation, same arguments): it moves here."""
        for call in conv.open_calls:
            waiting = self._open.get(call, {})
            mine = waiting.pop(conv.ticket, None)
            if mine is not None and not mine.succeeded:
                donor = next((w for w in waiting.values() if len(w.succeeded) > 1), None) or \
                    next((w for w in waiting.values() if w.succeeded), None)
                if donor is not None:
                    donor.succeeded.pop()["conversation"] = conv.ticket
            if not waiting:
                self._open.pop(call, None)
        conv.open_calls.clear()

    def attribute(self, operation: str, arguments: Any) -> str:
        """The conversation a tool call serves (see the module's rule)."""
        call = (operation, _canonical(arguments))
        with self._lock:
            waiting = self._open.get(call)
            if not waiting:
                return self._last.get(call, UNATTRIBUTED)
            # A first attempt, else a retry: the oldest conversation not yet attempted, else
            # one with nothing in flight and no success, else one with no success, else any.
            ticket = next((t for t, w in waiting.items() if not w.tries), None) or \
                next((t for t, w in waiting.items() if not w.live and not w.succeeded),
                     None) or \
                next((t for t, w in waiting.items() if not w.succeeded), None) or \
                next(iter(waiting))
            waiting[ticket].live += 1
            waiting[ticket].tries += 1
            self._last[call] = ticket
            return ticket

    def _state(self, operation: str, arguments: Any, event: dict[str, Any]) -> _Waiting | None:
        waiting = self._open.get((operation, _canonical(arguments)), {})
        return waiting.get(str(event.get("conversation")))

    def succeeded(self, operation: str, arguments: Any, event: dict[str, Any]) -> None:
        """A tool call was carried out and its answer is on its way (``event``: its trace
        data, with its conversation). Credited before the answer leaves: the agent may ask
        the model again as soon as it has it."""
        with self._lock:
            state = self._state(operation, arguments, event)
            if state is not None:
                state.succeeded.append(event)

    def settled(self, operation: str, arguments: Any, event: dict[str, Any]) -> None:
        """A tool call is over."""
        with self._lock:
            state = self._state(operation, arguments, event)
            if state is not None:
                state.live = max(0, state.live - 1)

    def count_tokens(self, conv: Conversation, prompt: int, completion: int) -> None:
        with self._lock:
            conv.prompt_tokens += prompt
            conv.completion_tokens += completion
