"""The one OSC dispatcher: an address -> route table, handed to the server as its handler."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from livegan.control.osc.batch import Sender
from livegan.ratelog import RateLimitedLog

log = logging.getLogger(__name__)

def number(value: object) -> float | None:
    """An argument as a finite float: an int, float or bool (True is 1.0); None for NaN,
    infinities, strings and anything else. Every route, mapping and page value reads
    numbers through it."""
    if isinstance(value, (bool, int, float)) and math.isfinite(value):
        return float(value)
    return None


#: A route for one address: True when it used the arguments, False when they were wrong.
Route = Callable[[tuple, Sender], bool]


class _Told:
    """A route's answer for arguments it refused and already said why (logged and counted
    in its own words): the dispatcher counts the message as dropped without a second line."""

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "TOLD"


TOLD = _Told()
#: A route for a family of addresses HEAD/{tail} (such as /livegan/z/{i}): gets the tail.
IndexedRoute = Callable[[str, tuple], bool]


@dataclass(frozen=True)
class RouteTable:
    """Which route serves each address: exact addresses first, then HEAD/{tail} families.

    Built once from the default namespace and the patch (`Router.table`), and replaced
    whole when the patch is reloaded, so a message never sees half of one table.
    """

    exact: Mapping[str, Route] = field(default_factory=dict)
    indexed: Mapping[str, IndexedRoute] = field(default_factory=dict)  # HEAD -> route
    types: Callable[[str], str] = lambda address: "see `livegan osc`"  # for warnings
    deep: Mapping[str, IndexedRoute] = field(default_factory=dict)  # HEAD -> route of
    # HEAD/{a/b...}: the whole rest of the address (such as /livegan/bend/{layer}/{op})

    def over(self, routes: Mapping[str, Route]) -> RouteTable:
        """This table with `routes` in front (a patch's addresses win over the defaults)."""
        return RouteTable({**self.exact, **routes}, self.indexed, self.types, self.deep)

    def find(self, address: str) -> Route | None:
        """The route for `address`, or None when no route serves it."""
        route = self.exact.get(address)
        if route is not None:
            return route
        head, _, tail = address.rpartition("/")
        family = self.indexed.get(head)
        if family is None:
            for head, deep in self.deep.items():
                if address.startswith(head + "/"):
                    rest = address[len(head) + 1:]
                    return lambda args, sender: deep(rest, args)
            return None
        return lambda args, sender: family(tail, args)


class Dispatcher:
    """The OscServer handler: looks each message's address up in one `RouteTable`.

    Unknown addresses and wrong arguments are counted (``counts``) and logged at a
    limited rate; a route's own exceptions reach the server, which counts them too.

    Args:
        table: the routes; assign `table` to replace them (patch reloads).
    """

    def __init__(self, table: RouteTable) -> None:
        self.table = table
        self.counts = {"unknown": 0, "bad_args": 0}
        self._ratelog = RateLimitedLog(log)

    def __call__(self, address: str, args: tuple, sender: Sender) -> None:
        table = self.table
        route = table.find(address)
        if route is None:
            self.counts["unknown"] += 1
            self._ratelog.warning("unknown", "ignored OSC to unknown address %s", address[:80])
        elif not (done := route(args, sender)):
            self.counts["bad_args"] += 1
            if done is not TOLD:
                self._ratelog.warning("bad_args", "ignored OSC %s with arguments %.80r "
                                      "(expected %s)", address[:80], args, table.types(address))

    def dropped(self) -> int:
        """Messages not acted on: unknown addresses and wrong arguments."""
        return sum(self.counts.values())
