"""ETag and If-Match: a write names the version it was based on, so a lost update is
impossible. The header is read here; the service checks its versions on the locked
row, inside the write's transaction."""

import re
from collections.abc import Iterator
from contextlib import contextmanager

from django.http import HttpRequest

from oms.api.problems import PreconditionFailed, PreconditionRequired
from oms.errors import StaleVersion

# An ETag OMS gives: the version, quoted.
_VERSION_TAG = re.compile(r'"(0|[1-9][0-9]*)"')


def etag(version: int) -> str:
    return f'"{version}"'


def _tags(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}


@contextmanager
def if_match(request: HttpRequest, *, required: bool) -> Iterator[frozenset[int] | None]:
    """The versions the request's If-Match names, for the service to check as its
    `expected_version`: None when there is nothing to check (no header where it is
    optional, or `*`), else the set of versions its tags name (empty when none is an
    ETag OMS gave, so that no version matches). A missing header where it is required
    is 428; a StaleVersion the service raises for these versions is 412."""
    header = request.headers.get("If-Match")
    if header is None:
        if required:
            raise PreconditionRequired(
                "Send If-Match with the ETag from your last read of this resource."
            )
        versions = None
    else:
        tags = _tags(header)
        versions = (
            None
            if "*" in tags
            else frozenset(int(m[1]) for tag in tags if (m := _VERSION_TAG.fullmatch(tag)))
        )
    try:
        yield versions
    except StaleVersion as exc:
        if versions is None or exc.version is None:
            raise
        raise PreconditionFailed(
            f"The resource is now at ETag {etag(exc.version)}, not {header}. Read it again, "
            "then decide.",
        ) from exc


def not_modified(request: HttpRequest, version: int) -> bool:
    header = request.headers.get("If-None-Match")
    return header is not None and (etag(version) in _tags(header) or header.strip() == "*")
