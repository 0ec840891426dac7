// Apollo Client: queries and mutations over HTTP (the session cookie and the
// CSRF token), subscriptions over graphql-ws (the same cookie, sent by the
// browser with the WebSocket handshake), one split link.
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from "@apollo/client";
import { GraphQLWsLink } from "@apollo/client/link/subscriptions";
import { OperationTypeNode } from "graphql";
import { createClient } from "graphql-ws";
import { csrfFetch, forgetCsrfToken } from "./csrf";
import { GRAPHQL_URL, GRAPHQL_WS_URL } from "./urls";

const http = new HttpLink({ uri: GRAPHQL_URL, credentials: "include", fetch: csrfFetch });

export const ws = createClient({ url: GRAPHQL_WS_URL, lazy: true, retryAttempts: 5 });

const link = ApolloLink.split(
  (operation) => operation.operationType === OperationTypeNode.SUBSCRIPTION,
  new GraphQLWsLink(ws),
  http,
);

export const client = new ApolloClient({ link, cache: new InMemoryCache() });

/** After login or logout: a new CSRF token, a WebSocket with the new session, fresh data. */
export async function sessionChanged(): Promise<void> {
  forgetCsrfToken();
  ws.terminate(); // live subscriptions reconnect (graphql-ws retries) with the new cookie
  await client.resetStore();
}
