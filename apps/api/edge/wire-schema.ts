import { loadFileDescriptorSetFromBuffer } from "@grpc/proto-loader";
import { loadDescriptorSet } from "../../../libs/proto/index.js";

/** What the request scanner needs to know about one field of a message. */
export interface WireField {
  readonly name: string;
  readonly repeated: boolean;
  /** Protobuf scalar kind ("TYPE_STRING", "TYPE_INT32", …) or "TYPE_MESSAGE". */
  readonly type: string;
  /** The field's message type, for TYPE_MESSAGE fields. */
  message?: WireMessage;
}

export interface WireMessage {
  readonly fullName: string;
  readonly mapEntry: boolean;
  readonly fields: ReadonlyMap<number, WireField>;
}

interface RawField {
  name: string;
  number: number;
  label: string;
  type: string;
  typeName: string;
}
interface RawMessage {
  name: string;
  field: RawField[];
  nestedType: RawMessage[];
}
interface RawMethod {
  path: string;
  requestType: { type: RawMessage };
}

/**
 * The shape of every request message of jq.v1, read from the descriptor set that reflection
 * serves (libs/proto), so the scanner follows the contract without a hand-kept copy.
 * Returns the request type of every method, by its path (`/jq.v1.JobService/SubmitJobs`).
 */
export function loadRequestSchemas(): Map<string, WireMessage> {
  const definition = loadFileDescriptorSetFromBuffer(loadDescriptorSet()) as unknown as Record<string, unknown>;
  const messages = new Map<string, { raw: RawMessage; wire: WireMessage }>();
  // proto-loader's DescriptorProto objects share one options object between a message and its
  // nested map entries, so `options.mapEntry` cannot be trusted: a map entry is recognised by its
  // shape (a nested `…Entry` of exactly `key = 1`, `value = 2`).
  const register = (fullName: string, raw: RawMessage, nested: boolean) => {
    const keyValue = raw.field.length === 2 && raw.field.some((f) => f.name === "key" && f.number === 1) && raw.field.some((f) => f.name === "value" && f.number === 2);
    const wire: WireMessage = { fullName, mapEntry: nested && raw.name.endsWith("Entry") && keyValue, fields: new Map() };
    messages.set(fullName, { raw, wire });
    for (const n of raw.nestedType ?? []) register(`${fullName}.${n.name}`, n, true);
  };
  for (const [name, value] of Object.entries(definition)) {
    const type = (value as { format?: string; type?: RawMessage }).type;
    if ((value as { format?: string }).format?.includes("DescriptorProto") && type && "field" in type) register(name, type, false);
  }
  const resolve = (scope: string, typeName: string): WireMessage | undefined => {
    if (typeName.startsWith(".")) return messages.get(typeName.slice(1))?.wire;
    for (let s = scope; ; s = s.slice(0, Math.max(0, s.lastIndexOf(".")))) {
      const found = messages.get(s ? `${s}.${typeName}` : typeName);
      if (found) return found.wire;
      if (!s) return undefined;
    }
  };
  for (const { raw, wire } of messages.values()) {
    const fields = wire.fields as Map<number, WireField>;
    for (const f of raw.field) {
      const field: WireField = { name: f.name, repeated: f.label === "LABEL_REPEATED", type: f.type };
      if (f.type === "TYPE_MESSAGE") field.message = resolve(wire.fullName, f.typeName);
      fields.set(f.number, field);
    }
  }
  const requests = new Map<string, WireMessage>();
  for (const value of Object.values(definition)) {
    if ((value as { format?: string }).format !== undefined) continue;
    for (const method of Object.values(value as Record<string, RawMethod>)) {
      if (typeof method?.path !== "string") continue;
      const name = method.path.split("/")[1]!.split(".").slice(0, -1).join(".");
      const wire = messages.get(`${name}.${method.requestType.type.name}`)?.wire ?? findByShortName(messages, method.requestType.type.name);
      if (wire) requests.set(method.path, wire);
    }
  }
  return requests;
}

function findByShortName(messages: Map<string, { wire: WireMessage }>, short: string): WireMessage | undefined {
  for (const [name, m] of messages) if (name.endsWith(`.${short}`)) return m.wire;
  return undefined;
}
