import { request, type Call } from "../common/testing";

export type { Answer, Call } from "../common/testing";

/** A POST over real HTTP: every auth route is one. */
export const post = (url: string, path: string, call: Call = {}) => request(url, "POST", path, call);

/** Logs in with a form, as an OAuth2 client does. */
export const login = (url: string, username: string, password: string) => post(url, "/token", { form: { username, password } });

/** The refresh_token grant, as a form. */
export const refresh = (url: string, refreshToken: string) => post(url, "/token", { form: { grant_type: "refresh_token", refresh_token: refreshToken } });

export const get = (url: string, path: string, call: Call = {}) => request(url, "GET", path, call);

export const del = (url: string, path: string, call: Call = {}) => request(url, "DELETE", path, call);
