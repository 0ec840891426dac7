// The pages: the shop (events, tiers, paying, billing) and the pages Stripe
// sends the customer back to (a 3-D Secure redirect, Checkout's success and
// cancel URLs). No router library: three fixed paths; the server answers
// index.html for each of them.
import { useQuery } from "@apollo/client/react";
import { MeDocument } from "./operations";
import { Session } from "./components/Session";
import { Shop } from "./components/Shop";
import { CheckoutReturn, RedirectReturn } from "./components/Returns";

export function App() {
  const { data, loading } = useQuery(MeDocument);
  const path = window.location.pathname.replace(/\/+$/, "");
  const signedIn = Boolean(data?.me);
  return (
    <main>
      <h1>
        <a href="/">Payments</a>
      </h1>
      <Session />
      {signedIn && path === "/checkout/success" && <CheckoutReturn />}
      {signedIn && path === "/checkout/cancel" && <p role="status">Checkout canceled: nothing was paid.</p>}
      {signedIn && path === "/payment/return" && <RedirectReturn />}
      {signedIn && <Shop />}
      {!signedIn && !loading && <p>Log in to pay (the demo login is demo / demo).</p>}
    </main>
  );
}
