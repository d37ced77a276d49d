"""The ona-pats pytest plugin, as a user's project meets it: test files that use its fixtures,
run by pytester in a subprocess with nothing but the installed plugin (no conftest).

This file imports only pytest: ``scripts/first-run`` also runs it in a fresh virtual
environment holding nothing but ``ona-pats[server]`` and pytest.
"""

from __future__ import annotations

import pytest

pytest_plugins = ("pytester",)

USER_TESTS = """
import asyncio

import pytest

import ona_pats


def test_each_test_has_its_own_user(ona_pats_client, ona_pats_user):
    ona_pats_client.users.pats.create(user_id=ona_pats_user.user_id, description="first")
    mine = list(ona_pats_client.users.pats.list())
    assert {pat.user_id for pat in mine} == {ona_pats_user.user_id}
    assert len(mine) == 2  # the fixture's token and the one made here


def test_another_test_sees_none_of_those(ona_pats_client, ona_pats_user):
    assert [pat.id for pat in ona_pats_client.users.pats.list()] == [ona_pats_user.id]


def test_the_async_client(ona_pats_async_client, ona_pats_user):
    async def run():
        async with ona_pats_async_client as client:
            pat = await client.users.pats.get(personal_access_token_id=ona_pats_user.id)
        return pat.user_id

    assert asyncio.run(run()) == ona_pats_user.user_id


def test_one_server_for_the_session(ona_pats_server, ona_pats_user):
    other = ona_pats_server.create_user_token()
    assert other.user_id != ona_pats_user.user_id
    with ona_pats.Client(token=other.token, base_url=ona_pats_server.base_url) as client:
        with pytest.raises(ona_pats.NotFoundError):
            client.users.pats.get(personal_access_token_id=ona_pats_user.id)
"""

FAULT_TESTS = """
import pytest

import ona_pats

GET, DELETE = "GetPersonalAccessToken", "DeletePersonalAccessToken"


def test_a_503_is_retried(ona_pats_client, ona_pats_user, ona_pats_faults):
    ona_pats_faults.unavailable(GET, retry_after=0)
    pat = ona_pats_client.users.pats.get(personal_access_token_id=ona_pats_user.id)
    assert pat.id == ona_pats_user.id
    assert ona_pats_faults.calls(GET) == 2


def test_two_many_503s_surface(ona_pats_client, ona_pats_user, ona_pats_faults):
    ona_pats_faults.unavailable(GET, times=3, retry_after=0)
    with pytest.raises(ona_pats.UnavailableError):
        ona_pats_client.users.pats.get(personal_access_token_id=ona_pats_user.id)
    assert ona_pats_faults.calls(GET) == 3  # the call and its two retries


def test_a_dropped_delete_is_not_retried(ona_pats_client, ona_pats_user, ona_pats_faults):
    spare = ona_pats_client.users.pats.create(user_id=ona_pats_user.user_id, description="x")
    del spare
    target = [p.id for p in ona_pats_client.users.pats.list() if p.id != ona_pats_user.id][0]
    ona_pats_faults.drop(DELETE, after_forward=True)
    with pytest.raises(ona_pats.APIError) as caught:
        ona_pats_client.users.pats.delete(personal_access_token_id=target)
    assert not caught.value.never_sent
    assert ona_pats_faults.calls(DELETE) == 1
    with pytest.raises(ona_pats.NotFoundError):  # it took effect all the same
        ona_pats_client.users.pats.get(personal_access_token_id=target)


def test_without_faults_requested_the_client_talks_to_the_server(ona_pats_client, ona_pats_server):
    assert ona_pats_client.base_url == ona_pats_server.base_url
"""


def test_fixtures_give_each_test_its_own_user_and_clients(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=USER_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)


def test_faults_exercise_a_callers_retry_handling(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_faults=FAULT_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)


def test_without_the_server_extra_the_plugin_adds_nothing(pytester: pytest.Pytester) -> None:
    """``sys.modules["uvicorn"] = None`` makes uvicorn unimportable, as if not installed."""
    pytester.makepyfile(
        sitecustomize='import sys\nsys.modules["uvicorn"] = None\n',
        test_plain="def test_plain():\n    assert True\n",
        test_wants_server="def test_wants(ona_pats_server):\n    pass\n",
    )
    pytester.syspathinsert()  # the subprocess imports sitecustomize from here
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*fixture 'ona_pats_server' not found*"])
