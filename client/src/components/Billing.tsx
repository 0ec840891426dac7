// Plans and billing history: subscribing with the first invoice confirmed in
// the browser, then the subscriptions, the invoices and isPremium as our
// server records them (from Stripe's webhooks).
import { useEffect, useState } from "react";
import { useApolloClient, useQuery } from "@apollo/client/react";
import { BillingDocument, MeDocument } from "../operations";
import { money } from "../money";
import { ConfirmForm, StripeElements } from "./Payment";

const RUNNING = ["ACTIVE", "TRIALING"];

export function Billing() {
  const { data } = useQuery(BillingDocument);
  if (!data) return null;
  return (
    <section aria-label="Billing">
      <h2>Billing</h2>
      <h3>Subscriptions</h3>
      {data.subscriptions.length === 0 ? (
        <p>No subscription.</p>
      ) : (
        <ul data-testid="subscriptions">
          {data.subscriptions.map((s) => (
            <li key={s.id} data-testid={`subscription-${s.id}`}>
              {s.tier.name}, {s.price.display}: <output>{s.status}</output>
              {s.cancelAtPeriodEnd && " (ends at the period's end)"}
              {s.currentPeriodEnd && `, renews ${new Date(s.currentPeriodEnd).toLocaleDateString()}`}
            </li>
          ))}
        </ul>
      )}
      <h3>Invoices</h3>
      {data.invoices.length === 0 ? (
        <p>No invoice.</p>
      ) : (
        <table data-testid="invoices">
          <thead>
            <tr>
              <th>Number</th>
              <th>Date</th>
              <th>Due</th>
              <th>Paid</th>
              <th>Status</th>
            </tr>
          </thead>
          <tbody>
            {data.invoices.map((invoice) => (
              <tr key={invoice.id}>
                <td>{invoice.number ?? "draft"}</td>
                <td>{new Date(invoice.createdAt).toLocaleDateString()}</td>
                <td>{money(invoice.amountDue, invoice.currency)}</td>
                <td>{money(invoice.amountPaid, invoice.currency)}</td>
                <td>{invoice.status}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** A new subscription: its first invoice paid with the Payment Element, then
 * its status read until the server has Stripe's word that it runs. */
export function SubscriptionPanel({ subscriptionId, clientSecret }: { subscriptionId: string; clientSecret: string | null }) {
  const client = useApolloClient();
  const [confirmed, setConfirmed] = useState(clientSecret === null);
  const billing = useQuery(BillingDocument);
  const subscription = billing.data?.subscriptions.find((s) => s.id === subscriptionId);
  const status = subscription?.status;
  const running = status !== undefined && RUNNING.includes(status);
  const settled = running || (confirmed && status !== undefined && status !== "INCOMPLETE");
  const { startPolling, stopPolling } = billing;
  useEffect(() => {
    // Stripe's webhooks decide: read the list each second from the confirm until they have.
    if (confirmed && !settled) startPolling(1000);
    else stopPolling();
    return stopPolling;
  }, [confirmed, settled, startPolling, stopPolling]);
  useEffect(() => {
    if (running) void client.refetchQueries({ include: [MeDocument] });
  }, [running, client]);

  return (
    <section aria-label="Subscription">
      <h2>Subscription</h2>
      <p>
        {subscription ? `${subscription.tier.name}, ${subscription.price.display}` : "Your plan"}:{" "}
        <output data-testid="subscription-status">{status ?? "…"}</output>
      </p>
      {!confirmed && clientSecret && (
        <StripeElements clientSecret={clientSecret}>
          <ConfirmForm label="Pay the first invoice" onConfirmed={() => setConfirmed(true)} />
        </StripeElements>
      )}
      {confirmed && !settled && <p>Waiting for Stripe to confirm the subscription…</p>}
    </section>
  );
}
