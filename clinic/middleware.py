"""Requests Myelin refuses before any view sees them."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.http import HttpRequest, HttpResponse

from clinic import errors

NUL = "\x00"
NUL_MESSAGE = (
    "Something you sent contains a NUL character (an invisible control character), which "
    "Myelin cannot store. Remove it, for example by typing the text again, and try once more."
)


def _has_nul(values: Iterable[str]) -> bool:
    return any(NUL in value for value in values)


class RefuseNulBytesMiddleware:
    """A NUL character anywhere in what a request sends is a 400 with a clear message.

    PostgreSQL cannot hold NUL in text, so a NUL that reaches a query (a search box, a form
    field, a username at sign-in, a cookie or header that is stored or looked up) fails the
    request with a server error. No clinical text needs it, so it is refused at the door, once,
    for every view.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._carries_nul(request):
            return errors.bad_input(NUL_MESSAGE)
        return self.get_response(request)

    @staticmethod
    def _carries_nul(request: HttpRequest) -> bool:
        if NUL in request.path_info:
            return True
        headers = [
            v for k, v in request.META.items() if k.startswith("HTTP_") and isinstance(v, str)
        ]
        if _has_nul(headers) or _has_nul([*request.COOKIES, *request.COOKIES.values()]):
            return True
        for data in (request.GET, request.POST):
            if _has_nul(data.keys()) or _has_nul(v for _, values in data.lists() for v in values):
                return True
        return False
