// A Node client for gitpod.v1.UserService built on the generated TypeScript (gen/es) and
// @connectrpc/connect-node, driven line by line so that one process serves a whole test
// (tests/interop/test_node_client_python_server.py).
//
// Usage: tsx interop/client.ts --base-url URL [--format binary|json]
// Reads one JSON command a line on stdin:
//   {"method": "GetPersonalAccessToken", "request": {...canonical JSON...}, "token": "secret"}
// and writes one JSON line for each on stdout, in order:
//   {"response": {...canonical JSON...}, "contentType": "application/proto"}
//   {"error": {"code": "not_found", "message": "...", "details": [{"type", "value", "debug"}]}}
// The request and response travel in binary protobuf or JSON as --format says; the lines on
// stdin and stdout are only the test's way to talk to this process.
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { fromJson, toJson, type DescMethodUnary, type JsonValue } from "@bufbuild/protobuf";
import { ConnectError } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { UserService } from "../gen/es/gitpod/v1/user_pb.js";

interface Command {
  method: string;
  request: JsonValue;
  token?: string;
}

const { values: options } = parseArgs({
  options: { "base-url": { type: "string" }, format: { type: "string", default: "binary" } },
});
if (options["base-url"] === undefined || !["binary", "json"].includes(options.format ?? "")) {
  console.error("usage: client.ts --base-url URL [--format binary|json]");
  process.exit(2);
}

const transport = createConnectTransport({
  baseUrl: options["base-url"],
  httpVersion: "1.1",
  useBinaryFormat: options.format === "binary",
});

async function run(command: Command): Promise<JsonValue> {
  const method = UserService.methods.find(
    (m): m is DescMethodUnary => m.name === command.method && m.methodKind === "unary",
  );
  if (method === undefined) throw new Error(`unknown method ${command.method}`);
  const headers = command.token ? { authorization: `Bearer ${command.token}` } : undefined;
  try {
    const input = fromJson(method.input, command.request);
    // transport.unary is what createClient's methods call; it also hands back the headers.
    const res = await transport.unary(method, undefined, undefined, headers, input);
    const contentType = res.header.get("content-type");
    return { response: toJson(method.output, res.message), contentType };
  } catch (error) {
    const e = ConnectError.from(error);
    const details = e.details.map((d): JsonValue =>
      "desc" in d
        ? { type: d.desc.typeName, value: null, debug: null }
        : { type: d.type, value: Buffer.from(d.value).toString("base64"), debug: d.debug ?? null },
    );
    return { error: { code: codeToString(e.code), message: e.rawMessage, details } };
  }
}

for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
  if (line.trim() === "") continue;
  process.stdout.write(`${JSON.stringify(await run(JSON.parse(line) as Command))}\n`);
}
