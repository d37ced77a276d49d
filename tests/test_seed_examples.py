"""The seed documents' JSON examples parse with from_json and print back to the same JSON.

The examples are copied verbatim from the Ona API reference pages the project started from
(``ona-docs-pats-go.txt``: the Get and Delete responses; ``ona-docs-list-personal-access-
tokens-python.txt``: the List response, identical in the Go page).

"The same JSON" means the same JSON value (RFC 8259 section 4: an object is an unordered
collection), with every key the seed shows, defaults included. The order differs on purpose:
``to_json`` writes keys in field-number order, as every protobuf runtime does, while the seed
pages list ``id`` first and then the other keys alphabetically (their docs generator's order).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from google.protobuf import json_format
from google.protobuf.message import Message

from ona_pats import from_json, to_json
from ona_pats.types import (
    DeletePersonalAccessTokenResponse,
    GetPersonalAccessTokenResponse,
    ListPersonalAccessTokensResponse,
)

# ona-docs-pats-go.txt, "Get" > "Response" (the page keeps it on one line).
SEED_GET_RESPONSE = (
    '{ "pat": { "id": "182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e", "createdAt": '
    '"2019-12-27T18:11:19.117Z", "creator": { "id": "182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e", '
    '"principal": "PRINCIPAL_UNSPECIFIED" }, "description": "description", "expiresAt": '
    '"2019-12-27T18:11:19.117Z", "lastUsed": "2019-12-27T18:11:19.117Z", "readOnly": true, '
    '"userId": "182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e" } }'
)

# ona-docs-list-personal-access-tokens-python.txt, "Returns Examples".
SEED_LIST_RESPONSE = """\
{
  "pagination": {
    "nextToken": "nextToken"
  },
  "personalAccessTokens": [
    {
      "id": "182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e",
      "createdAt": "2019-12-27T18:11:19.117Z",
      "creator": {
        "id": "182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e",
        "principal": "PRINCIPAL_UNSPECIFIED"
      },
      "description": "description",
      "expiresAt": "2019-12-27T18:11:19.117Z",
      "lastUsed": "2019-12-27T18:11:19.117Z",
      "readOnly": true,
      "userId": "182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e"
    }
  ]
}"""

# ona-docs-pats-go.txt, "Delete" > "Response".
SEED_DELETE_RESPONSE = "{}"

SEEDS = [
    pytest.param(SEED_GET_RESPONSE, GetPersonalAccessTokenResponse, id="get-response"),
    pytest.param(SEED_LIST_RESPONSE, ListPersonalAccessTokensResponse, id="list-response"),
    pytest.param(SEED_DELETE_RESPONSE, DeletePersonalAccessTokenResponse, id="delete-response"),
]

# The PersonalAccessToken keys in field-number order (user.proto), which to_json follows.
PAT_KEYS_BY_FIELD_NUMBER = [
    "id",
    "userId",
    "description",
    "creator",
    "createdAt",
    "expiresAt",
    "lastUsed",
    "readOnly",
]


@pytest.mark.parametrize(("seed", "cls"), SEEDS)
def test_seed_example_prints_back_to_the_same_json(seed: str, cls: type[Message]) -> None:
    message = from_json(seed, cls)
    assert json.loads(to_json(message)) == json.loads(seed)
    assert json.loads(to_json(message, indent=2)) == json.loads(seed)


@pytest.mark.parametrize(("seed", "cls"), SEEDS)
def test_seed_example_is_a_fixed_point(seed: str, cls: type[Message]) -> None:
    """Parsing our own output gives the same message and, printed again, the same text."""
    text = to_json(from_json(seed, cls), indent=2)
    assert to_json(from_json(text, cls), indent=2) == text


@pytest.mark.parametrize(("seed", "cls"), SEEDS)
def test_seed_example_matches_sorted_keys_text(seed: str, cls: type[Message]) -> None:
    """Byte for byte equal once both sides are printed with sorted keys and the seed's indent."""

    def canonical(text: str) -> str:
        return json.dumps(json.loads(text), indent=2, sort_keys=True)

    assert canonical(to_json(from_json(seed, cls), indent=2)) == canonical(seed)


def test_seed_list_example_values() -> None:
    page = from_json(SEED_LIST_RESPONSE, ListPersonalAccessTokensResponse)
    assert page.pagination.next_token == "nextToken"
    (pat,) = page.personal_access_tokens
    assert pat.created_at.seconds == 1_577_470_279
    assert pat.created_at.nanos == 117_000_000
    assert pat.read_only is True
    assert pat.HasField("creator")


def test_emitted_key_order_is_field_number_order() -> None:
    """Documents the order difference: ours follows user.proto, the seed's is alphabetical."""
    pat_data: dict[str, Any] = json.loads(
        to_json(from_json(SEED_GET_RESPONSE, GetPersonalAccessTokenResponse))
    )["pat"]
    seed_keys = list(json.loads(SEED_GET_RESPONSE)["pat"])
    assert list(pat_data) == PAT_KEYS_BY_FIELD_NUMBER
    assert seed_keys == ["id", *sorted(PAT_KEYS_BY_FIELD_NUMBER[1:])]


@pytest.mark.parametrize(("seed", "cls"), SEEDS)
def test_json_format_agrees_on_the_seed_examples(seed: str, cls: type[Message]) -> None:
    ours = from_json(seed, cls)
    assert ours == json_format.Parse(seed, cls())
    theirs = json_format.MessageToJson(ours, always_print_fields_with_no_presence=True)
    assert json.loads(to_json(ours)) == json.loads(theirs)
