// The generated TypeScript (gen/es, from proto/ by protoc-gen-es) gathered in one registry,
// so that a message type can be looked up by the name the test vectors' manifest gives.
import { createRegistry } from "@bufbuild/protobuf";
import { file_gitpod_v1_identity } from "../gen/es/gitpod/v1/identity_pb.js";
import { file_gitpod_v1_pagination } from "../gen/es/gitpod/v1/pagination_pb.js";
import { file_gitpod_v1_user } from "../gen/es/gitpod/v1/user_pb.js";

export const registry = createRegistry(
  file_gitpod_v1_identity,
  file_gitpod_v1_pagination,
  file_gitpod_v1_user,
);
