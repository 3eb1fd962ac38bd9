"""Every item of a list, across its pages: the API's lists answer one page at a time.

A page is ``{"items": [...], "next_token": ...}``; the next page is asked for with that
token, until a page comes without one.

Examples
--------
>>> from schemas.api import Page
>>> pages = {None: Page[int](items=[1, 2], next_token="a"), "a": Page[int](items=[3])}
>>> list(iterate(lambda token: pages[token]))
[1, 2, 3]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from schemas.api import Page

ItemT = TypeVar("ItemT")


def iterate(fetch: Callable[[str | None], Page[ItemT]]) -> Iterator[ItemT]:
    """Yield every item of every page; ``fetch(token)`` gets one page (None: the first).

    Pages are fetched as the items are consumed, so breaking out early saves the rest.
    Raises ``RuntimeError`` if the API hands back a token it handed before (a loop).
    """
    token: str | None = None
    seen: set[str] = set()
    while True:
        page = fetch(token)
        yield from page.items
        token = page.next_token
        if token is None:
            return
        if token in seen:
            raise RuntimeError(f"the API returned next_token {token!r} twice: not following it")
        seen.add(token)


__all__ = ["iterate"]
