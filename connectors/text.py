"""Text from outside made safe to store and print: one line, no control characters.

Header values, names and titles come from anyone who can send mail or an invitation. A CR or
LF in one splits a header block or an email header built from it (an event title once left its
prompt stuck in "sending"), and an ESC or other control character in one drives the terminal
that prints it. Every connector cleans such text where it enters, so nothing later has to.
"""

from __future__ import annotations

import re

__all__ = ["one_line"]

# C0 and C1 control characters and DEL, and the Unicode line and paragraph separators.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def one_line(value: str) -> str:
    """`value` on one line: each control character a space, runs of white space one space."""
    return " ".join(_CONTROL.sub(" ", value).split())
