/** How a test asks the auth service something: the body in one of its forms, and the headers. */
export interface Call {
  json?: unknown;
  form?: Record<string, string>;
  /** A body sent exactly as given, with `contentType` if set. */
  raw?: RequestInit["body"];
  contentType?: string;
  token?: string;
  headers?: Record<string, string>;
}

export interface Answer {
  status: number;
  headers: Headers;
  // Tests read whatever shape the route answers; the assertions say which.
  body: any;
}

/** A POST over real HTTP; a JSON answer comes back parsed, anything else as text. */
export async function post(url: string, path: string, call: Call = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...call.headers };
  let body: RequestInit["body"] | undefined = call.raw;
  if (call.json !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(call.json);
  } else if (call.form) {
    body = new URLSearchParams(call.form);
  }
  if (call.contentType) headers["content-type"] = call.contentType;
  if (call.token !== undefined) headers.authorization = `Bearer ${call.token}`;
  const response = await fetch(`${url}${path}`, { method: "POST", headers, body });
  const text = await response.text();
  const isJson = response.headers.get("content-type")?.includes("json") ?? false;
  return { status: response.status, headers: response.headers, body: isJson ? JSON.parse(text) : text };
}

/** Logs in with a form, as an OAuth2 client does. */
export const login = (url: string, username: string, password: string) =>
  post(url, "/token", { form: { username, password } });
