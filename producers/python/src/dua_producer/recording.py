"""The common case in one line: `@audited(...)` on a function, or `with client.access(...)`.

    @audited(elements=["user.name", "user.contact.email"],
             purpose="service.inquiry_response", subject="user_id")
    def load_inquirer(user_id: str) -> Inquirer: ...

The decorator validates its fields when the module is imported, and records one access each
time the function is called, before it runs (the function reads the data; a failure after
reading must not hide the access), taking the subject from the named argument. It works on
plain and `async def` functions alike.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from dua_producer.access_shape import check_call_site
from dua_producer.default_client import default_client

if TYPE_CHECKING:
    from dua_producer.client import AuditClient
    from dua_producer.prepared_access import PreparedAccess

F = TypeVar("F", bound=Callable[..., Any])
SubjectLocator = Callable[[tuple[Any, ...], Mapping[str, Any]], object]


class Access:
    """What the block of `client.access(...)` may still fill in before it is recorded."""

    __slots__ = ("attributes", "record_count", "subject", "trace_id")

    def __init__(
        self,
        subject: object,
        record_count: int,
        trace_id: str | None,
        attributes: Mapping[str, str] | None,
    ) -> None:
        self.subject = subject
        self.record_count = record_count
        self.trace_id = trace_id
        self.attributes: dict[str, str] = dict(attributes or {})


@contextmanager
def record_access(
    client: AuditClient,
    elements: Sequence[str],
    purpose: str | None = None,
    *,
    subject: object = None,
    record_count: int = 1,
    trace_id: str | None = None,
    attributes: Mapping[str, str] | None = None,
    **fields: Any,
) -> Iterator[Access]:
    """Validate now, let the block fill in an `Access`, record it when the block ends."""
    client.prepare(elements, purpose, attributes=attributes, **fields)  # fail before the block
    access = Access(subject, record_count, trace_id, attributes)
    try:
        yield access
    finally:
        client.emit(
            elements,
            purpose,
            subject=access.subject,
            record_count=access.record_count,
            trace_id=access.trace_id,
            attributes=access.attributes or None,
            **fields,
        )


def audited(
    elements: Sequence[str],
    purpose: str | None = None,
    *,
    subject: str | None = None,
    client: AuditClient | None = None,
    **fields: Any,
) -> Callable[[F], F]:
    """Record an access on every call of the decorated function (see the module docstring).

    `subject` names the argument holding the raw subject id; `client` defaults to the one
    set with `set_default_client`, looked up at call time. Other keyword arguments are
    `AuditClient.prepare`'s (operation, processing, destination, ...).
    """
    check_call_site(elements, purpose, **fields)
    elements = tuple(elements)

    def decorate(func: F) -> F:
        locate = _subject_locator(func, subject)
        bound: list[Any] = [None, None]  # (client, its PreparedAccess), rebuilt if it changes

        def prepared() -> PreparedAccess:
            current = client if client is not None else default_client()
            if bound[0] is not current:
                bound[:] = [current, current.prepare(elements, purpose, **fields)]
            result: PreparedAccess = bound[1]
            return result

        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                prepared().emit(locate(args, kwargs))
                return await func(*args, **kwargs)

            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            prepared().emit(locate(args, kwargs))
            return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def _subject_locator(func: Callable[..., Any], name: str | None) -> SubjectLocator:
    """A cheap way to find argument `name` in a call, fixed once from the signature."""
    if name is None:
        return lambda _args, _kwargs: None
    parameters = inspect.signature(func).parameters
    parameter = parameters.get(name)
    where = getattr(func, "__qualname__", repr(func))
    if parameter is None:
        raise TypeError(f"@audited: {where}() has no parameter {name!r} to take the subject from")
    if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
        raise TypeError(f"@audited: the subject parameter {name!r} of {where}() is variadic")
    default = None if parameter.default is parameter.empty else parameter.default
    position = (
        list(parameters).index(name)
        if parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD)
        else None
    )

    def locate(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> object:
        if position is not None and position < len(args):
            return args[position]
        return kwargs.get(name, default)

    return locate
