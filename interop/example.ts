// Create, list, get and delete personal access tokens from TypeScript, with the code that
// protoc-gen-es generated from proto/ and Connect for Node.
// Run: ONA_BASE_URL=http://127.0.0.1:8080 ONA_API_KEY=... ONA_USER_ID=... npx tsx interop/example.ts
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { UserService } from "../gen/es/gitpod/v1/user_pb.js";

const transport = createConnectTransport({
  baseUrl: process.env.ONA_BASE_URL ?? "https://app.ona.com/api",
  httpVersion: "1.1",
  useBinaryFormat: true, // application/proto; false sends JSON
  interceptors: [
    (next) => (req) => {
      req.header.set("authorization", `Bearer ${process.env.ONA_API_KEY}`);
      return next(req);
    },
  ],
});
const users = createClient(UserService, transport);
const userId = process.env.ONA_USER_ID ?? "";

const { token } = await users.createPersonalAccessToken({
  userId,
  description: "from TypeScript",
  validFor: { seconds: 7n * 24n * 3600n },
});
console.log(`created a token (secret ${token.length} characters, shown once)`);

let pageToken = "";
let created = "";
do {
  const page = await users.listPersonalAccessTokens({
    pagination: { pageSize: 2, token: pageToken },
    filter: { userIds: [userId] },
  });
  for (const pat of page.personalAccessTokens) {
    const expires = pat.expiresAt ? timestampDate(pat.expiresAt).toISOString() : "never";
    console.log(`${pat.id}  expires ${expires}  ${pat.description}`);
    if (pat.description === "from TypeScript") created = pat.id;
  }
  pageToken = page.pagination?.nextToken ?? "";
} while (pageToken !== "");

const { pat } = await users.getPersonalAccessToken({ personalAccessTokenId: created });
console.log(`got ${pat?.id}, read-only: ${pat?.readOnly}`);
await users.deletePersonalAccessToken({ personalAccessTokenId: created });
console.log(`deleted ${created}`);
