"""`link()` and `route()` give exactly what reverse() gives, for int and UUID routes and for routes
without arguments, under any prefix."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse, set_script_prefix

from clinic.links import link, route


@pytest.mark.parametrize(
    ("viewname", "arg"),
    [("alerts:snooze", 7), ("alerts:resolve", 123456), ("patients:detail", uuid.uuid4())],
)
@pytest.mark.parametrize("prefix", ["/", "/myelin/"])
def test_a_link_is_what_reverse_gives(viewname, arg, prefix):
    set_script_prefix(prefix)
    try:
        assert link(viewname, arg) == reverse(viewname, args=[arg])
        assert link(viewname, arg).startswith(prefix)
    finally:
        set_script_prefix("/")


@pytest.mark.parametrize("viewname", ["home", "alerts:inbox", "patients:list", "audit:report"])
@pytest.mark.parametrize("prefix", ["/", "/myelin/"])
def test_a_route_is_what_reverse_gives(viewname, prefix):
    set_script_prefix(prefix)
    try:
        assert route(viewname) == reverse(viewname)
        assert route(viewname).startswith(prefix)
    finally:
        set_script_prefix("/")
