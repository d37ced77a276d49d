"""The ``ona-pats`` command line: manage personal access tokens, run the local server, the demo.

Every command but ``serve`` and ``demo`` talks to the API through :class:`ona_pats.Client`, so
the token and base URL come from the environment exactly as the client reads them
(``ONA_API_KEY`` / ``GITPOD_API_KEY``, ``ONA_BASE_URL`` / ``GITPOD_BASE_URL``). The token is never
taken from the command line, where ``ps`` would show it, and never printed back.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, NoReturn, Protocol

from connectrpc.code import Code

from ona_pats._bulk import MAX_CONCURRENCY, DeleteOutcome
from ona_pats._config import resolve_token
from ona_pats._exceptions import ConfigurationError, RotationError
from ona_pats._requests import MAX_PAGE_SIZE
from ona_pats._retries import MAX_TIMEOUT

from . import _format as fmt
from . import _lifecycle as lifecycle
from ._errors import EXIT_CODES_HELP, PROG, CLIError, ExitCode, describe, report

if TYPE_CHECKING:
    from ona_pats import Client
    from ona_pats._aliases import PatListFilter
    from ona_pats._pagination import Page
    from ona_pats._schema import user_pb2
    from ona_pats.server import Server

__all__ = ["CLIError", "ExitCode", "build_parser", "main"]


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line on stderr, exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(ExitCode.USAGE, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


# ---------------------------------------------------------------------------------------------
# Argument types


def _duration(text: str) -> timedelta:
    try:
        return fmt.parse_human_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _seconds(text: str) -> float:
    """A timeout: plain seconds (``2.5``) or a duration (``2m``)."""
    try:
        value = float(text)
    except ValueError:
        value = _duration(text).total_seconds()
    if not 0 < value <= MAX_TIMEOUT:  # also refuses inf and nan
        raise argparse.ArgumentTypeError(
            f"must be a positive number of seconds up to {MAX_TIMEOUT:.0f}: {text!r}"
        )
    return value


def _bounded(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}: {value}")
        return value

    return parse


# ---------------------------------------------------------------------------------------------
# The parser


def _add_globals(parser: argparse.ArgumentParser, *, root: bool) -> None:
    """Add the global options; subcommands take them too, after their name (``list --debug``)."""
    group = parser.add_argument_group("global options")
    default: Any = None if root else argparse.SUPPRESS
    group.add_argument("--base-url", default=default, help="API base URL (default: from env)")
    group.add_argument(
        "--protocol", choices=("proto", "json"), default=default, help="wire codec (default proto)"
    )
    group.add_argument(
        "--timeout",
        type=_seconds,
        default=default,
        metavar="SECONDS",
        help="the most a command waits for the API, e.g. 30 (a listing: all its pages)",
    )
    group.add_argument(
        "--debug",
        action="store_true",
        default=False if root else argparse.SUPPRESS,
        help="show tracebacks on errors",
    )


def build_parser() -> argparse.ArgumentParser:
    """Build the ``ona-pats`` argument parser with every subcommand."""
    parser = _Parser(
        prog=PROG,
        description="Manage Ona (formerly Gitpod) personal access tokens.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_globals(parser, root=True)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (summary, configure, handler) in _COMMANDS.items():
        sub = commands.add_parser(
            name,
            help=summary,
            description=summary,
            epilog=EXIT_CODES_HELP,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        configure(sub)
        _add_globals(sub, root=False)
        sub.set_defaults(handler=handler)
    return parser


def _configure_serve(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", help="address to listen on (default 127.0.0.1, loopback)")
    parser.add_argument("--port", type=_bounded(0, 65535), help="default 8484; 0 picks a free one")
    parser.add_argument("--db", default="ona-pats.sqlite3", help="SQLite file (created if absent)")
    parser.add_argument("--token-file", metavar="PATH", help="write the admin token here (0600)")
    parser.add_argument(
        "--seed", type=_bounded(0, 1_000_000), default=0, metavar="N", help="add N demo tokens"
    )


def _configure_list(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="JSON lines, one token per line")
    parser.add_argument("--all", action="store_true", help="follow every page")
    _user_ids(parser, "only this user's tokens (repeatable)")
    most = MAX_PAGE_SIZE
    parser.add_argument("--page-size", type=_bounded(1, most), metavar="N", help=f"1..{most}")
    parser.add_argument("--page-token", metavar="TOKEN", help="resume from a next-page token")
    meaning = "only tokens that expire within DURATION (e.g. 7d), soonest first; implies --all"
    _window(parser, "--expiring-within", meaning)


def _configure_get(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", metavar="ID", help="the token's UUID")
    parser.add_argument("--json", action="store_true", help="one JSON line")


def _configure_create(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--user-id", required=True, metavar="UUID", help="the owner's UUID")
    parser.add_argument("--description", default="", help='what it is for, e.g. "ci"')
    parser.add_argument(
        "--valid-for", type=_duration, metavar="DURATION", help="lifetime, e.g. 30d (max 90d)"
    )
    parser.add_argument("--read-only", action="store_true", help="deny every mutation")
    parser.add_argument("--json", action="store_true", help='print {"token": ...}')


def _configure_delete(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", metavar="ID", help="the token's UUID")
    parser.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")


def _configure_rotate(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", metavar="ID", help="the UUID of the token to replace")
    parser.add_argument(
        "--valid-for", type=_duration, metavar="DURATION", help="default: the old token's lifetime"
    )
    parser.add_argument("--json", action="store_true", help='print {"token": ...}')


def _configure_audit(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="one JSON document")
    _window(parser, "--expiring-within", "a token expiring within this needs attention", 7)
    _window(parser, "--unused-for", "a token not used for longer needs attention", 90)
    _user_ids(parser, "only these users")


class _Options(Protocol):
    """A parser or an argument group: what takes options."""

    def add_argument(self, *names: str, **options: Any) -> argparse.Action: ...


def _user_ids(parser: _Options, meaning: str) -> None:
    """The repeatable ``--user-id UUID`` option."""
    parser.add_argument("--user-id", dest="user_ids", action="append", metavar="UUID", help=meaning)


def _window(parser: _Options, flag: str, meaning: str, days: int | None = None) -> None:
    """A duration option (``7d``, ``12h``...), with a default in days or none."""
    default = None if days is None else timedelta(days=days)
    shown = meaning if days is None else f"{meaning} (default {days}d)"
    parser.add_argument(flag, type=_duration, default=default, metavar="DURATION", help=shown)


def _configure_prune(parser: argparse.ArgumentParser) -> None:
    rules = parser.add_argument_group("rules (a token matching any condition goes)")
    rules.add_argument("--expired", action="store_true", help="tokens past their expiry")
    _window(rules, "--unused-for", "tokens not used for longer (never used: created longer ago)")
    rules.add_argument("--never-used", action="store_true", help="tokens never used")
    _user_ids(rules, "only these users' tokens; alone: all of them (repeatable)")
    parser.add_argument(
        "--keep", action="append", metavar="UUID", help="never delete this token (repeatable)"
    )
    parser.add_argument("--dry-run", action="store_true", help="print what would be deleted")
    parser.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    parser.add_argument(
        "--concurrency",
        type=_bounded(1, MAX_CONCURRENCY),
        default=8,
        metavar="N",
        help="deletes in flight at once (default 8)",
    )
    parser.add_argument("--json", action="store_true", help="JSON lines, one token per line")


def _configure_demo(parser: argparse.ArgumentParser) -> None:
    del parser  # no options of its own


# ---------------------------------------------------------------------------------------------
# Commands


def _client_options(args: argparse.Namespace) -> dict[str, Any]:
    try:
        # The client's own lookup, to tell "no token" from other problems.
        resolve_token(None, from_code=False)
    except ConfigurationError as exc:
        raise CLIError(str(exc), ExitCode.UNAUTHENTICATED) from exc
    options = {"base_url": args.base_url, "protocol": args.protocol, "timeout": args.timeout}
    return {key: value for key, value in options.items() if value is not None}


def _client(args: argparse.Namespace) -> Client:
    from ona_pats import Client

    return Client(**_client_options(args))


def _out(text: str = "") -> None:
    print(text, file=sys.stdout, flush=True)


def _note(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _server_module() -> Any:
    """Import ``ona_pats.server``, which needs the ``server`` extra (uvicorn)."""
    try:
        from ona_pats import server
    except ModuleNotFoundError as exc:
        raise CLIError(
            f"the embedded server needs {exc.name}: pip install 'ona-pats[server]'", ExitCode.USAGE
        ) from exc
    return server


def _run_serve(args: argparse.Namespace) -> int:
    run = _server_module().run

    options = {"host": args.host, "port": args.port, "token_file": args.token_file}
    run(
        args.db,
        seed=args.seed,
        on_ready=lambda srv: _announce(srv, args.token_file),
        **{key: value for key, value in options.items() if value is not None},
    )
    _note(f"{PROG}: server stopped")
    return ExitCode.OK


def _announce(srv: Server, token_file: str | None) -> None:
    """Say where the server listens and, on the database's first start, its admin token."""
    _note(f"{PROG}: serving gitpod.v1.UserService at {srv.base_url} (database {srv.db_path})")
    if srv.host not in {"127.0.0.1", "::1", "localhost"}:
        _note(f"{PROG}: warning: listening beyond loopback over plain HTTP; tokens cross the wire")
    if srv.admin_token is None:
        _note(f"{PROG}: this database already has its admin token; it is not shown again")
    else:
        where = f" (also written to {token_file}, mode 0600)" if token_file else ""
        _note(f"{PROG}: bootstrap admin token, shown only this once{where}:")
        _out(srv.admin_token)
    _note(f"{PROG}: try: ONA_BASE_URL={srv.base_url} ONA_API_KEY=<token> {PROG} list")
    _note(f"{PROG}: press Ctrl-C to stop")


