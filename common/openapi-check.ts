import Ajv2020 from "ajv/dist/2020";

type Json = Record<string, any>;

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
}

/** `#/components/schemas/X` → `#/$defs/X`, so that each response schema compiles on its own. */
function localRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(localRefs);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, v]) => [key, key === "$ref" && typeof v === "string" ? v.replace("#/components/schemas/", "#/$defs/") : localRefs(v)]),
  );
}

/**
 * Checks a real response against the service's own OpenAPI document: the status is documented
 * for the operation, the content type is one it documents, and a JSON body validates against
 * the documented schema (by Ajv, a maintained JSON Schema 2020-12 validator, as OpenAPI 3.1 uses).
 * Answers what is wrong, or undefined.
 */
export function responseChecker(doc: Json) {
  const ajv = new Ajv2020({ strict: false, allErrors: false, validateFormats: false });
  const defs = localRefs(doc.components?.schemas ?? {});
  const compiled = new Map<string, ReturnType<typeof ajv.compile>>();
  const validator = (where: string, schema: Json) => {
    let validate = compiled.get(where);
    if (!validate) compiled.set(where, (validate = ajv.compile({ ...(localRefs(schema) as Json), $defs: defs })));
    return validate;
  };

  return (method: string, path: string, reply: Reply): string | undefined => {
    const operation = doc.paths?.[path]?.[method.toLowerCase()];
    if (!operation) return `${method} ${path} is not in the document`;
    const response = operation.responses?.[String(reply.status)] ?? operation.responses?.default;
    if (!response) return `${method} ${path} answered ${reply.status}, which its document does not list`;
    const where = `${method} ${path} ${reply.status}`;
    if (!response.content) return reply.text === "" ? undefined : `${where} has a body its document does not describe`;
    const type = (reply.headers.get("content-type") ?? "").split(";")[0]!.trim();
    const media = response.content[type];
    if (!media) return `${where} is ${type || "untyped"}; the document says ${Object.keys(response.content).join(", ")}`;
    if (!type.endsWith("json") || !media.schema) return undefined;
    let body: unknown;
    try {
      body = JSON.parse(reply.text);
    } catch {
      return `${where} is not JSON: ${reply.text.slice(0, 100)}`;
    }
    const validate = validator(where, media.schema);
    if (validate(body)) return undefined;
    return `${where} does not match its schema (${ajv.errorsText(validate.errors)}): ${reply.text.slice(0, 200)}`;
  };
}
