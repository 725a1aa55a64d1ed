import { z } from "@hono/zod-openapi";

export const ErrorSchema = z
  .object({
    detail: z.string().openapi({ description: "A sentence for humans." }),
    code: z.string().openapi({ description: "Stable, machine-readable snake_case code." }),
  })
  .openapi("Error");

export const ValidationErrorSchema = z
  .object({
    detail: z.array(
      z.object({
        loc: z.array(z.union([z.string(), z.number()])),
        msg: z.string(),
        type: z.string(),
      }),
    ),
    code: z.literal("validation_error"),
  })
  .openapi("ValidationError");

type Example = { code: string; detail: string };

/** Either scheme will do: Swagger UI's Authorize logs in with the first, scripts paste a token into the second. */
export const bearerSecurity: Record<string, string[]>[] = [{ OAuth2PasswordBearer: [] }, { BearerAuth: [] }];

/** One documented error response: its status, what it means, and each `code` it can carry. */
export function errorResponse(description: string, ...examples: Example[]) {
  return {
    description: `${description} Codes: ${examples.map((e) => `\`${e.code}\``).join(", ")}.`,
    content: {
      "application/json": {
        schema: ErrorSchema,
        examples: Object.fromEntries(examples.map((e) => [e.code, { value: e }])),
      },
    },
  };
}

export const validationResponse = {
  description: "The request did not validate (FastAPI's shape). Code: `validation_error`.",
  content: {
    "application/json": {
      schema: ValidationErrorSchema,
      example: {
        detail: [{ loc: ["body", "password"], msg: "Field required", type: "missing" }],
        code: "validation_error",
      },
    },
  },
};

export const unauthorizedResponse = errorResponse(
  "Missing, malformed, expired, wrongly signed or revoked token. Carries `WWW-Authenticate: Bearer`.",
  { code: "not_authenticated", detail: "Not authenticated" },
  { code: "invalid_token", detail: "Could not validate credentials" },
);

export const RequestIdHeader = z
  .string()
  .optional()
  .openapi({
    param: { name: "x-request-id", in: "header" },
    description: "Optional id for tracing; echoed back in the response and written to the logs.",
    example: "3f1c2a9e-5b7d-4e0a-9c1b-2d3e4f5a6b7c",
  });

export function jsonBody<T extends z.ZodType>(schema: T, description: string) {
  return { required: true, description, content: { "application/json": { schema } } };
}

export function jsonResponse<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { "application/json": { schema } } };
}
