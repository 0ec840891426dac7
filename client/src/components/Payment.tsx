// Paying with the Payment Element and watching the payment live. The ledger's
// status comes only from the paymentStatus subscription (our server's record,
// decided by Stripe's webhooks), never from what the browser was told by
// Stripe.js: a confirm that resolved is not a payment that succeeded.
import { useEffect, useMemo, useState, type FormEvent, type ReactNode } from "react";
import { useApolloClient, useQuery, useSubscription } from "@apollo/client/react";
import { Elements, PaymentElement, useElements, useStripe } from "@stripe/react-stripe-js";
import { EventsDocument, MeDocument, PaymentStatusDocument, StripeConfigDocument } from "../operations";
import type { PaymentFieldsFragment, PaymentStatus } from "../gql/graphql";
import { money } from "../money";
import { stripeFrom } from "../stripe";
import { appUrl } from "../urls";

/** Elements for one client secret, on the Stripe.js that stripeConfig names. */
export function StripeElements({ clientSecret, children }: { clientSecret: string; children: ReactNode }) {
  const { data, error } = useQuery(StripeConfigDocument);
  const config = data?.stripeConfig;
  const stripe = useMemo(() => (config ? stripeFrom(config) : null), [config]);
  if (error) return <p role="alert">Stripe.js cannot be configured: {error.message}</p>;
  if (!stripe) return <p>Loading Stripe.js…</p>;
  return (
    <Elements stripe={stripe} options={{ clientSecret }} key={clientSecret}>
      {children}
    </Elements>
  );
}

/** The card form: Stripe's Payment Element and one button; a failed attempt may be tried again. */
export function ConfirmForm({ label, onConfirmed }: { label: string; onConfirmed?: (status: string) => void }) {
  const stripe = useStripe();
  const elements = useElements();
  const [busy, setBusy] = useState(false);
  const [tried, setTried] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    if (!stripe || !elements) return;
    setBusy(true);
    setError(null);
    try {
      const submitted = await elements.submit();
      if (submitted.error) {
        setError(submitted.error.message ?? "Check the card details.");
        return;
      }
      const result = await stripe.confirmPayment({
        elements,
        confirmParams: { return_url: appUrl("/payment/return") },
        redirect: "if_required",
      });
      if (result.error) setError(result.error.message ?? "The payment failed.");
      else onConfirmed?.(result.paymentIntent.status);
    } finally {
      setTried(true);
      setBusy(false);
    }
  };

  return (
    <form onSubmit={onSubmit} aria-label="Card payment">
      <PaymentElement />
      <button type="submit" disabled={!stripe || !elements || busy}>
        {busy ? "Paying…" : tried && error ? "Try again" : label}
      </button>
      {error && (
        <p role="alert" data-testid="confirm-error">
          {error}
        </p>
      )}
    </form>
  );
}

const FINAL: PaymentStatus[] = ["SUCCEEDED", "CANCELED", "PARTIALLY_REFUNDED", "REFUNDED"];

/** The payment as our ledger holds it, live; each status it went through, in order. */
export function usePaymentStatus(paymentId: string): { payment?: PaymentFieldsFragment; history: PaymentStatus[]; error?: string } {
  const client = useApolloClient();
  const { data, error } = useSubscription(PaymentStatusDocument, { variables: { paymentId } });
  const [history, setHistory] = useState<PaymentStatus[]>([]);
  const payment = data?.paymentStatus;
  const status = payment?.status;
  useEffect(() => {
    if (!status) return;
    setHistory((seen) => (seen[seen.length - 1] === status ? seen : [...seen, status]));
    if (FINAL.includes(status)) void client.refetchQueries({ include: [EventsDocument, MeDocument] });
  }, [status, client]);
  return { payment, history, error: error?.message };
}

export function PaymentStatusView({ paymentId }: { paymentId: string }) {
  const { payment, history, error } = usePaymentStatus(paymentId);
  return <StatusLines payment={payment} history={history} error={error} />;
}

function StatusLines({ payment, history, error }: { payment?: PaymentFieldsFragment; history: PaymentStatus[]; error?: string }) {
  if (error) return <p role="alert">Live status unavailable: {error}</p>;
  if (!payment) return <p>Connecting to the live status…</p>;
  return (
    <div aria-live="polite">
      <p>
        {money(payment.amount, payment.currency)} for {payment.tier?.name ?? "a tier"}: <output data-testid="payment-status">{payment.status}</output>
      </p>
      <ol data-testid="status-history" aria-label="Status history">
        {history.map((status, index) => (
          <li key={index}>{status}</li>
        ))}
      </ol>
      {payment.status === "FAILED" && (
        <p data-testid="failure-reason">
          Declined: {payment.failureMessage ?? "no reason given"} ({payment.failureCode ?? "unknown"})
        </p>
      )}
      {payment.status === "REQUIRES_ACTION" && <p>Your bank asks you to authenticate this payment.</p>}
      {payment.amountRefunded > 0 && (
        <p data-testid="amount-refunded">Refunded {money(payment.amountRefunded, payment.currency)}</p>
      )}
      {payment.refunds.length > 0 && (
        <ul aria-label="Refunds">
          {payment.refunds.map((refund) => (
            <li key={refund.id}>
              Refund of {money(refund.amount, payment.currency)}: {refund.status}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** Paying one payment: the live status, and the card form while it can still be paid. */
export function PaymentPanel({ paymentId, clientSecret }: { paymentId: string; clientSecret: string }) {
  const { payment, history, error } = usePaymentStatus(paymentId);
  const payable = !payment || payment.status === "PENDING" || payment.status === "FAILED" || payment.status === "REQUIRES_ACTION";
  return (
    <section aria-label="Payment">
      <h2>Payment</h2>
      <StatusLines payment={payment} history={history} error={error} />
      {payable && (
        <StripeElements clientSecret={clientSecret}>
          <ConfirmForm label="Pay" />
        </StripeElements>
      )}
    </section>
  );
}
