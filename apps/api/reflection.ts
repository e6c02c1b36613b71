import { createRequire } from "node:module";
import type * as grpc from "@grpc/grpc-js";
import { loadSync, type PackageDefinition } from "@grpc/proto-loader";
import { ReflectionService } from "@grpc/reflection";
import { loadDescriptorSet } from "../../libs/proto/index.js";

const require = createRequire(import.meta.url);
// protobufjs's descriptor messages; @grpc/reflection decodes what it is given with the same ones.
const { FileDescriptorSet, FileDescriptorProto } = require("protobufjs/ext/descriptor") as {
  FileDescriptorSet: { decode(bytes: Uint8Array): { file: { name?: string }[] } };
  FileDescriptorProto: {
    encode(file: object): { finish(): Uint8Array };
    decode(bytes: Uint8Array): { name?: string; package?: string; messageType?: MessageDescriptor[] };
  };
};

/** The file name every client expects for the standard health service. */
const HEALTH_FILE = "grpc/health/v1/health.proto";

/**
 * gRPC server reflection (v1 and v1alpha) over the contract's files exactly as buf built them
 * (jq.binpb: jq/v1/*.proto and the well-known types they import, under their real names) plus the
 * standard health service, so grpcurl and other clients can list, describe and call every RPC
 * with no .proto files.
 *
 * Why not `loadFileDescriptorSetFromBuffer(...)` as @grpc/reflection's README shows: proto-loader
 * rebuilds the files through protobufjs, which merges them by package and drops the
 * google/protobuf imports, so a client asking for jq.v1.AdminService could not resolve
 * `google.protobuf.Timestamp`. Here @grpc/reflection gets the original FileDescriptorProtos in
 * the one field it reads (`fileDescriptorProtos`).
 */
export function reflectionService(): { addToServer(server: grpc.Server): void } {
  const files = FileDescriptorSet.decode(loadDescriptorSet()).file.map((file) =>
    FileDescriptorProto.encode(file).finish(),
  );
  files.push(healthFile());
  const definition = {
    "jq.reflection.files": { format: "Protocol Buffer 3 FileDescriptorProto", type: {}, fileDescriptorProtos: files },
  } as unknown as PackageDefinition;
  return new ReflectionService(definition);
}

interface MessageDescriptor {
  name?: string;
  field?: { name?: string; typeName?: string }[];
  nestedType?: MessageDescriptor[];
  options?: { mapEntry?: boolean };
}

/**
 * grpc.health.v1's file from grpc-health-check's own health.proto (the implementation that
 * serves it), named as in the grpc repository so clients that import it by name find it.
 * protobufjs names a map's entry message after the field (`Statuses`) where protoc and every
 * strict client want `StatusesEntry`; the entries are renamed here.
 */
function healthFile(): Uint8Array {
  const definition = loadSync(require.resolve("grpc-health-check/proto/health/v1/health.proto"));
  for (const type of Object.values(definition)) {
    // Message and enum entries carry the file (services only their methods).
    for (const bytes of (type as { fileDescriptorProtos?: Buffer[] }).fileDescriptorProtos ?? []) {
      const file = FileDescriptorProto.decode(bytes);
      if (file.package === "grpc.health.v1") {
        file.name = HEALTH_FILE;
        for (const message of file.messageType ?? []) nameMapEntries(message);
        return FileDescriptorProto.encode(file).finish();
      }
    }
  }
  throw new Error("grpc-health-check's health.proto has no grpc.health.v1 file");
}

function nameMapEntries(message: MessageDescriptor): void {
  for (const nested of message.nestedType ?? []) {
    nameMapEntries(nested);
    if (!nested.options?.mapEntry || !nested.name || nested.name.endsWith("Entry")) continue;
    const old = nested.name;
    nested.name = `${old}Entry`;
    for (const field of message.field ?? []) {
      if (field.typeName?.split(".").at(-1) === old) field.typeName = `${field.typeName.slice(0, -old.length)}${nested.name}`;
    }
  }
}