def _pages(
    args: argparse.Namespace, client: Client
) -> Iterator[Page[user_pb2.PersonalAccessToken]]:
    filter_: PatListFilter | None = {"user_ids": args.user_ids} if args.user_ids else None
    page_size, page_token = getattr(args, "page_size", None), getattr(args, "page_token", None)
    pager = client.users.pats.list(
        filter=filter_, page_size=page_size, token=page_token, total_timeout=args.timeout
    )
    return iter(pager.pages())


def _collect(
    args: argparse.Namespace, client: Client, *, follow: bool
) -> tuple[list[user_pb2.PersonalAccessToken], str]:
    """Fetch one page, or every page if ``follow``, drawing progress on a terminal."""
    pages = _pages(args, client)
    progress = fmt.Progress(sys.stderr, enabled=follow and sys.stderr.isatty())
    pats: list[user_pb2.PersonalAccessToken] = []
    next_token = ""
    try:
        for page in pages:
            pats.extend(page.items)
            next_token = page.next_token
            progress.update(len(page.items))
            if not follow:
                break
    finally:
        progress.clear()
    return pats, ("" if follow else next_token)


def _run_list(args: argparse.Namespace) -> int:
    now = datetime.now(UTC)
    with _client(args) as client:
        pats, next_token = _collect(
            args, client, follow=args.all or args.expiring_within is not None
        )
    if args.expiring_within is not None:
        pats = fmt.expiring_within(pats, args.expiring_within, now)
    _print_pats(pats, as_json=args.json, now=now)
    if next_token:
        _note(f"{PROG}: more tokens follow: pass --all, or --page-token {next_token}")
    return ExitCode.OK


