import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { Validator } from "@seriousme/openapi-schema-validator";
import { startAuthService, type RunningAuth } from "../auth/test-server";
import { startTransactionService, type RunningTransaction } from "../transaction/test-server";

// Real databases, servers and subprocesses take seconds on a small, busy machine.
setDefaultTimeout(30_000);

/** Every route of ../shared/CONTRACT.md, per service; the documents must list exactly these. */
const CONTRACT = {
  auth: [
    "get /health",
    "get /ready",
    "post /register",
    "post /token",
    "post /change-password",
    "post /verify",
    "post /check-user",
    "post /logout",
    "get /sessions",
    "delete /sessions/{id}",
  ],
  transaction: ["get /health", "get /ready", "post /transfer", "get /transactions", "get /account"],
};
const BEARER_ONLY = [
  "post /change-password",
  "post /verify",
  "post /check-user",
  "post /logout",
  "get /sessions",
  "delete /sessions/{id}",
  "post /transfer",
  "get /transactions",
  "get /account",
];

type Json = Record<string, any>;
let auth: RunningAuth;
let transaction: RunningTransaction;
const docs: Record<keyof typeof CONTRACT, Json> = { auth: {}, transaction: {} };

beforeAll(async () => {
  auth = await startAuthService();
  transaction = await startTransactionService(auth.url);
  docs.auth = (await (await fetch(`${auth.url}/openapi.json`)).json()) as Json;
  docs.transaction = (await (await fetch(`${transaction.url}/openapi.json`)).json()) as Json;
});

afterAll(async () => {
  await transaction?.stop();
  await auth?.stop();
});

function operations(doc: Json): [string, Json][] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item as Json).map(([method, operation]) => [`${method} ${path}`, operation as Json] as [string, Json]),
  );
}

const urlOf = (service: keyof typeof CONTRACT) => (service === "auth" ? auth.url : transaction.url);

for (const service of ["auth", "transaction"] as const) {
  describe(`the ${service} service's OpenAPI document`, () => {
    test("is valid OpenAPI 3.1 by a maintained validator", async () => {
      const result = await new Validator().validate(docs[service]);
      expect(result.errors ?? []).toEqual([]);
      expect(result.valid).toBe(true);
      expect(docs[service].openapi).toBe("3.1.0");
    });

    test("lists every route of the contract and nothing else", () => {
      expect(
        operations(docs[service])
          .map(([name]) => name)
          .sort(),
      ).toEqual([...CONTRACT[service]].sort());
    });

    test("gives every route an id, a tag, a summary and a description", () => {
      for (const [name, operation] of operations(docs[service])) {
        expect({ name, operationId: typeof operation.operationId }).toEqual({ name, operationId: "string" });
        expect({ name, tags: operation.tags?.length ?? 0 }).toEqual({ name, tags: 1 });
        expect({ name, summary: operation.summary?.length > 5 }).toEqual({ name, summary: true });
        expect({ name, description: operation.description?.length > 20 }).toEqual({ name, description: true });
      }
    });

    test("describes every response, and shows each error's code in an example", () => {
      for (const [name, operation] of operations(docs[service])) {
        for (const [status, response] of Object.entries(operation.responses as Json)) {
          const where = `${name} ${status}`;
          expect({ where, description: response.description?.length > 5 }).toEqual({ where, description: true });
          expect({ where, requestId: Boolean(response.headers?.["X-Request-Id"]) }).toEqual({ where, requestId: true });
          if (Number(status) < 400) continue;
          const media = response.content?.["application/json"] ?? {};
          const examples = media.examples ? Object.values(media.examples as Json).map((e) => e.value) : [media.example];
          for (const example of examples) {
            expect({ where, code: example?.code }).toEqual({ where, code: expect.stringMatching(/^[a-z]+(_[a-z]+)*$/) });
            expect({ where, detail: example?.detail !== undefined }).toEqual({ where, detail: true });
            expect(response.description).toContain(`\`${example.code}\``);
          }
        }
      }
    });

    test("documents the X-Request-Id header on every route", () => {
      for (const [name, operation] of operations(docs[service])) {
        const header = (operation.parameters as Json[]).find((p) => p.in === "header" && p.name === "X-Request-Id");
        expect({ name, header: header && { required: header.required, described: header.description.length > 0 } }).toEqual({
          name,
          header: { required: false, described: true },
        });
      }
    });

    test("gives header parameters no example, which Swagger UI's Try it out would send on every request", () => {
      for (const [name, operation] of operations(docs[service])) {
        for (const parameter of (operation.parameters as Json[]).filter((p) => p.in === "header")) {
          const where = `${name} ${parameter.name}`;
          expect({ where, example: parameter.example ?? parameter.schema.example }).toEqual({ where, example: undefined });
        }
      }
    });

    test("calls nothing nullable: no field or parameter of the contract is ever null", () => {
      const nullable = JSON.stringify(docs[service]).match(/"type":\[[^\]]*"null"[^\]]*\]|"nullable":true/g);
      expect(nullable).toBeNull();
    });

    test("offers the OAuth2 password flow and a plain bearer token on every route that needs a token", () => {
      const schemes = docs[service].components.securitySchemes;
      expect(schemes.BearerAuth).toEqual({ type: "http", scheme: "bearer", bearerFormat: "JWT" });
      expect(Object.keys(schemes.OAuth2PasswordBearer.flows)).toEqual(["password"]);
      for (const [name, operation] of operations(docs[service])) {
        const security = BEARER_ONLY.includes(name) ? [{ OAuth2PasswordBearer: [] }, { BearerAuth: [] }] : undefined;
        expect({ name, security: operation.security }).toEqual({ name, security });
        if (security) expect({ name, has401: Boolean(operation.responses["401"]) }).toEqual({ name, has401: true });
      }
    });

    test("declares only statuses the service really answers", async () => {
      // A request with no body and no token must get one of the documented statuses, which
      // catches a route documented at a path or method the app does not serve.
      for (const [name, operation] of operations(docs[service])) {
        const [method, path] = name.split(" ");
        const response = await fetch(`${urlOf(service)}${path}`, { method: method!.toUpperCase() });
        expect({ name, status: Object.keys(operation.responses).includes(String(response.status)) }).toEqual({ name, status: true });
      }
    });

    test("is served as a Swagger UI page that loads nothing from outside the service", async () => {
      const html = await (await fetch(`${urlOf(service)}/docs`)).text();
      const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
      expect(assets.sort()).toEqual(["/docs/swagger-ui-dist/swagger-ui-bundle.js", "/docs/swagger-ui-dist/swagger-ui.css"]);
      expect(html).not.toMatch(/https?:\/\//);
      expect(html).toContain("validatorUrl: 'none'");
      for (const asset of assets) {
        const response = await fetch(`${urlOf(service)}${asset}`);
        expect({ asset, status: response.status }).toEqual({ asset, status: 200 });
        expect((await response.text()).length).toBeGreaterThan(1000);
      }
    });
  });
}

