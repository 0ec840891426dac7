// The signed-in page: the viewer's events (createEvent), the tiers with their
// prices, and what the customer is paying right now: a tier for an event with
// the Payment Element or through Checkout, or a plan's first invoice.
import { useState, type FormEvent } from "react";
import { useMutation, useQuery } from "@apollo/client/react";
import {
  BillingDocument,
  CreateCheckoutSessionDocument,
  CreateEventDocument,
  CreatePaymentIntentDocument,
  CreateSubscriptionDocument,
  EventsDocument,
  TiersDocument,
} from "../operations";
import type { TiersQuery } from "../gql/graphql";
import { idempotencyKey, messagesOf } from "../money";
import { PaymentPanel } from "./Payment";
import { Billing, SubscriptionPanel } from "./Billing";

type Price = TiersQuery["tiers"][number]["prices"][number];
type Attempt =
  | { kind: "payment"; paymentId: string; clientSecret: string }
  | { kind: "subscription"; subscriptionId: string; clientSecret: string | null };

export const CHECKOUT_PAYMENT_KEY = "checkoutPaymentId";

export function Shop() {
  const tiers = useQuery(TiersDocument);
  const events = useQuery(EventsDocument);
  const [createEvent] = useMutation(CreateEventDocument, { refetchQueries: [EventsDocument] });
  const [createPaymentIntent] = useMutation(CreatePaymentIntentDocument);
  const [createCheckoutSession] = useMutation(CreateCheckoutSessionDocument);
  const [createSubscription] = useMutation(CreateSubscriptionDocument, {
    refetchQueries: [BillingDocument], // the new INCOMPLETE subscription in the billing list
    awaitRefetchQueries: true,
  });
  const [eventId, setEventId] = useState<string>("");
  const [attempt, setAttempt] = useState<Attempt | null>(null);
  const [error, setError] = useState<string | null>(null);

  const chosenEvent = eventId || events.data?.events[0]?.id || "";

  const onCreateEvent = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = event.currentTarget;
    const title = String(new FormData(form).get("title"));
    const { data } = await createEvent({ variables: { title } });
    const result = data?.createEvent;
    if (result?.__typename === "CreateEventPayload") {
      setEventId(result.event.id);
      form.reset();
    } else if (result?.__typename === "OperationInfo") {
      setError(messagesOf(result));
    }
  };

  const run = async (action: () => Promise<string | null>) => {
    setError(null);
    try {
      const failure = await action();
      if (failure) setError(failure);
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : String(failure));
    }
  };

  const pay = (price: Price) =>
    run(async () => {
      setAttempt(null);
      const { data } = await createPaymentIntent({
        variables: { priceId: price.id, eventId: chosenEvent, idempotencyKey: idempotencyKey() },
      });
      const result = data?.createPaymentIntent;
      if (result?.__typename !== "CreatePaymentIntentPayload") return result ? messagesOf(result) : "No answer.";
      setAttempt({ kind: "payment", paymentId: result.payment.id, clientSecret: result.clientSecret });
      return null;
    });

  const checkout = (price: Price) =>
    run(async () => {
      const origin = window.location.origin;
      const { data } = await createCheckoutSession({
        variables: {
          priceId: price.id,
          eventId: chosenEvent,
          successUrl: `${origin}/checkout/success?session_id={CHECKOUT_SESSION_ID}`,
          cancelUrl: `${origin}/checkout/cancel`,
          idempotencyKey: idempotencyKey(),
        },
      });
      const result = data?.createCheckoutSession;
      if (result?.__typename !== "CreateCheckoutSessionPayload") return result ? messagesOf(result) : "No answer.";
      if (result.payment) sessionStorage.setItem(CHECKOUT_PAYMENT_KEY, result.payment.id);
      window.location.assign(result.checkoutSession.url);
      return null;
    });

  const subscribe = (price: Price) =>
    run(async () => {
      setAttempt(null);
      const { data } = await createSubscription({ variables: { priceId: price.id, idempotencyKey: idempotencyKey() } });
      const result = data?.createSubscription;
      if (result?.__typename !== "CreateSubscriptionPayload") return result ? messagesOf(result) : "No answer.";
      setAttempt({ kind: "subscription", subscriptionId: result.subscription.id, clientSecret: result.clientSecret ?? null });
      return null;
    });

  return (
    <>
      <section aria-label="Events">
        <h2>Events</h2>
        <form onSubmit={onCreateEvent} aria-label="New event">
          <label>
            Title <input name="title" required maxLength={200} />
          </label>
          <button type="submit">Create event</button>
        </form>
        {events.data && events.data.events.length > 0 && (
          <label>
            Pay for event{" "}
            <select value={chosenEvent} onChange={(e) => setEventId(e.target.value)} name="event">
              {events.data.events.map((event) => (
                <option key={event.id} value={event.id}>
                  {event.title}
                </option>
              ))}
            </select>
          </label>
        )}
        <ul data-testid="events">
          {events.data?.events.map((event) => (
            <li key={event.id} data-testid={`event-${event.id}`}>
              {event.title}: {event.isActive ? `active (${event.tier?.name ?? ""})` : "not active"}
            </li>
          ))}
        </ul>
      </section>

      <section aria-label="Tiers">
        <h2>Tiers</h2>
        {tiers.loading && <p>Loading the tiers…</p>}
        {tiers.data?.tiers.map((tier) => (
          <div className="tier" key={tier.id} data-testid={`tier-${tier.id}`}>
            <strong>{tier.name}</strong> {tier.description}
            <div>
              {tier.prices.map((price) =>
                price.type === "ONE_TIME" ? (
                  <span key={price.id}>
                    <button type="button" disabled={!chosenEvent} onClick={() => pay(price)} aria-label={`Pay ${price.display} for ${tier.name}`}>
                      Pay {price.display}
                    </button>
                    <button type="button" disabled={!chosenEvent} onClick={() => checkout(price)} aria-label={`Checkout ${price.display} for ${tier.name}`}>
                      Checkout {price.display}
                    </button>
                  </span>
                ) : (
                  <button type="button" key={price.id} onClick={() => subscribe(price)} aria-label={`Subscribe ${price.display} to ${tier.name}`}>
                    Subscribe {price.display}
                  </button>
                ),
              )}
            </div>
          </div>
        ))}
        {!chosenEvent && <p>Create an event to pay for a tier.</p>}
        {error && <p role="alert">{error}</p>}
      </section>

      {attempt?.kind === "payment" && (
        <PaymentPanel key={attempt.paymentId} paymentId={attempt.paymentId} clientSecret={attempt.clientSecret} />
      )}
      {attempt?.kind === "subscription" && (
        <SubscriptionPanel key={attempt.subscriptionId} subscriptionId={attempt.subscriptionId} clientSecret={attempt.clientSecret} />
      )}
      <Billing />
    </>
  );
}
