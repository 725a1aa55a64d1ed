import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { chromium, type Browser, type Locator, type Page } from "playwright-core";
import { startAuthService, type RunningAuth } from "../auth/test-server";
import { startTransactionService, type RunningTransaction } from "../transaction/test-server";
import { freePort } from "../scripts/processes";

/**
 * Drives both services' Swagger UI in Debian's Chromium, as a person would: register on the auth
 * page, then on the transaction page authorize with the OAuth2 password flow (a cross-origin
 * call to the auth service's /token, allowed by its CORS_ORIGINS) and move money. Any request
 * the pages make to a third origin fails the test: the docs must work with no internet.
 */
const CHROMIUM = "/usr/bin/chromium";
const ARTIFACTS = `${import.meta.dir}/../test-artifacts`;
const STEP_MS = 15_000;

let auth: RunningAuth;
let transaction: RunningTransaction;
let browser: Browser;
const requested: string[] = [];

beforeAll(async () => {
  // Each service must know the other before it starts: the auth service the transaction page's
  // origin (CORS), the transaction service the auth service's URL. So the port comes first.
  const transactionPort = freePort();
  auth = await startAuthService({ CORS_ORIGINS: `http://127.0.0.1:${transactionPort}` });
  transaction = await startTransactionService(auth.url, { DOCS_TOKEN_URL: `${auth.url}/token` }, transactionPort);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
  mkdirSync(ARTIFACTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await transaction?.stop();
  await auth?.stop();
});

async function openDocs(page: Page, url: string) {
  await page.goto(`${url}/docs`);
  await page.locator(".swagger-ui .information-container .title").waitFor({ timeout: STEP_MS });
}

/** Expands an operation, presses "Try it out", optionally fills the JSON body, and executes it. */
async function execute(page: Page, operationDomId: string, body?: unknown): Promise<Locator> {
  const operation = page.locator(`#${operationDomId}`);
  await operation.locator(".opblock-summary-control").click();
  await operation.locator(".try-out__btn").click();
  if (body !== undefined) await operation.locator("textarea.body-param__text").fill(JSON.stringify(body));
  await operation.locator("button.execute").click();
  const live = operation.locator(".responses-wrapper .live-responses-table .response");
  await live.first().waitFor({ timeout: STEP_MS });
  return live.first();
}

/** Logs in through the Authorize dialog's OAuth2 password form, against the scheme's tokenUrl. */
async function authorize(page: Page, username: string, password: string) {
  await page.locator(".scheme-container .btn.authorize").click();
  // Once authorized the form's inputs are gone, so the container is found by its scheme's name.
  const oauth = page.locator(".modal-ux .auth-container").filter({ hasText: "OAuth2PasswordBearer" });
  await oauth.locator("#oauth_username").fill(username);
  await oauth.locator("#oauth_password").fill(password);
  await oauth.locator(".btn.modal-btn.auth.authorize").click();
  // Swagger UI swaps Authorize for Logout once /token has answered with a token.
  await oauth.getByRole("button", { name: "Remove authorization" }).waitFor({ timeout: STEP_MS });
  await page.locator(".modal-ux button.close-modal").click();
}

async function expectResponse(response: Locator, status: string, ...contains: string[]) {
  expect((await response.locator(".response-col_status").innerText()).trim()).toBe(status);
  const body = await response.locator(".response-col_description pre").first().innerText();
  for (const text of contains) expect(body).toContain(text);
}

test("a person registers, authorizes and moves money from the two Swagger UI pages, with no outside request", async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.on("request", (request) => requested.push(request.url()));
  const suffix = Date.now().toString(36);
  const sender = { username: `ui_sender_${suffix}`, email: `ui_sender_${suffix}@example.com`, password: "password-123" };
  const receiver = `ui_receiver_${suffix}`;

  await openDocs(page, auth.url);
  await expectResponse(await execute(page, "operations-auth-register", sender), "200", `"username": "${sender.username}"`);
  // The auth page's own Authorize uses the relative tokenUrl `/token`.
  await authorize(page, sender.username, sender.password);
  await expectResponse(await execute(page, "operations-auth-verify"), "200", `"username": "${sender.username}"`);
  await page.screenshot({ path: `${ARTIFACTS}/auth-docs.png`, fullPage: true });

  const registered = await fetch(`${auth.url}/register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: receiver, email: `${receiver}@example.com`, password: "password-123" }),
  });
  expect(registered.status).toBe(200);

  await openDocs(page, transaction.url);
  await authorize(page, sender.username, sender.password);

  const transfer = await execute(page, "operations-transactions-transfer", { receiver_username: receiver, amount: 12.34 });
  await expectResponse(transfer, "200", `"receiver_username": "${receiver}"`, `"sender_username": "${sender.username}"`, `"amount": 12.34`);
  const history = await execute(page, "operations-transactions-listTransactions");
  await expectResponse(history, "200", `"receiver_username": "${receiver}"`, `"amount": 12.34`);
  await page.screenshot({ path: `${ARTIFACTS}/transaction-docs.png`, fullPage: true });
  await context.close();

  const allowed = new Set([new URL(auth.url).origin, new URL(transaction.url).origin]);
  const outside = requested.filter((url) => !/^(data|blob):/.test(url) && !allowed.has(new URL(url).origin));
  expect(outside).toEqual([]);
  // The login went from the transaction page to the auth service, across origins.
  expect(requested).toContain(`${auth.url}/token`);
}, 60_000);
