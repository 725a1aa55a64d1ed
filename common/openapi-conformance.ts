import Ajv2020, { type ValidateFunction } from "ajv/dist/2020";
import addFormats from "ajv-formats";

/**
 * Test support: whether a response is one that a service's own OpenAPI document describes. The
 * schemas are the document's own, checked by Ajv (JSON Schema 2020-12, OpenAPI 3.1's dialect);
 * this file only finds which part of the document a response must match.
 */

type Json = Record<string, any>;

export interface ObservedResponse {
  status: number;
  headers: Headers;
  /** The parsed JSON body, or the text of any other. */
  body: unknown;
}

/** The document and the viewer serve the API's description; they are not part of it. */
const DESCRIBING_PATHS = /^\/(openapi\.json|docs(\/.*)?)$/;

interface Compiled {
  ajv: Ajv2020;
  validators: Map<string, ValidateFunction>;
}
const compiled = new WeakMap<Json, Compiled>();

/** Ajv with the whole document as one schema, so that its `#/components/schemas/...` references resolve. */
function validatorAt(doc: Json, pointer: string): ValidateFunction {
  let entry = compiled.get(doc);
  if (!entry) {
    const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
    addFormats(ajv);
    ajv.addSchema(doc, "openapi");
    entry = { ajv, validators: new Map() };
    compiled.set(doc, entry);
  }
  let validate = entry.validators.get(pointer);
  if (!validate) {
    validate = entry.ajv.compile({ $ref: `openapi#${pointer}` });
    entry.validators.set(pointer, validate);
  }
  return validate;
}

const escape = (part: string) => part.replaceAll("~", "~0").replaceAll("/", "~1");
const pointerOf = (...parts: string[]) => parts.map((p) => `/${escape(p)}`).join("");

function resolve(doc: Json, value: Json, pointer: string): [Json, string] {
  const ref = value.$ref as string | undefined;
  if (!ref?.startsWith("#/")) return [value, pointer];
  const target = ref.slice(1);
  const found = target
    .split("/")
    .slice(1)
    .reduce<Json | undefined>((node, part) => node?.[part.replaceAll("~1", "/").replaceAll("~0", "~")], doc);
  if (!found) throw new Error(`the document has no ${ref}`);
  return [found, target];
}

/** The documented path that a request path falls under: `/sessions/7` under `/sessions/{id}`. */
function documentedPath(doc: Json, path: string): string | undefined {
  return Object.keys(doc.paths ?? {}).find((template) =>
    new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{[^}]+\}/g, "[^/]+")}$`).test(path),
  );
}

/** The answers of a request that no operation serves, under `components.responses`. */
const UNROUTED: Record<number, string> = { 204: "CorsPreflight", 404: "NotFound", 405: "MethodNotAllowed", 413: "PayloadTooLarge" };

/** The response object (and where it lives in the document) that `method path` answering `status` must match. */
function expectedResponse(doc: Json, method: string, path: string, status: number): [Json, string] | string {
  const template = documentedPath(doc, path);
  const lower = method.toLowerCase() === "head" ? "get" : method.toLowerCase();
  const operation = template === undefined ? undefined : doc.paths[template][lower];
  if (template === undefined || !operation) {
    const name = UNROUTED[status];
    // An unknown path is a 404 and an unserved method a 405, never the other way round; only a
    // CORS preflight is answered before either is decided.
    const known = template !== undefined || DESCRIBING_PATHS.test(path);
    const fits = { 204: method === "OPTIONS", 404: !known, 405: known, 413: true }[status];
    if (name && fits && doc.components?.responses?.[name]) return [doc.components.responses[name], pointerOf("components", "responses", name)];
    return template === undefined ? "no such path" : `no ${method} operation`;
  }
  const key = [String(status), `${String(status)[0]}XX`, "default"].find((k) => operation.responses?.[k]);
  if (!key) return `status ${status} is not documented`;
  return resolve(doc, operation.responses[key], pointerOf("paths", template, lower, "responses", key));
}

/**
 * What is wrong with the response according to the document: its status, each documented
 * header (present when required, of its schema), its media type, and its body against the
 * schema. Empty when the document describes it.
 */
export function undocumentedParts(doc: Json, method: string, url: string, response: ObservedResponse): string[] {
  const path = new URL(url, "http://service").pathname;
  if (DESCRIBING_PATHS.test(path) && response.status < 400) return [];
  const expected = expectedResponse(doc, method, path, response.status);
  if (typeof expected === "string") return [expected];
  const [declared, pointer] = expected;
  const problems: string[] = [];
  for (const [name, header] of Object.entries((declared.headers ?? {}) as Json)) {
    const value = response.headers.get(name);
    if (value === null) {
      if (header.required) problems.push(`header ${name} is missing`);
      continue;
    }
    const schema = header.schema ?? {};
    const typed = schema.type === "integer" && /^-?\d+$/.test(value) ? Number(value) : value;
    const validate = validatorAt(doc, `${pointer}${pointerOf("headers", name, "schema")}`);
    if (!validate(typed)) problems.push(`header ${name}: ${value} ${validate.errors?.map((e) => e.message).join(", ")}`);
  }
  const content = (declared.content ?? {}) as Json;
  const media = response.headers.get("content-type")?.split(";")[0]?.trim().toLowerCase();
  const empty = response.body === "" || response.body === undefined || method.toUpperCase() === "HEAD";
  if (Object.keys(content).length === 0) {
    if (!empty) problems.push(`a body where none is documented (${media})`);
    return problems;
  }
  if (method.toUpperCase() === "HEAD") return problems;
  if (!media || !content[media]) return [...problems, `media type ${media} is not documented (${Object.keys(content).join(", ")})`];
  if (content[media].schema) {
    const validate = validatorAt(doc, `${pointer}${pointerOf("content", media, "schema")}`);
    if (!validate(response.body)) {
      const errors = validate.errors?.map((e) => `${e.instancePath || "body"} ${e.message} ${JSON.stringify(e.params)}`);
      problems.push(`body ${JSON.stringify(response.body).slice(0, 300)}: ${errors?.join("; ")}`);
    }
  }
  return problems;
}

/** Throws, naming each problem, unless the service's document describes the response exactly. */
export function assertDocumented(doc: Json, method: string, url: string, response: ObservedResponse): void {
  const problems = undocumentedParts(doc, method, url, response);
  if (problems.length > 0) {
    const path = new URL(url, "http://service").pathname;
    throw new Error(`${method} ${path} answered ${response.status}, which the OpenAPI document does not describe: ${problems.join("; ")}`);
  }
}
