import fc from "fast-check";

/** What the property-based tests of both services share: random requests built from a route's document, and what no answer may be. */

type Json = Record<string, any>;

export interface Route {
  method: string;
  path: string;
  operation: Json;
  /** The fields of the JSON body the route documents. */
  fields: string[];
}

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed JSON body, or the text of any other, as common/openapi-conformance.ts reads it. */
  body: unknown;
}

export interface FuzzRequest {
  path: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
}

/** Every operation of the document but the docs themselves. */
export function routesOf(doc: Json): Route[] {
  const resolve = (schema: Json | undefined): Json | undefined =>
    schema?.$ref ? doc.components?.schemas?.[String(schema.$ref).replace("#/components/schemas/", "")] : schema;
  return Object.entries(doc.paths as Json).flatMap(([path, item]) =>
    Object.entries(item as Json).map(([method, operation]) => {
      const body = resolve(operation.requestBody?.content?.["application/json"]?.schema);
      return { method: method.toUpperCase(), path, operation, fields: Object.keys(body?.properties ?? {}) };
    }),
  );
}

/** Printable ASCII, what a header value can always carry. */
const printable = (maxLength: number) => fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength });
/** Any UTF-16 units (lone surrogates included), graphemes, or printable text. */
const anyText = (maxLength: number) => fc.oneof(printable(maxLength), fc.string({ unit: "binary", maxLength }), fc.string({ unit: "grapheme", maxLength }));
const anyValue = fc.oneof(fc.jsonValue({ maxDepth: 3 }), anyText(300), fc.double(), fc.bigInt().map(String));

const base64url = (n: number) =>
  fc.string({ unit: fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), minLength: 1, maxLength: n });

/** A form of the fields, each value as text (or, when not a string, as JSON). */
const formOf = (fields: Record<string, unknown>) =>
  new URLSearchParams(Object.entries(fields).map(([k, v]): [string, string] => [k, typeof v === "string" ? v : (JSON.stringify(v) ?? "")])).toString();

/** Tokens: none, the given good and revoked ones, and every kind of garbage after `Bearer`. */
function authorization(tokens: () => string[]) {
  return fc.oneof(
    fc.constant(undefined),
    { weight: 4, arbitrary: fc.integer({ min: 0, max: 99 }).map((i) => `Bearer ${tokens()[i % 4 === 0 ? i % tokens().length : 0]}`) },
    fc.tuple(base64url(60), base64url(200), base64url(60)).map(([h, p, s]) => `Bearer ${h}.${p}.${s}`),
    printable(200).map((t) => `Bearer ${t}`),
    printable(200),
  );
}

const CONTENT_TYPES = [
  "application/json",
  "application/x-www-form-urlencoded",
  "text/plain",
  "multipart/form-data; boundary=x",
  "application/json; charset=utf-16",
  "application/xml",
  "",
];

/**
 * Random requests to one route: its documented fields with plausible or random values (so that
 * some get past validation and reach the route's logic), random JSON, raw text or bytes, any
 * content type, query strings and headers, good and bad tokens.
 */
