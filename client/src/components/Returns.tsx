// The pages Stripe sends the customer back to. Each shows the payment live as
// our server records it: the query string says where the customer has been,
// not whether the money arrived.
import { useQuery } from "@apollo/client/react";
import { PaymentsDocument } from "../operations";
import { PaymentStatusView } from "./Payment";
import { CHECKOUT_PAYMENT_KEY } from "./Shop";

/** Checkout's success_url: the payment this tab started Checkout for. */
export function CheckoutReturn() {
  const paymentId = sessionStorage.getItem(CHECKOUT_PAYMENT_KEY);
  return (
    <section aria-label="Checkout">
      <h2>Back from Checkout</h2>
      {paymentId ? <PaymentStatusView paymentId={paymentId} /> : <p>Checkout is complete. Your payments are below.</p>}
    </section>
  );
}

/** confirmPayment's return_url after a redirect (3-D Secure): ?payment_intent=pi_…&redirect_status=… */
export function RedirectReturn() {
  const params = new URLSearchParams(window.location.search);
  const intent = params.get("payment_intent");
  const { data } = useQuery(PaymentsDocument);
  const payment = data?.payments.edges.find((edge) => edge.node.stripePaymentIntentId === intent)?.node;
  return (
    <section aria-label="Payment">
      <h2>Back from your bank</h2>
      {payment ? <PaymentStatusView paymentId={payment.id} /> : <p>{data ? "No payment of yours has that intent." : "Looking for the payment…"}</p>}
    </section>
  );
}