def _print_pats(
    pats: Sequence[user_pb2.PersonalAccessToken], *, as_json: bool, now: datetime
) -> None:
    if as_json:
        for pat in pats:
            _out(_json(pat))
    elif pats:
        _out(fmt.render_table(pats, now))
    else:
        _note("No personal access tokens.")


def _json(pat: user_pb2.PersonalAccessToken) -> str:
    """One compact JSON line in the shape of Ona's API reference (camelCase, defaults shown)."""
    from ona_pats._json import to_json

    return to_json(pat)


def _run_get(args: argparse.Namespace) -> int:
    with _client(args) as client:
        pat = client.users.pats.get(personal_access_token_id=args.id)
    if args.json:
        _out(_json(pat))
    else:
        _out(fmt.render_details(pat, datetime.now(UTC)))
    return ExitCode.OK


def _print_secret(secret: str, *, as_json: bool) -> None:
    _out(fmt.json_line({"token": secret}) if as_json else secret)


def _run_create(args: argparse.Namespace) -> int:
    options: dict[str, Any] = {"description": args.description, "read_only": args.read_only}
    if args.valid_for is not None:
        options["valid_for"] = args.valid_for
    with _client(args) as client:
        secret = client.users.pats.create(user_id=args.user_id, **options)
    _print_secret(secret, as_json=args.json)
    _note(f"{PROG}: created a token for user {args.user_id}; the secret above is shown only once.")
    return ExitCode.OK


def _confirm(pat: user_pb2.PersonalAccessToken) -> bool:
    label = f'"{fmt.printable(pat.description)}" ' if pat.description else ""
    sys.stderr.write(
        f"Delete personal access token {label}{pat.id} of user {pat.user_id}?\n"
        "Anything using it stops working; this cannot be undone. [y/N] "
    )
    sys.stderr.flush()
    return sys.stdin.readline().strip().lower() in {"y", "yes"}


