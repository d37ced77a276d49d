"""ona-pats: the schema-first Python client for Ona's personal access token API."""

from ._aliases import PatListFilter, WireProtocol
from ._async._client import AsyncClient
from ._async._gitpod import AsyncGitpod, AsyncPersonalAccessTokensPage
from ._async._pagination import AsyncPager
from ._async._resources import AsyncPats, AsyncPatsWithRawResponse, AsyncUsers
from ._bulk import DeleteOutcome, Outcome
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
from ._json import ProtoJSONCodec, from_dict, from_json, to_dict, to_json
from ._pagination import Page
from ._results import RawResponse
from ._sync._client import Client
from ._sync._gitpod import Gitpod, SyncPersonalAccessTokensPage
from ._sync._pagination import Pager
from ._sync._resources import Pats, PatsWithRawResponse, Users
from ._timestamps import (
    datetime_to_timestamp,
    optional_datetime,
    timestamp_to_datetime,
    timestamp_to_datetime_ns,
)
from ._version import __version__

__all__ = [
    "APIError",
    "AbortedError",
    "AlreadyExistsError",
    "AsyncClient",
    "AsyncGitpod",
    "AsyncPager",
    "AsyncPats",
    "AsyncPatsWithRawResponse",
    "AsyncPersonalAccessTokensPage",
    "AsyncUsers",
    "CanceledError",
    "Client",
    "ConfigurationError",
    "DataLossError",
    "DeadlineExceededError",
    "DeleteOutcome",
    "FailedPreconditionError",
    "Gitpod",
    "InternalError",
    "InvalidArgumentError",
    "InvalidResponseError",
    "JSONMappingError",
    "NotFoundError",
    "OnaPatsError",
    "OutOfRangeError",
    "Outcome",
    "Page",
    "Pager",
    "PaginationError",
    "PatListFilter",
    "Pats",
    "PatsWithRawResponse",
    "PermissionDeniedError",
    "ProtoJSONCodec",
    "RawResponse",
    "ResourceExhaustedError",
    "RotationError",
    "SyncPersonalAccessTokensPage",
    "UnauthenticatedError",
    "UnavailableError",
    "UnimplementedError",
    "UnknownError",
    "Users",
    "ValidationError",
    "WireProtocol",
    "__version__",
    "datetime_to_timestamp",
    "from_dict",
    "from_json",
    "optional_datetime",
    "timestamp_to_datetime",
    "timestamp_to_datetime_ns",
    "to_dict",
    "to_json",
]


def _read_as_ona_pats() -> None:
    # So that a repr reads ona_pats.Client, not ona_pats._client.Client.
    namespace = globals()
    for name in __all__:
        obj = namespace[name]
        if str(getattr(obj, "__module__", "")).startswith("ona_pats."):
            obj.__module__ = "ona_pats"


_read_as_ona_pats()
del _read_as_ona_pats
