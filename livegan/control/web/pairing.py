"""Pairing: a code the show prints, a session token for each device that typed it."""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

COOKIE = "livegan_session"  # HttpOnly, SameSite=Strict: the page's requests carry it
CODE_DIGITS = 6
TOKEN_BYTES = 32
MAX_WRONG = 5  # wrong codes from one address within WRONG_WINDOW_S ...
WRONG_WINDOW_S = 60.0
LOCKED_S = 60.0  # ... and that address waits this long before it may try again
MAX_TOKENS = 256  # sessions remembered (the oldest forgotten first)
MAX_ADDRESSES = 1024  # addresses whose wrong codes are remembered


class PairingRefused(Exception):
    """A pairing attempt that failed: `kind` is "pair_wrong" or "pair_locked"."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class Pairing:
    """The show's pairing code and the sessions of the devices that typed it.

    The code is fresh for each show (6 digits from `secrets`); a right code gives a session
    token (32 random bytes) that the device's later requests carry. MAX_WRONG wrong codes
    from one address within WRONG_WINDOW_S lock that address out for LOCKED_S, so that a
    million codes cannot be tried in a show's lifetime. Thread-safe.

    Args:
        clock: monotonic seconds (tests pass their own).
        code: the code (tests); None draws one.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 code: str | None = None) -> None:
        self.code = code or f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens: OrderedDict[str, None] = OrderedDict()
        self._wrong: OrderedDict[str, deque[float]] = OrderedDict()  # address -> times
        self._locked: dict[str, float] = {}  # address -> until

    def attempt(self, address: str, code: str) -> str:
        """Check a code typed at `address`; returns a new session token.

        Raises:
            PairingRefused: a wrong code, or an address locked out for a minute.
        """
        now = self._clock()
        with self._lock:
            until = self._locked.get(address)
            if until is not None and now < until:
                raise PairingRefused("pair_locked", f"too many wrong codes: wait "
                                     f"{until - now:.0f} s and try again")
            self._locked.pop(address, None)
            if hmac.compare_digest(code.encode(), self.code.encode()):
                self._wrong.pop(address, None)
                token = secrets.token_urlsafe(TOKEN_BYTES)
                self._tokens[token] = None
                while len(self._tokens) > MAX_TOKENS:
                    self._tokens.popitem(last=False)
                return token
            times = self._wrong.setdefault(address, deque())
            self._wrong.move_to_end(address)
            times.append(now)
            while times and now - times[0] > WRONG_WINDOW_S:
                times.popleft()
            while len(self._wrong) > MAX_ADDRESSES:
                self._wrong.popitem(last=False)
            if len(times) >= MAX_WRONG:
                self._locked[address] = now + LOCKED_S
                times.clear()
                if len(self._locked) > MAX_ADDRESSES:
                    self._locked = {a: t for a, t in self._locked.items() if t > now}
                raise PairingRefused("pair_locked", f"{MAX_WRONG} wrong codes: this device "
                                     f"waits {LOCKED_S:.0f} s before it may try again")
        raise PairingRefused("pair_wrong", "wrong pairing code: type the 6 digits the show "
                             "prints (and shows on its HUD)")

    def valid(self, token: str | None) -> bool:
        """Whether `token` is a session this show gave out."""
        if not token or len(token) > 100:
            return False
        with self._lock:
            return token in self._tokens
