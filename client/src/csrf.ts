// Django's CSRF token for cookie-authenticated POSTs, sent as X-CSRFToken.
// Read from the public csrfToken query (it sets the cookie too, and works from
// another origin whose page cannot read the API's cookie), cached, and asked
// again after login/logout (Django rotates it) or when a POST is refused with
// CSRF_FAILED (another tab logged in).
import { print } from "graphql";
import type { CsrfTokenQuery } from "./gql/graphql";
import { CsrfTokenDocument } from "./operations";
import { GRAPHQL_URL } from "./urls";

let token: Promise<string> | null = null;

async function fetchToken(): Promise<string> {
  const url = `${GRAPHQL_URL}?query=${encodeURIComponent(print(CsrfTokenDocument))}`;
  const response = await fetch(url, { credentials: "include", headers: { Accept: "application/json" } });
  const body = (await response.json()) as { data?: CsrfTokenQuery };
  if (!body.data) throw new Error(`csrfToken query failed (HTTP ${response.status})`);
  return body.data.csrfToken;
}

export function csrfToken(): Promise<string> {
  token ??= fetchToken().catch((error: unknown) => {
    token = null; // the next request tries again
    throw error;
  });
  return token;
}

export function forgetCsrfToken(): void {
  token = null;
}

async function isCsrfRefusal(response: Response): Promise<boolean> {
  if (response.status !== 403) return false;
  try {
    const body = (await response.clone().json()) as { errors?: { extensions?: { code?: string } }[] };
    return body.errors?.[0]?.extensions?.code === "CSRF_FAILED";
  } catch {
    return false;
  }
}

/** fetch for Apollo's HttpLink: the token on every request, one retry with a fresh one. */
export const csrfFetch: typeof fetch = async (input, init) => {
  const send = async () => {
    const headers = new Headers(init?.headers);
    headers.set("X-CSRFToken", await csrfToken());
    return fetch(input, { ...init, headers, credentials: "include" });
  };
  const response = await send();
  if (!(await isCsrfRefusal(response))) return response;
  forgetCsrfToken();
  return send();
};
