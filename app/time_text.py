"""How the app shows a time it stored: the takes' details and the versions' index keep ISO 8601 times
(`datetime.isoformat(timespec="seconds")`, local, with the zone), which read poorly in a list."""

from __future__ import annotations

WIDTHS = {"minutes": 16, "seconds": 19}  # characters of "2026-12-03T13:24:12" kept for each precision


def shown_time(iso: str, timespec: str = "seconds") -> str:
    """ "2026-12-03T13:24:12+01:00" -> "2026-12-03 13:24:12" ("2026-12-03 13:24" to the minutes): the time as
    the clock read where it was stored, without the zone. "" stays ""."""
    return iso[: WIDTHS[timespec]].replace("T", " ")
