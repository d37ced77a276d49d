"""ona-pats: the schema-first Python client for Ona's personal access token API."""

from ._client import AsyncClient, Client
from ._exceptions import (
    AbortedError,
    AlreadyExistsError,
    APIError,
    CanceledError,
    ConfigurationError,
    DataLossError,
    DeadlineExceededError,
    FailedPreconditionError,
    InternalError,
    InvalidArgumentError,
    InvalidResponseError,
    JSONMappingError,
    NotFoundError,
    OnaPatsError,
    OutOfRangeError,
    PaginationError,
    PermissionDeniedError,
    ResourceExhaustedError,
    RotationError,
    UnauthenticatedError,
    UnavailableError,
    UnimplementedError,
    UnknownError,
    ValidationError,
)
from ._pagination import AsyncPager, Page, Pager
from ._resources import (
    AsyncPats,
    AsyncPatsWithRawResponse,
    AsyncUsers,
    Pats,
    PatsWithRawResponse,
    RawResponse,
    Users,
)
from ._retries import RetryPolicy
from ._types import PatListFilter, WireProtocol
from ._version import __version__

__all__ = [
    "APIError",
    "AbortedError",
    "AlreadyExistsError",
    "AsyncClient",
    "AsyncPager",
    "AsyncPats",
    "AsyncPatsWithRawResponse",
    "AsyncUsers",
    "CanceledError",
    "Client",
    "ConfigurationError",
    "DataLossError",
    "DeadlineExceededError",
    "FailedPreconditionError",
    "InternalError",
    "InvalidArgumentError",
    "InvalidResponseError",
    "JSONMappingError",
    "NotFoundError",
    "OnaPatsError",
    "OutOfRangeError",
    "Page",
    "Pager",
    "PaginationError",
    "PatListFilter",
    "Pats",
    "PatsWithRawResponse",
    "PermissionDeniedError",
    "RawResponse",
    "ResourceExhaustedError",
    "RetryPolicy",
    "RotationError",
    "UnauthenticatedError",
    "UnavailableError",
    "UnimplementedError",
    "UnknownError",
    "Users",
    "ValidationError",
    "WireProtocol",
    "__version__",
]

for _name in __all__:
    _obj = globals()[_name]
    if isinstance(_obj, type) and _obj.__module__.startswith("ona_pats."):
        _obj.__module__ = "ona_pats"
del _name, _obj
