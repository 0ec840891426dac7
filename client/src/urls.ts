// The API is on the page's own origin: served by Django at / (make run), or by
// the Vite dev server's proxy (npm run dev). VITE_API_ORIGIN points a build at
// an API on another origin (then list this page's origin in CORS_ALLOWED_ORIGINS).
const apiOrigin = (import.meta.env.VITE_API_ORIGIN as string | undefined) ?? window.location.origin;

export const GRAPHQL_URL = `${apiOrigin}/graphql/`;
export const GRAPHQL_WS_URL = GRAPHQL_URL.replace(/^http/, "ws");

/** Where Stripe (a redirect, Checkout) sends the customer back to: this page's origin. */
export const appUrl = (path: string): string => new URL(path, window.location.origin).toString();