export function requests(route: Route, plausible: Record<string, unknown[]>, tokens: () => string[]): fc.Arbitrary<FuzzRequest> {
  const { fields } = route;
  const value = (field: string) =>
    plausible[field]?.length ? fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...plausible[field]!) }, { weight: 1, arbitrary: anyValue }) : anyValue;
  // Every documented field, now and then one left out, so that a good share of requests is valid.
  const dropped = fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom(undefined, ...fields) });
  const object = fc.tuple(fc.record(Object.fromEntries(fields.map((f) => [f, value(f)]))), dropped).map(([o, drop]) => {
    const copy: Record<string, unknown> = { ...o };
    if (drop !== undefined) delete copy[drop];
    return copy;
  });
  const extras = fc.oneof({ weight: 3, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: fc.dictionary(printable(20), anyValue, { maxKeys: 3 }) });
  const withExtra = fc.tuple(object, extras).map(([o, extra]) => ({ ...extra, ...o }));
  const params = (route.operation.parameters ?? []) as Json[];
  const queryNames = params.filter((p) => p.in === "query").map((p) => p.name as string);
  const queryValues = (plausible.query ?? ["0"]).map(String);
  const query = fc.dictionary(fc.oneof(fc.constantFrom("x", ...queryNames), printable(10)), fc.oneof(fc.constantFrom(...queryValues), anyText(50)), {
    maxKeys: 4,
  });
  const pathParams = fc.array(fc.oneof(fc.constantFrom(...(plausible.pathParam ?? ["1"]).map(String)), anyText(40)), { minLength: 3, maxLength: 3 });
  const body: fc.Arbitrary<{ body?: string | Uint8Array; type?: string }> =
    route.method === "GET"
      ? fc.constant({})
      : fc.oneof(
          { weight: 4, arbitrary: withExtra.map((o) => ({ body: JSON.stringify(o), type: "application/json" })) },
          { weight: 2, arbitrary: object.map((o) => ({ body: formOf(o), type: "application/x-www-form-urlencoded" })) },
          { weight: 1, arbitrary: fc.jsonValue().map((v) => ({ body: JSON.stringify(v), type: "application/json" })) },
          { weight: 1, arbitrary: anyText(500).map((text) => ({ body: text })) },
          { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((bytes) => ({ body: bytes })) },
          { weight: 1, arbitrary: fc.constant({}) },
        );
  const headers = fc.record(
    {
      authorization: authorization(tokens),
      type: fc.oneof(fc.constant(undefined), fc.constantFrom(...CONTENT_TYPES), printable(60)),
      keepType: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
      "idempotency-key": printable(300),
      "x-request-id": printable(200),
      extra: fc.tuple(fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/), printable(100)),
    },
    { requiredKeys: ["keepType", "authorization"] },
  );
  return fc.tuple(body, headers, query, pathParams).map(([b, h, q, p]) => {
    const out: Record<string, string> = {};
    if (h.authorization !== undefined) out.authorization = h.authorization;
    const type = h.keepType ? b.type : h.type;
    if (type !== undefined) out["content-type"] = type;
    if (h["idempotency-key"] !== undefined) out["idempotency-key"] = h["idempotency-key"];
    if (h["x-request-id"] !== undefined) out["x-request-id"] = h["x-request-id"];
    if (h.extra && !["host", "content-length", "transfer-encoding", "connection", "expect"].includes(h.extra[0])) out[h.extra[0]] = h.extra[1];
    let i = 0;
    const path = route.path.replace(/\{[^}]+\}/g, () => encodeURIComponent(p[i++]!));
    const search = new URLSearchParams(q).toString();
    return { path: search ? `${path}?${search}` : path, headers: out, body: b.body };
  });
}

export async function send(baseUrl: string, route: Route, request: FuzzRequest): Promise<Reply> {
  const response = await fetch(`${baseUrl}${request.path}`, { method: route.method, headers: request.headers, body: request.body });
  const text = await response.text();
  let body: unknown = text;
  if (response.headers.get("content-type")?.includes("json")) body = JSON.parse(text);
  return { status: response.status, headers: response.headers, text, body };
}

/**
 * What an error body or any header must never show: a stack frame, a source path, SQL or a
 * PostgreSQL message, the framework's or runtime's name, an internal address.
 */
export const DISCLOSURE =
  /(\bat \S+ \(|\.[jt]sx?:\d+|node_modules|\/(work|home|usr|tmp|app|src)\/|\bSELECT\b|\bINSERT INTO\b|\bDELETE FROM\b|\bUPDATE \w+ SET\b|postgres|syntax error at|violates \S+ constraint|\bhono\b|\bzod\b|\bbun\b|stack|localhost|127\.0\.0\.1|\[::1\]|_service:\d+|_db:\d+)/i;
/** JavaScript's error names (TypeError, PostgresError, …), which only a leaked exception would show. */
const ERROR_NAME = /\b[A-Z][A-Za-z]*Error\b/;
export const DISCLOSING_HEADERS = ["server", "x-powered-by", "x-runtime", "x-aspnet-version", "via"];

/** Everything wrong with one answer: a 5xx, a disclosure, or a response its document does not describe. */
export function problemsOf(reply: Reply, undocumented: string[]): string[] {
  const found: string[] = [];
  if (reply.status >= 500) found.push(`answered ${reply.status}: ${reply.text.slice(0, 200)}`);
  const leak = reply.status >= 300 ? (DISCLOSURE.exec(reply.text) ?? ERROR_NAME.exec(reply.text)) : null;
  if (leak) found.push(`the body discloses "${leak[0]}": ${reply.text.slice(0, 200)}`);
  for (const name of DISCLOSING_HEADERS) if (reply.headers.has(name)) found.push(`header ${name}: ${reply.headers.get(name)}`);
  return [...found, ...undocumented];
}