describe("the token URL of Swagger UI's Authorize", () => {
  test("is the auth service's own /token on its page", () => {
    expect(docs.auth.components.securitySchemes.OAuth2PasswordBearer.flows.password.tokenUrl).toBe("/token");
  });

  test("is DOCS_TOKEN_URL on the transaction service's page, and its description says how to get a token", () => {
    expect(transaction.config.DOCS_TOKEN_URL).toBe("http://localhost:8000/token");
    expect(docs.transaction.components.securitySchemes.OAuth2PasswordBearer.flows.password.tokenUrl).toBe("http://localhost:8000/token");
    const description: string = docs.transaction.info.description;
    expect(description).toContain("How to get a token");
    expect(description).toContain("POST /register");
    expect(description).toContain("**Authorize**");
    expect(description).toContain("http://localhost:8000/token");
  });
});

describe("the transfer route's documentation", () => {
  test("documents the Idempotency-Key header and the codes the contract lists", () => {
    const operation = docs.transaction.paths["/transfer"].post;
    const key = operation.parameters.find((p: Json) => p.in === "header" && p.name === "Idempotency-Key");
    expect(key).toMatchObject({ required: false, schema: { type: "string", minLength: 1, maxLength: 255 } });
    const codes = Object.values(operation.responses as Json).flatMap((r) => Object.keys(r.content?.["application/json"]?.examples ?? {}));
    for (const code of [
      "insufficient_funds",
      "self_transfer",
      "receiver_not_found",
      "idempotency_key_in_use",
      "idempotency_key_reused",
      "validation_error",
      "auth_unavailable",
    ]) {
      expect(codes).toContain(code);
    }
  });
});

describe("the token route's documentation", () => {
  test("documents the refresh_token grant, the refresh token answered, and RFC 6749's error in every 400", () => {
    const operation = docs.auth.paths["/token"].post;
    const form = operation.requestBody.content["application/x-www-form-urlencoded"].schema;
    const resolve = (schema: Json) => (schema.$ref ? docs.auth.components.schemas[schema.$ref.split("/").pop()] : schema);
    expect(Object.keys(resolve(form).properties)).toContain("refresh_token");
    expect(Object.keys(resolve(operation.responses["200"].content["application/json"].schema).properties)).toContain("refresh_token");
    const refused = operation.responses["400"].content["application/json"];
    const schema = resolve(refused.schema);
    const required = [schema, ...(schema.allOf ?? []).map(resolve)].flatMap((part: Json) => part.required ?? []);
    expect(required).toEqual(expect.arrayContaining(["detail", "code", "error"]));
    const examples = Object.values(refused.examples as Json).map((e) => [e.value.code, e.value.error]);
    expect(examples.sort()).toEqual([
      ["bad_request", "invalid_request"],
      ["invalid_credentials", "invalid_grant"],
      ["invalid_grant", "invalid_grant"],
      ["invalid_request", "invalid_request"],
      ["unsupported_grant_type", "unsupported_grant_type"],
    ]);
  });
});
