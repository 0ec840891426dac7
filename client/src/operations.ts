// Every GraphQL document the client sends. `npm run codegen` types them from
// schema/schema.graphql (src/gql/); names follow the public contract.
import { graphql } from "./gql";

export const CsrfTokenDocument = graphql(`
  query CsrfToken {
    csrfToken
  }
`);

export const MeDocument = graphql(`
  query Me {
    me {
      id
      username
      isPremium
      activeTier {
        id
        name
      }
    }
  }
`);

export const LoginDocument = graphql(`
  mutation Login($username: String!, $password: String!) {
    login(username: $username, password: $password) {
      id
      username
    }
  }
`);

export const LogoutDocument = graphql(`
  mutation Logout {
    logout
  }
`);

export const TiersDocument = graphql(`
  query Tiers {
    tiers {
      id
      name
      description
      prices {
        id
        display
        type
      }
    }
  }
`);

export const EventsDocument = graphql(`
  query Events {
    events {
      id
      title
      isActive
      tier {
        id
        name
      }
      payments {
        id
        status
      }
    }
  }
`);

export const CreateEventDocument = graphql(`
  mutation CreateEvent($title: String!) {
    createEvent(input: { title: $title }) {
      __typename
      ... on CreateEventPayload {
        event {
          id
          title
        }
      }
      ... on OperationInfo {
        messages {
          code
          message
        }
      }
    }
  }
`);

export const PaymentFieldsFragment = graphql(`
  fragment PaymentFields on Payment {
    id
    status
    amount
    amountRefunded
    currency
    failureCode
    failureMessage
    stripePaymentIntentId
    tier {
      id
      name
    }
    refunds {
      id
      amount
      status
    }
  }
`);

export const CreatePaymentIntentDocument = graphql(`
  mutation CreatePaymentIntent($priceId: ID!, $eventId: ID!, $idempotencyKey: String!) {
    createPaymentIntent(
      input: { priceId: $priceId, payable: { type: "event", id: $eventId }, idempotencyKey: $idempotencyKey }
    ) {
      __typename
      ... on CreatePaymentIntentPayload {
        clientSecret
        payment {
          ...PaymentFields
        }
      }
      ... on OperationInfo {
        messages {
          code
          message
        }
      }
    }
  }
`);

export const CreateCheckoutSessionDocument = graphql(`
  mutation CreateCheckoutSession(
    $priceId: ID!
    $eventId: ID!
    $successUrl: String!
    $cancelUrl: String!
    $idempotencyKey: String!
  ) {
    createCheckoutSession(
      input: {
        priceId: $priceId
        payable: { type: "event", id: $eventId }
        successUrl: $successUrl
        cancelUrl: $cancelUrl
        idempotencyKey: $idempotencyKey
      }
    ) {
      __typename
      ... on CreateCheckoutSessionPayload {
        checkoutSession {
          id
          url
        }
        payment {
          id
        }
      }
      ... on OperationInfo {
        messages {
          code
          message
        }
      }
    }
  }
`);

export const PaymentStatusDocument = graphql(`
  subscription PaymentStatus($paymentId: ID!) {
    paymentStatus(paymentId: $paymentId) {
      ...PaymentFields
    }
  }
`);

export const PaymentsDocument = graphql(`
  query Payments {
    payments(first: 100) {
      edges {
        node {
          id
          stripePaymentIntentId
        }
      }
    }
  }
`);

export const CreateSubscriptionDocument = graphql(`
  mutation CreateSubscription($priceId: ID!, $idempotencyKey: String!) {
    createSubscription(input: { priceId: $priceId, idempotencyKey: $idempotencyKey }) {
      __typename
      ... on CreateSubscriptionPayload {
        clientSecret
        subscription {
          id
          status
        }
      }
      ... on OperationInfo {
        messages {
          code
          message
        }
      }
    }
  }
`);

export const BillingDocument = graphql(`
  query Billing {
    subscriptions {
      id
      status
      cancelAtPeriodEnd
      currentPeriodEnd
      price {
        id
        display
      }
      tier {
        id
        name
      }
    }
    invoices {
      id
      number
      status
      amountDue
      amountPaid
      currency
      createdAt
    }
  }
`);

export const StripeConfigDocument = graphql(`
  query StripeConfig {
    stripeConfig {
      publishableKey
      jsUrl
      emulated
    }
  }
`);