def _run_delete(args: argparse.Namespace) -> int:
    if not args.yes and not sys.stdin.isatty():
        raise CLIError(
            "refusing to delete without confirmation: stdin is not a terminal; pass --yes",
            ExitCode.USAGE,
        )
    with _client(args) as client:
        if not args.yes and not _confirm(client.users.pats.get(personal_access_token_id=args.id)):
            raise CLIError("not confirmed; nothing was deleted")
        client.users.pats.delete(personal_access_token_id=args.id)
    _out(f"Deleted personal access token {args.id}.")
    return ExitCode.OK


def _run_rotate(args: argparse.Namespace) -> int:
    with _client(args) as client:
        try:
            secret = client.users.pats.rotate(
                personal_access_token_id=args.id, valid_for=args.valid_for
            )
        except RotationError as exc:
            _print_secret(exc.new_token, as_json=args.json)
            raise _rotation_incomplete(args.id, exc) from exc
    _print_secret(secret, as_json=args.json)
    _note(f"{PROG}: replaced token {args.id} and deleted it; the new secret is shown only once.")
    return ExitCode.OK


def _rotation_incomplete(old_id: str, exc: RotationError) -> CLIError:
    """The error of a rotate whose delete failed: plain about what exists now."""
    if getattr(exc.cause, "code", None) is Code.NOT_FOUND:
        state = "the server no longer finds it (deleted meanwhile?)"
    else:
        state = f"the old token is STILL VALID: delete it with '{PROG} delete {old_id}'"
    return CLIError(
        f"rotate incomplete: created the new token (its secret is above, shown only once) "
        f"but could not delete the old token {old_id}: {describe(exc.cause)}; {state}",
        ExitCode.ROTATE_INCOMPLETE,
    )


def _run_audit(args: argparse.Namespace) -> int:
    with _client(args) as client:
        pats, _ = _collect(args, client, follow=True)
    report = lifecycle.audit(pats, datetime.now(UTC), args.expiring_within, args.unused_for)
    if args.json:
        _out(fmt.json_line(lifecycle.audit_document(report)))
    else:
        _out(lifecycle.render_audit(report))
    return ExitCode.ATTENTION if report.attention else ExitCode.OK


def _run_prune(args: argparse.Namespace) -> int:
    rules = lifecycle.Rules(
        expired=args.expired,
        unused_for=args.unused_for,
        never_used=args.never_used,
        user_ids=frozenset(args.user_ids or ()),
        keep=frozenset(args.keep or ()),
    )
    if not rules.any:
        raise CLIError(
            "prune needs a rule: --expired, --unused-for DURATION, --never-used or --user-id UUID",
            ExitCode.USAGE,
        )
    if not (args.dry_run or args.yes or sys.stdin.isatty()):
        raise CLIError(
            "refusing to delete without confirmation: stdin is not a terminal; pass --yes "
            "(or --dry-run to see what would be deleted)",
            ExitCode.USAGE,
        )
    with _client(args) as client:
        pats, _ = _collect(args, client, follow=True)
    # After the listing, which the server counts as a use of the caller's own token.
    plan = lifecycle.plan(pats, rules, datetime.now(UTC))
    for rule, facts in plan.kept:
        _note(f"{PROG}: keeping {facts.pat.id}: {rule}")
        if args.json:
            _out(fmt.json_line(lifecycle.outcome_document(rule, facts, "kept", None)))
    if not plan.delete:
        _note(f"{PROG}: no token to delete")
        return ExitCode.OK
    if args.dry_run:
        _print_plan(plan.delete, as_json=args.json)
        _note(f"{PROG}: dry run: {len(plan.delete)} tokens would be deleted; nothing was")
        return ExitCode.OK
    if not args.yes and not _confirm_plan(plan.delete):
        raise CLIError("not confirmed; nothing was deleted")
    outcomes = asyncio.run(_delete_many(args, [facts.pat.id for _, facts in plan.delete]))
    return _report_prune(plan.delete, outcomes, as_json=args.json)


def _print_plan(entries: list[tuple[str, lifecycle.Facts]], *, as_json: bool) -> None:
    if as_json:
        for rule, facts in entries:
            _out(fmt.json_line(lifecycle.outcome_document(rule, facts, "would_delete", None)))
    else:
        _out(lifecycle.render_plan(entries, datetime.now(UTC)))


def _confirm_plan(entries: list[tuple[str, lifecycle.Facts]]) -> bool:
    sys.stderr.write(lifecycle.render_plan(entries, datetime.now(UTC)) + "\n")
    sys.stderr.write(
        f"Delete these {len(entries)} personal access tokens? Anything using them stops "
        "working; this cannot be undone. [y/N] "
    )
    sys.stderr.flush()
    return sys.stdin.readline().strip().lower() in {"y", "yes"}


