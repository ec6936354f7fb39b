"""ETag and If-Match: a write names the version it was based on, so a lost update is
impossible. The check runs on the locked row, inside the write's transaction."""

from django.http import HttpRequest

from oms.api.problems import PreconditionFailed, PreconditionRequired


def etag(version: int) -> str:
    return f'"{version}"'


def _tags(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}


def check_if_match(request: HttpRequest, version: int, *, required: bool) -> None:
    header = request.headers.get("If-Match")
    if header is None:
        if required:
            raise PreconditionRequired(
                "Send If-Match with the ETag from your last read of this resource."
            )
        return
    tags = _tags(header)
    if "*" not in tags and etag(version) not in tags:
        raise PreconditionFailed(
            f"The resource is now at ETag {etag(version)}, not {header}. Read it again, "
            "then decide.",
        )


def not_modified(request: HttpRequest, version: int) -> bool:
    header = request.headers.get("If-None-Match")
    return header is not None and (etag(version) in _tags(header) or header.strip() == "*")
