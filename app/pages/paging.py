"""Paged lists on pages: `?page=N`, links that keep the other query parameters."""

from dataclasses import dataclass

from flask import request, url_for
from werkzeug.exceptions import BadRequest

MAX_PAGE = 1_000_000


@dataclass
class Pager:
    page: int
    per_page: int
    total: int = 0
    #: The query parameter holding the page number (two lists on one page need two).
    arg: str = "page"

    @classmethod
    def from_request(cls, per_page: int = 20, arg: str = "page") -> "Pager":
        raw = request.args.get(arg, "1").strip() or "1"
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
            raise BadRequest(f"The page number ({arg}) must be a whole number from 1.")
        return cls(page=int(raw), per_page=per_page, arg=arg)

    @property
    def skip(self) -> int:
        return (self.page - 1) * self.per_page

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    def url(self, page: int) -> str:
        args = request.args.to_dict() | (request.view_args or {}) | {self.arg: page}
        return url_for(request.endpoint, **args)

    def fill(self, result: tuple[list, int]) -> list:
        """Take a service's (items, total) and keep the total for the links."""
        items, self.total = result
        return items
