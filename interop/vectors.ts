// Checks the shared test vectors (testdata/vectors) with protobuf-es: every vector decodes,
// and re-encodes to the same bytes (binary) and to equal JSON (canonical JSON); the binary and
// JSON halves of a pair describe the same message. Prints one line per mismatch on stderr and
// exits 1 if there is any.
//
// Usage: tsx interop/vectors.ts [VECTORS_DIR]   (default: testdata/vectors)
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { fromBinary, fromJson, toBinary, toJson, type JsonValue } from "@bufbuild/protobuf";
import { registry } from "./schema.js";

interface Vector {
  name: string;
  type: string;
  binary: string;
  json: string;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a).equals(Buffer.from(b));
}

function check(dir: string, vector: Vector): string[] {
  const schema = registry.getMessage(vector.type);
  if (schema === undefined) {
    return [`unknown message type ${vector.type}`];
  }
  const bytes = new Uint8Array(readFileSync(join(dir, vector.binary)));
  const json = JSON.parse(readFileSync(join(dir, vector.json), "utf8")) as JsonValue;
  const fromBytes = fromBinary(schema, bytes);
  const fromText = fromJson(schema, json);
  const problems: string[] = [];
  if (!sameBytes(toBinary(schema, fromBytes), bytes)) {
    problems.push("binary does not re-encode to the same bytes");
  }
  if (!isDeepStrictEqual(toJson(schema, fromText), json)) {
    problems.push("JSON does not re-encode to equal JSON");
  }
  if (!isDeepStrictEqual(toJson(schema, fromBytes), json)) {
    problems.push("the binary message, as JSON, differs from the JSON file");
  }
  if (!sameBytes(toBinary(schema, fromText), bytes)) {
    problems.push("the JSON message, as binary, differs from the binary file");
  }
  return problems;
}

function main(dir: string): number {
  const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as {
    vectors: Vector[];
  };
  let mismatches = 0;
  for (const vector of manifest.vectors) {
    let problems: string[];
    try {
      problems = check(dir, vector);
    } catch (error) {
      problems = [`cannot decode: ${String(error)}`];
    }
    for (const problem of problems) {
      console.error(`mismatch: ${vector.name} (${vector.type}): ${problem}`);
    }
    mismatches += problems.length;
  }
  console.log(`${manifest.vectors.length} vectors checked, ${mismatches} mismatches`);
  return mismatches === 0 ? 0 : 1;
}

process.exitCode = main(process.argv[2] ?? join("testdata", "vectors"));
