import type { OpenAPIHono } from "@hono/zod-openapi";
import { swaggerUI } from "@hono/swagger-ui";
import { dirname } from "node:path";
import { refuse } from "./errors";
import { finishDocument, requestIdResponseHeader } from "./openapi";
import { type Refusal, SHARED_REFUSALS } from "./refusals";
import type { AppEnv } from "./request-context";

export interface DocsOptions {
  title: string;
  description: string;
  securitySchemes: Record<string, SecurityScheme>;
  tags: { name: string; description: string }[];
  /** Origins allowed to call this service from a browser (another service's Swagger UI). */
  corsOrigins?: string[];
}
type SecurityScheme = Parameters<OpenAPIHono["openAPIRegistry"]["registerComponent"]>[2];
type ResponseObject = NonNullable<NonNullable<ReturnType<OpenAPIHono["getOpenAPI31Document"]>["components"]>["responses"]>[string];

const SWAGGER_ASSETS = new Set(["swagger-ui.css", "swagger-ui-bundle.js"]);
const swaggerDist = dirname(Bun.resolveSync("swagger-ui-dist/package.json", import.meta.dir));

/** A refusal as plain OpenAPI, for the responses no route declares. */
function plainResponse(refusal: Refusal): ResponseObject {
  const headers = Object.fromEntries(
    Object.entries(refusal.headers ?? {}).map(([name, h]) => [name, { description: h.description, required: true, schema: { type: h.type } } as const]),
  );
  return {
    description: `${refusal.when} Code: \`${refusal.code}\`.`,
    headers: { ...headers, "X-Request-Id": requestIdResponseHeader },
    content: {
      "application/json": {
        schema: {
          type: "object",
          required: ["detail", "code"],
          properties: { detail: { type: "string" }, code: { type: "string", enum: [refusal.code] } },
        },
        example: { detail: refusal.detail, code: refusal.code },
      },
    },
  };
}

/**
 * Answers that belong to no route: a path no route serves is a 404, and a method a path does not
 * serve is a 405 whose `Allow` lists those it does; a body over the limit is refused before
 * any route is looked for, so it is a 413 there too. They are documented once, under
 * `components.responses`, since OpenAPI has no place for an operation that does not exist.
 */
const UNROUTED_RESPONSES = {
  NotFound: plainResponse(SHARED_REFUSALS.not_found),
  MethodNotAllowed: plainResponse(SHARED_REFUSALS.method_not_allowed),
  PayloadTooLarge: plainResponse(SHARED_REFUSALS.payload_too_large),
};

/** With CORS, an OPTIONS request to any path is a preflight, answered before routing. */
const CORS_PREFLIGHT: ResponseObject = {
  description: "A CORS preflight (any OPTIONS request): no body; the `Access-Control-Allow-*` headers say what a page of an allowed origin may send.",
  headers: { "X-Request-Id": requestIdResponseHeader },
};

type Document = ReturnType<OpenAPIHono["getOpenAPI31Document"]>;
const documents = new WeakMap<object, () => Document>();

/** The document `/openapi.json` serves, without a request (and so without a line in the log). */
export function openAPIDocument(app: object): Document {
  const document = documents.get(app);
  if (!document) throw new Error("not an app built by createServiceApp");
  return document();
}

/** `/openapi.json` (OpenAPI 3.1) and Swagger UI at `/docs`, with its assets served locally. */
export function docsRoutes(app: OpenAPIHono<AppEnv>, options: DocsOptions) {
  for (const [name, scheme] of Object.entries(options.securitySchemes)) {
    app.openAPIRegistry.registerComponent("securitySchemes", name, scheme);
  }
  const document = () =>
    finishDocument(
      app.getOpenAPI31Document({
        openapi: "3.1.0",
        info: { title: options.title, version: "1.0.0", description: options.description },
        tags: options.tags,
      }),
      options.corsOrigins?.length ? { ...UNROUTED_RESPONSES, CorsPreflight: CORS_PREFLIGHT } : UNROUTED_RESPONSES,
    );
  documents.set(app, document);
  app.get("/openapi.json", (c) => c.json(document()));
  // `validatorUrl: "none"`: Swagger UI would otherwise send the document to validator.swagger.io.
  app.get(
    "/docs",
    swaggerUI({
      url: "/openapi.json",
      baseUrl: "/docs",
      title: options.title,
      persistAuthorization: true,
      displayRequestDuration: true,
      validatorUrl: "none",
    }),
  );
  // @hono/swagger-ui points at `${baseUrl}/swagger-ui-dist/…`; the files come from the
  // swagger-ui-dist package, so the page works with no internet access.
  app.get("/docs/swagger-ui-dist/:file", (c) => {
    const file = c.req.param("file");
    if (!SWAGGER_ASSETS.has(file)) throw refuse(SHARED_REFUSALS.not_found);
    return new Response(Bun.file(`${swaggerDist}/${file}`), {
      headers: { "Cache-Control": "public, max-age=86400" },
    });
  });
}
