// A small gitpod.v1.UserService on @connectrpc/connect-node, built only from the generated
// TypeScript in gen/es: the other side of the interop tests for the Python client
// (tests/interop/test_python_client_node_server.py). It keeps tokens in memory and follows the
// rules of the embedded Python server: bearer auth, read-only tokens cannot mutate, a user sees
// only their own tokens, UUID and page-size validation, opaque keyset page tokens.
//
// Usage: tsx interop/server.ts [--seed FILE] [--admin-user-id UUID] [--request-log FILE]
//   --seed FILE         a ListPersonalAccessTokensResponse in canonical JSON; its tokens are
//                       stored as given (no secrets), in the order of created_at and id
//   --request-log FILE  appends one JSON line per call: procedure, HTTP method, content type
// Listens on 127.0.0.1 on a port the OS picks, then prints one JSON line on stdout:
//   {"url": "http://127.0.0.1:PORT", "adminToken": "...", "adminUserId": "..."}
// Stops on SIGTERM, SIGINT or when its stdin closes (so it never outlives the test that ran it).
import { randomBytes, randomUUID } from "node:crypto";
import { appendFileSync, readFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { parseArgs } from "node:util";
import { create, fromJson, type JsonValue } from "@bufbuild/protobuf";
import type { Duration, Timestamp } from "@bufbuild/protobuf/wkt";
import { TimestampSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type HandlerContext, type Interceptor } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { Principal } from "../gen/es/gitpod/v1/identity_pb.js";
import {
  ListPersonalAccessTokensResponseSchema,
  PersonalAccessTokenSchema,
  UserService,
  type PersonalAccessToken,
} from "../gen/es/gitpod/v1/user_pb.js";

const DEFAULT_PAGE_SIZE = 25;
const MAX_PAGE_SIZE = 100;
const MAX_USER_IDS = 25;
const MAX_VALID_FOR_SECONDS = 90n * 24n * 3600n;
const NS = 1_000_000_000n;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface Caller {
  userId: string;
  tokenId: string | null; // null for the admin token, which is not a stored token
  readOnly: boolean;
  admin: boolean;
}

const { values: options } = parseArgs({
  options: {
    seed: { type: "string" },
    "admin-user-id": { type: "string", default: "00000000-0000-4000-8000-000000000000" },
    "request-log": { type: "string" },
  },
});
const adminUserId = options["admin-user-id"] ?? "";
const adminToken = `onapat_admin_${randomBytes(16).toString("hex")}`;
const tokens = new Map<string, PersonalAccessToken>(); // by id
const secrets = new Map<string, Caller>(); // by secret
secrets.set(adminToken, { userId: adminUserId, tokenId: null, readOnly: false, admin: true });

// Wall-clock time with nanoseconds: Date.now() anchors the monotonic high-resolution clock.
const clockBase = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
const nowNs = (): bigint => clockBase + process.hrtime.bigint();

function toNs(ts: Timestamp | Duration): bigint {
  return ts.seconds * NS + BigInt(ts.nanos);
}

function timestamp(ns: bigint): Timestamp {
  const nanos = ((ns % NS) + NS) % NS;
  return create(TimestampSchema, { seconds: (ns - nanos) / NS, nanos: Number(nanos) });
}

function fail(code: Code, message: string): never {
  throw new ConnectError(message, code);
}

function requireUuid(field: string, value: string): void {
  if (!UUID.test(value)) fail(Code.InvalidArgument, `${field}: must be a UUID, got "${value}"`);
}

// Records how each call arrived, so that tests can see which codec and HTTP method were used.
function logRequests(path: string): Interceptor {
  return (next) => (req) => {
    const entry = {
      procedure: req.method.name,
      httpMethod: req.requestMethod,
      contentType: req.header.get("content-type"),
    };
    appendFileSync(path, `${JSON.stringify(entry)}\n`);
    return next(req);
  };
}

function authenticate(ctx: HandlerContext): Caller {
  const match = /^Bearer (.+)$/.exec(ctx.requestHeader.get("authorization") ?? "");
  const caller = match ? secrets.get(match[1]) : undefined;
  if (caller === undefined) fail(Code.Unauthenticated, "missing or unknown bearer token");
  const own = caller.tokenId === null ? undefined : tokens.get(caller.tokenId);
  if (own !== undefined) {
    if (own.expiresAt && toNs(own.expiresAt) <= nowNs()) fail(Code.Unauthenticated, "token expired");
    own.lastUsed = timestamp(nowNs());
  }
  return caller;
}

function visible(caller: Caller, id: string): PersonalAccessToken {
  const pat = tokens.get(id);
  if (pat === undefined || !(caller.admin || pat.userId === caller.userId)) {
    fail(Code.NotFound, `personal access token ${id} not found`);
  }
  return pat;
}

function denyReadOnly(caller: Caller): void {
  if (caller.readOnly) fail(Code.PermissionDenied, "a read-only token cannot change tokens");
}

function ordered(pats: Iterable<PersonalAccessToken>): PersonalAccessToken[] {
  const key = (p: PersonalAccessToken) => (p.createdAt ? toNs(p.createdAt) : 0n);
  return [...pats].sort((a, b) => {
    const [ka, kb] = [key(a), key(b)];
    return ka !== kb ? (ka < kb ? -1 : 1) : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  });
}

// A page token is the keyset position of the last item sent plus the listing it belongs to.
function pageToken(last: PersonalAccessToken, scope: string): string {
  const position = [String(last.createdAt ? toNs(last.createdAt) : 0n), last.id, scope];
  return Buffer.from(JSON.stringify(position)).toString("base64url");
}

function readPageToken(token: string, scope: string): [bigint, string] {
  try {
    const [ns, id, tokenScope] = JSON.parse(Buffer.from(token, "base64url").toString()) as string[];
    if (tokenScope === scope && typeof id === "string") return [BigInt(ns), id];
  } catch {
    // reported below
  }
  fail(Code.InvalidArgument, "pagination.token: not a token this server issued for this listing");
}

const routes = connectNodeAdapter({
  interceptors: options["request-log"] ? [logRequests(options["request-log"])] : [],
  routes(router) {
    router.service(UserService, {
      createPersonalAccessToken(req, ctx) {
        const caller = authenticate(ctx);
        denyReadOnly(caller);
        requireUuid("user_id", req.userId);
        if (!caller.admin && req.userId !== caller.userId) {
          fail(Code.PermissionDenied, "cannot create tokens for another user");
        }
        const validFor = req.validFor ? toNs(req.validFor) : 0n;
        if (validFor < 0n || validFor > MAX_VALID_FOR_SECONDS * NS) {
          fail(Code.InvalidArgument, "valid_for: must be between 0s and 7776000s");
        }
        const created = nowNs();
        const pat = create(PersonalAccessTokenSchema, {
          id: randomUUID(),
          userId: req.userId,
          description: req.description,
          creator: { id: caller.userId, principal: Principal.USER },
          createdAt: timestamp(created),
          expiresAt: req.validFor ? timestamp(created + validFor) : undefined,
          readOnly: req.readOnly,
        });
        const secret = `onapat_${randomBytes(24).toString("hex")}`;
        tokens.set(pat.id, pat);
        secrets.set(secret, { userId: pat.userId, tokenId: pat.id, readOnly: pat.readOnly, admin: false });
        return { token: secret };
      },

      getPersonalAccessToken(req, ctx) {
        const caller = authenticate(ctx);
        requireUuid("personal_access_token_id", req.personalAccessTokenId);
        return { pat: visible(caller, req.personalAccessTokenId) };
      },

      listPersonalAccessTokens(req, ctx) {
        const caller = authenticate(ctx);
        // Public-API clients may send the page token and size as URL query parameters.
        const query = new URL(ctx.url).searchParams;
        const pageSize = req.pagination?.pageSize || Number(query.get("pageSize") ?? 0);
        const token = req.pagination?.token || (query.get("token") ?? "");
        if (!Number.isInteger(pageSize) || pageSize < 0 || pageSize > MAX_PAGE_SIZE) {
          fail(Code.InvalidArgument, `pagination.page_size: must be 0 to ${MAX_PAGE_SIZE}`);
        }
        const userIds = req.filter?.userIds.length ? req.filter.userIds : [caller.userId];
        if (userIds.length > MAX_USER_IDS) {
          fail(Code.InvalidArgument, `filter.user_ids: at most ${MAX_USER_IDS} items`);
        }
        userIds.forEach((id, i) => requireUuid(`filter.user_ids[${i}]`, id));
        if (!caller.admin && userIds.some((id) => id !== caller.userId)) {
          fail(Code.PermissionDenied, "filter.user_ids: only your own tokens can be listed");
        }
        const scope = [caller.userId, ...userIds].join(",");
        let candidates = ordered([...tokens.values()].filter((p) => userIds.includes(p.userId)));
        if (token !== "") {
          const [afterNs, afterId] = readPageToken(token, scope);
          candidates = candidates.filter((p) => {
            const ns = p.createdAt ? toNs(p.createdAt) : 0n;
            return ns > afterNs || (ns === afterNs && p.id > afterId);
          });
        }
        const page = candidates.slice(0, pageSize || DEFAULT_PAGE_SIZE);
        const more = candidates.length > page.length;
        return {
          pagination: { nextToken: more ? pageToken(page[page.length - 1], scope) : "" },
          personalAccessTokens: page,
        };
      },

      deletePersonalAccessToken(req, ctx) {
        const caller = authenticate(ctx);
        denyReadOnly(caller);
        requireUuid("personal_access_token_id", req.personalAccessTokenId);
        const pat = visible(caller, req.personalAccessTokenId);
        tokens.delete(pat.id);
        for (const [secret, owner] of secrets) {
          if (owner.tokenId === pat.id) secrets.delete(secret);
        }
        return {};
      },
    });
  },
});

if (options.seed !== undefined) {
  const seed = JSON.parse(readFileSync(options.seed, "utf8")) as JsonValue;
  for (const pat of fromJson(ListPersonalAccessTokensResponseSchema, seed).personalAccessTokens) {
    tokens.set(pat.id, pat);
  }
}

const server = http.createServer(routes);
const stop = () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
};
server.listen(0, "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo;
  const ready = { url: `http://127.0.0.1:${port}`, adminToken, adminUserId };
  process.stdout.write(`${JSON.stringify(ready)}\n`);
});
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
process.stdin.on("end", stop);
process.stdin.resume();