async def _delete_many(args: argparse.Namespace, ids: list[str]) -> list[DeleteOutcome]:
    from ona_pats import AsyncClient

    progress = fmt.Progress(sys.stderr, enabled=sys.stderr.isatty(), noun="deleting tokens")
    async with AsyncClient(**_client_options(args)) as client:
        try:
            return await client.users.pats.delete_many(
                ids,
                concurrency=args.concurrency,
                on_outcome=lambda outcome: progress.update(1, of=len(ids)),
            )
        finally:
            progress.clear()


def _report_prune(
    entries: list[tuple[str, lifecycle.Facts]],
    outcomes: list[DeleteOutcome],
    *,
    as_json: bool,
) -> int:
    left = [outcome for outcome in outcomes if not outcome.gone]
    for (rule, facts), outcome in zip(entries, outcomes, strict=True):
        error = lifecycle.error_text(outcome)
        if as_json:
            _out(fmt.json_line(lifecycle.outcome_document(rule, facts, outcome.outcome, error)))
        elif not outcome.gone:
            said = "may or may not be deleted" if outcome.outcome == "unknown" else "not deleted"
            _note(f"{PROG}: {outcome.outcome}: {facts.pat.id} {said}: {error}")
    gone = len(outcomes) - len(left)
    summary = f"Deleted {gone} of {len(outcomes)} tokens."
    if left:
        unknown = sum(outcome.outcome == "unknown" for outcome in left)
        summary += f" {len(left) - unknown} failed, {unknown} unknown (see above)."
    if not as_json:
        _out(summary)
    else:
        _note(f"{PROG}: {summary}")
    return ExitCode.PRUNE_INCOMPLETE if left else ExitCode.OK


def _run_demo(args: argparse.Namespace) -> int:
    _server_module()
    from ._demo import run_demo

    del args
    return run_demo()


_Handler = Callable[[argparse.Namespace], int]
_COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], _Handler]] = {
    "serve": ("run the embedded UserService server (SQLite)", _configure_serve, _run_serve),
    "list": ("list personal access tokens", _configure_list, _run_list),
    "get": ("show one personal access token", _configure_get, _run_get),
    "create": ("create a token and print its secret once", _configure_create, _run_create),
    "delete": ("delete (revoke) a token", _configure_delete, _run_delete),
    "rotate": ("replace a token with a new one, then delete it", _configure_rotate, _run_rotate),
    "audit": ("report on every token: expired, unused, expiring", _configure_audit, _run_audit),
    "prune": ("delete tokens by rule: expired, unused, never used", _configure_prune, _run_prune),
    "demo": ("run the demo against a throwaway local server", _configure_demo, _run_demo),
}


#: Commands that run in the main thread: they install their own signal handling (uvicorn).
_LOCAL_COMMANDS = frozenset({"serve", "demo"})


def _interruptible(handler: _Handler, args: argparse.Namespace) -> int:
    """Run an API command in a worker thread, so Ctrl-C ends the wait at once.

    A blocking HTTP call inside the transport's native code does not return to the
    interpreter until it completes, and Python runs signal handlers only in the main thread
    between bytecodes; the main thread here only waits, so it sees Ctrl-C within a tick. The
    worker is a daemon: the process exits without waiting for its call.
    """
    outcome: list[int | BaseException] = []

    def work() -> None:
        try:
            outcome.append(int(handler(args)))
        except BaseException as exc:  # handed to the main thread, which reports it
            outcome.append(exc)

    worker = threading.Thread(target=work, name=f"{PROG} {args.command}", daemon=True)
    worker.start()
    while worker.is_alive():
        worker.join(0.05)
    result = outcome[0]
    if isinstance(result, BaseException):
        raise result
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``ona-pats`` with ``argv`` (default ``sys.argv[1:]``) and return the exit status.

    Args:
        argv: the arguments after the program name.

    Returns:
        An :class:`ExitCode` value; see ``ona-pats --help``.
    """
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error already reported by _Parser
        return exc.code if isinstance(exc.code, int) else ExitCode.USAGE
    try:
        if args.command in _LOCAL_COMMANDS:
            return int(args.handler(args))
        return _interruptible(args.handler, args)
    except KeyboardInterrupt:
        _note(f"\n{PROG}: interrupted")
        return ExitCode.INTERRUPTED
    except BrokenPipeError:  # e.g. `ona-pats list --all | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return ExitCode.OK
    except Exception as exc:
        return report(exc, debug=args.debug)
