// Stripe.js from where the server says (stripeConfig.jsUrl): the real one with
// real keys, the emulator's stand-in on our own origin offline. The script is
// injected once and awaited; then @stripe/stripe-js's loadStripe finds
// window.Stripe and injects nothing itself ("pure": no script on import).
import { loadStripe } from "@stripe/stripe-js/pure";
import type { Stripe } from "@stripe/stripe-js";
import type { StripeConfigQuery } from "./gql/graphql";

type StripeConfig = StripeConfigQuery["stripeConfig"];

let loading: Promise<Stripe | null> | null = null;

function injectScript(src: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = src;
    script.async = true;
    script.addEventListener("load", () => resolve());
    script.addEventListener("error", () => reject(new Error(`Stripe.js did not load from ${src}`)));
    document.head.appendChild(script);
  });
}

export function stripeFrom(config: StripeConfig): Promise<Stripe | null> {
  loading ??= (async () => {
    if (!("Stripe" in window)) await injectScript(config.jsUrl);
    return loadStripe(config.publishableKey);
  })().catch((error: unknown) => {
    loading = null; // a later payment tries again
    throw error;
  });
  return loading;
}
