import type { OpenAPIHono, z } from "@hono/zod-openapi";
import type { Refusal } from "./refusals";
import { errorSchema, type ExtraField, ValidationErrorSchema } from "./schemas";

/** Either scheme will do: Swagger UI's Authorize logs in with the first, scripts paste a token into the second. */
export const bearerSecurity: Record<string, string[]>[] = [{ OAuth2PasswordBearer: [] }, { BearerAuth: [] }];

export function jsonBody<T extends z.ZodType>(schema: T, description: string) {
  return { required: true, description, content: { "application/json": { schema } } };
}

export function jsonResponse<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { "application/json": { schema } } };
}

const VALIDATION = {
  description: "The request did not validate (FastAPI's shape).",
  example: { detail: [{ loc: ["body", "password"], msg: "Field required", type: "missing" }], code: "validation_error" },
};

type HeaderObject = { description: string; required: boolean; schema: { type: "string" | "integer"; enum?: string[] } };

/** The headers of one status's refusals; one is required when every refusal of the status sends it. */
function headersOf(refusals: Refusal[]): Record<string, HeaderObject> {
  const headers: Record<string, HeaderObject> = {};
  for (const refusal of refusals) {
    for (const [name, header] of Object.entries(refusal.headers ?? {})) {
      const schema = header.value === undefined ? { type: header.type } : { type: header.type, enum: [header.value] };
      headers[name] = { description: header.description, required: refusals.every((r) => r.headers?.[name]), schema };
    }
  }
  return headers;
}

/** Each extra body field of a status's refusals, with every value it takes there. */
function fieldsOf(refusals: Refusal[]): Record<string, ExtraField> {
  const fields: Record<string, ExtraField> = {};
  for (const [name, value] of refusals.flatMap((r) => Object.entries(r.fields ?? {}))) {
    const field = (fields[name] ??= { values: [value], required: refusals.every((r) => r.fields?.[name] !== undefined) });
    if (!field.values.includes(value)) field.values.push(value);
  }
  return fields;
}

/**
 * The documented error responses of a route, one per status, from the catalogue entries it can
 * produce: each response lists its codes in its schema, its description and its examples. With
 * `validation`, the 422 also holds FastAPI's validation error.
 */
export function refusalResponses(refusals: readonly Refusal[], validation: boolean) {
  const byStatus = new Map<number, Refusal[]>();
  for (const refusal of refusals) {
    const same = byStatus.get(refusal.status) ?? [];
    if (!same.some((r) => r.code === refusal.code)) same.push(refusal);
    byStatus.set(refusal.status, same);
  }
  if (validation && !byStatus.has(422)) byStatus.set(422, []);
  const responses: Record<number, { description: string; headers?: Record<string, HeaderObject>; content: object }> = {};
  for (const [status, group] of [...byStatus].sort(([a], [b]) => a - b)) {
    const withValidation = validation && status === 422;
    const codes = [...(withValidation ? ["validation_error"] : []), ...group.map((r) => r.code)];
    const description = [...(withValidation ? [VALIDATION.description] : []), ...new Set(group.map((r) => r.when))].join(" ");
    const [first, ...rest] = group.map((r) => r.code);
    const plain = first === undefined ? undefined : errorSchema([first, ...rest], fieldsOf(group));
    const schema = withValidation ? (plain ? ValidationErrorSchema.or(plain) : ValidationErrorSchema) : plain!;
    const examples = Object.fromEntries([
      ...(withValidation ? [["validation_error", { value: VALIDATION.example }]] : []),
      ...group.map((r) => [r.code, { value: { detail: r.detail, code: r.code, ...r.fields } }]),
    ]);
    const headers = headersOf(group);
    responses[status] = {
      description: `${description} ${codes.length > 1 ? "Codes" : "Code"}: ${codes.map((c) => `\`${c}\``).join(", ")}.`,
      ...(Object.keys(headers).length > 0 ? { headers } : {}),
      content: { "application/json": { schema, examples } },
    };
  }
  return responses;
}

type Document = ReturnType<OpenAPIHono["getOpenAPI31Document"]>;

/** `x-request-id` → `X-Request-Id`: Hono reads headers lower-cased, people write them like this. */
const headerName = (name: string) => name.replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase());

/**
 * The request id is read by the shared middleware, not validated by each route's schemas, so it
 * is documented here as plain OpenAPI. No `example`: Swagger UI's "Try it out" would send it,
 * and every request tried from the page would carry the same id.
 */
const requestIdParameter = {
  name: "X-Request-Id",
  in: "header" as const,
  required: false,
  description:
    "Optional id for tracing, up to 128 letters, digits, `.`, `_`, `:` or `-` (a UUID, say); echoed back " +
    "in the response and written to the logs. Without one, or with one not of that form, the service makes one.",
  schema: { type: "string" as const },
};

export const requestIdResponseHeader = {
  description: "The request's id: the `X-Request-Id` sent, or a new one. Quote it when reporting a problem.",
  required: true,
  schema: { type: "string" as const, example: "3f1c2a9e-5b7d-4e0a-9c1b-2d3e4f5a6b7c" },
};

/**
 * Writes into the generated document what no route declares: the `X-Request-Id` request
 * parameter every route reads, header parameters in their usual spelling (the zod keys that
 * validate them must stay lower-case, since that is how Hono hands headers over), and under
 * `components.responses` the answers of paths and methods that no route serves (`extra`).
 */
type Responses = NonNullable<NonNullable<Document["components"]>["responses"]>;

export function finishDocument(doc: Document, extra: Responses): Document {
  for (const item of Object.values(doc.paths ?? {})) {
    for (const method of ["get", "put", "post", "delete", "patch"] as const) {
      const operation = item[method];
      if (!operation) continue;
      for (const parameter of operation.parameters ?? []) {
        if ("in" in parameter && parameter.in === "header") parameter.name = headerName(parameter.name);
      }
      operation.parameters = [...(operation.parameters ?? []), requestIdParameter];
    }
  }
  doc.components = { ...doc.components, responses: { ...doc.components?.responses, ...extra } };
  return doc;
}
