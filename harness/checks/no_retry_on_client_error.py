from __future__ import annotations

import json

from ..trace import Event
from .base import Check, CheckContext, Verdict, calls, describe_call

#: Answers that say the request itself is wrong: sending it again cannot help.
CLIENT_ERRORS = frozenset({400, 401, 403, 404, 405, 413, 415, 422})


def _same_request(event: Event) -> str:
    """What makes two requests the same: the conversation sent to the model, or the tool
    operation with its arguments."""
    d = event.data
    if event.kind == "llm":
        return json.dumps(["llm", d.get("api"), d.get("message_count"), d.get("input")],
                          sort_keys=True, default=str)
    args = d.get("raw") if d.get("arguments") is None else d.get("arguments")
    return json.dumps(["tool", d.get("tool"), d.get("operation"), args], sort_keys=True,
                      default=str)


def _describe(event: Event) -> str:
    if event.kind == "llm":
        return f"the model request [{event.id}]"
    return describe_call(event)


class NoRetryOnClientError(Check):
    """A request refused as the client's own mistake (400, 401, 403, 404, 405, 413, 415, 422)
    is not sent again unchanged, as if the failure were transient: the same conversation to the
    model, or the same tool operation with the same arguments. (408, 409 and 429 are
    transient; a changed request, such as corrected arguments, is not a retry.)"""

    key = "no_retry_on_client_error"

    def evaluate(self, ctx: CheckContext) -> Verdict:
        refused: dict[str, Event] = {}
        resent: list[tuple[Event, Event]] = []
        for e in calls(ctx):
            if e.data.get("unserved"):
                continue
            same = _same_request(e)
            if same in refused:
                resent.append((refused[same], e))
            if int(e.data.get("status", 0)) in CLIENT_ERRORS:
                refused.setdefault(same, e)
        if not resent:
            return self.verdict(True, "no request refused as a client error was sent again "
                                      "unchanged")
        first, again = resent[0]
        return self.verdict(
            False, f"{len(resent)} request(s) refused as client errors were sent again "
                   f"unchanged: {_describe(first)} got HTTP {first.data.get('status')}, and "
                   f"was sent again as [{again.id}]",
            [i for pair in resent[:3] for i in (pair[0].id, pair[1].id)])
