/* eslint-disable */
import * as types from './graphql';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  query CsrfToken {\n    csrfToken\n  }\n": typeof types.CsrfTokenDocument,
    "\n  query Me {\n    me {\n      id\n      username\n      isPremium\n      activeTier {\n        id\n        name\n      }\n    }\n  }\n": typeof types.MeDocument,
    "\n  mutation Login($username: String!, $password: String!) {\n    login(username: $username, password: $password) {\n      id\n      username\n    }\n  }\n": typeof types.LoginDocument,
    "\n  mutation Logout {\n    logout\n  }\n": typeof types.LogoutDocument,
    "\n  query Tiers {\n    tiers {\n      id\n      name\n      description\n      prices {\n        id\n        display\n        type\n      }\n    }\n  }\n": typeof types.TiersDocument,
    "\n  query Events {\n    events {\n      id\n      title\n      isActive\n      tier {\n        id\n        name\n      }\n      payments {\n        id\n        status\n      }\n    }\n  }\n": typeof types.EventsDocument,
    "\n  mutation CreateEvent($title: String!) {\n    createEvent(input: { title: $title }) {\n      __typename\n      ... on CreateEventPayload {\n        event {\n          id\n          title\n        }\n      }\n      ... on OperationInfo {\n        messages {\n          code\n          message\n        }\n      }\n    }\n  }\n": typeof types.CreateEventDocument,
    "\n  fragment PaymentFields on Payment {\n    id\n    status\n    amount\n    amountRefunded\n    currency\n    failureCode\n    failureMessage\n    stripePaymentIntentId\n    tier {\n      id\n      name\n    }\n    refunds {\n      id\n      amount\n      status\n    }\n  }\n": typeof types.PaymentFieldsFragmentDoc,
    "\n  mutation CreatePaymentIntent($priceId: ID!, $eventId: ID!, $idempotencyKey: String!) {\n    createPaymentIntent(\n      input: { priceId: $priceId, payable: { type: \"event\", id: $eventId }, idempotencyKey: $idempotencyKey }\n    ) {\n      __typename\n      ... on CreatePaymentIntentPayload {\n        clientSecret\n        payment {\n          ...PaymentFields\n        }\n      }\n      ... on OperationInfo {\n        messages {\n          code\n          message\n        }\n      }\n    }\n  }\n": typeof types.CreatePaymentIntentDocument,
    "\n  mutation CreateCheckoutSession(\n    $priceId: ID!\n    $eventId: ID!\n    $successUrl: String!\n    $cancelUrl: String!\n    $idempotencyKey: String!\n  ) {\n    createCheckoutSession(\n      input: {\n        priceId: $priceId\n        payable: { type: \"event\", id: $eventId }\n        successUrl: $successUrl\n        cancelUrl: $cancelUrl\n        idempotencyKey: $idempotencyKey\n      }\n    ) {\n      __typename\n      ... on CreateCheckoutSessionPayload {\n        checkoutSession {\n          id\n          url\n        }\n        payment {\n          id\n        }\n      }\n      ... on OperationInfo {\n        messages {\n          code\n          message\n        }\n      }\n    }\n  }\n": typeof types.CreateCheckoutSessionDocument,
    "\n  subscription PaymentStatus($paymentId: ID!) {\n    paymentStatus(paymentId: $paymentId) {\n      ...PaymentFields\n    }\n  }\n": typeof types.PaymentStatusDocument,
    "\n  query Payments {\n    payments(first: 100) {\n      edges {\n        node {\n          id\n          stripePaymentIntentId\n        }\n      }\n    }\n  }\n": typeof types.PaymentsDocument,
    "\n  mutation CreateSubscription($priceId: ID!, $idempotencyKey: String!) {\n    createSubscription(input: { priceId: $priceId, idempotencyKey: $idempotencyKey }) {\n      __typename\n      ... on CreateSubscriptionPayload {\n        clientSecret\n        subscription {\n          id\n          status\n        }\n      }\n      ... on OperationInfo {\n        messages {\n          code\n          message\n        }\n      }\n    }\n  }\n": typeof types.CreateSubscriptionDocument,
    "\n  query Billing {\n    subscriptions {\n      id\n      status\n      cancelAtPeriodEnd\n      currentPeriodEnd\n      price {\n        id\n        display\n      }\n      tier {\n        id\n        name\n      }\n    }\n    invoices {\n      id\n      number\n      status\n      amountDue\n      amountPaid\n      currency\n      createdAt\n    }\n  }\n": typeof types.BillingDocument,
    "\n  query StripeConfig {\n    stripeConfig {\n      publishableKey\n      jsUrl\n      emulated\n    }\n  }\n": typeof types.StripeConfigDocument,
};
const documents: Documents = {
    "\n  query CsrfToken {\n    csrfToken\n  }\n": types.CsrfTokenDocument,
    "\n  query Me {\n    me {\n      id\n      username\n      isPremium\n      activeTier {\n        id\n        name\n      }\n    }\n  }\n": types.MeDocument,
    "\n  mutation Login($username: String!, $password: String!) {\n    login(username: $username, password: $password) {\n      id\n      username\n    }\n  }\n": types.LoginDocument,
    "\n  mutation Logout {\n    logout\n  }\n": types.LogoutDocument,
    "\n  query Tiers {\n    tiers {\n      id\n      name\n      description\n      prices {\n        id\n        display\n        type\n      }\n    }\n  }\n": types.TiersDocument,
    "\n  query Events {\n    events {\n      id\n      title\n      isActive\n      tier {\n        id\n        name\n      }\n      payments {\n        id\n        status\n      }\n    }\n  }\n": types.EventsDocument,
    "\n  mutation CreateEvent($title: String!) {\n    createEvent(input: { title: $title }) {\n      __typename\n      ... on CreateEventPayload {\n        event {\n          id\n          title\n        }\n      }\n      ... on OperationInfo {\n        messages {\n          code\n          message\n        }\n      }\n    }\n  }\n": types.CreateEventDocument,
    "\n  fragment PaymentFields on Payment {\n    id\n    status\n    amount\n    amountRefunded\n    currency\n    failureCode\n    failureMessage\n    stripePaymentIntentId\n    tier {\n      id\n      name\n    }\n    refunds {\n      id\n      amount\n      status\n    }\n  }\n": types.PaymentFieldsFragmentDoc,
    "\n  mutation CreatePaymentIntent($priceId: ID!, $eventId: ID!, $idempotencyKey: String!) {\n    createPaymentIntent(\n      input: { priceId: $priceId, payable: { type: \"event\", id: $eventId }, idempotencyKey: $idempotencyKey }\n    ) {\n      __typename\n      ... on CreatePaymentIntentPayload {\n        clientSecret\n        payment {\n          ...PaymentFields\n        }\n      }\n      ... on OperationInfo {\n        messages {\n          code\n          message\n        }\n      }\n    }\n  }\n": types.CreatePaymentIntentDocument,
    "\n  mutation CreateCheckoutSession(\n    $priceId: ID!\n    $eventId: ID!\n    $successUrl: String!\n    $cancelUrl: String!\n    $idempotencyKey: String!\n  ) {\n    createCheckoutSession(\n      input: {\n        priceId: $priceId\n        payable: { type: \"event\", id: $eventId }\n        successUrl: $successUrl\n        cancelUrl: $cancelUrl\n        idempotencyKey: $idempotencyKey\n      }\n    ) {\n      __typename\n      ... on CreateCheckoutSessionPayload {\n        checkoutSession {\n          id\n          url\n        }\n        payment {\n          id\n        }\n      }\n      ... on OperationInfo {\n        messages {\n          code\n          message\n        }\n      }\n    }\n  }\n": types.CreateCheckoutSessionDocument,
    "\n  subscription PaymentStatus($paymentId: ID!) {\n    paymentStatus(paymentId: $paymentId) {\n      ...PaymentFields\n    }\n  }\n": types.PaymentStatusDocument,
    "\n  query Payments {\n    payments(first: 100) {\n      edges {\n        node {\n          id\n          stripePaymentIntentId\n        }\n      }\n    }\n  }\n": types.PaymentsDocument,
    "\n  mutation CreateSubscription($priceId: ID!, $idempotencyKey: String!) {\n    createSubscription(input: { priceId: $priceId, idempotencyKey: $idempotencyKey }) {\n      __typename\n      ... on CreateSubscriptionPayload {\n        clientSecret\n        subscription {\n          id\n          status\n        }\n      }\n      ... on OperationInfo {\n        messages {\n          code\n          message\n        }\n      }\n    }\n  }\n": types.CreateSubscriptionDocument,
    "\n  query Billing {\n    subscriptions {\n      id\n      status\n      cancelAtPeriodEnd\n      currentPeriodEnd\n      price {\n        id\n        display\n      }\n      tier {\n        id\n        name\n      }\n    }\n    invoices {\n      id\n      number\n      status\n      amountDue\n      amountPaid\n      currency\n      createdAt\n    }\n  }\n": types.BillingDocument,
    "\n  query StripeConfig {\n    stripeConfig {\n      publishableKey\n      jsUrl\n      emulated\n    }\n  }\n": types.StripeConfigDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query CsrfToken {\n    csrfToken\n  }\n"): (typeof documents)["\n  query CsrfToken {\n    csrfToken\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Me {\n    me {\n      id\n      username\n      isPremium\n      activeTier {\n        id\n        name\n      }\n    }\n  }\n"): (typeof documents)["\n  query Me {\n    me {\n      id\n      username\n      isPremium\n      activeTier {\n        id\n        name\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Login($username: String!, $password: String!) {\n    login(username: $username, password: $password) {\n      id\n      username\n    }\n  }\n"): (typeof documents)["\n  mutation Login($username: String!, $password: String!) {\n    login(username: $username, password: $password) {\n      id\n      username\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Logout {\n    logout\n  }\n"): (typeof documents)["\n  mutation Logout {\n    logout\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Tiers {\n    tiers {\n      id\n      name\n      description\n      prices {\n        id\n        display\n        type\n      }\n    }\n  }\n"): (typeof documents)["\n  query Tiers {\n    tiers {\n      id\n      name\n      description\n      prices {\n        id\n        display\n        type\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Events {\n    events {\n      id\n      title\n      isActive\n      tier {\n        id\n        name\n      }\n      payments {\n        id\n        status\n      }\n    }\n  }\n"): (typeof documents)["\n  query Events {\n    events {\n      id\n      title\n      isActive\n      tier {\n        id\n        name\n      }\n      payments {\n        id\n        status\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateEvent($title: String!) {\n    createEvent(input: { title: $title }) {\n      __typename\n      ... on CreateEventPayload {\n        event {\n          id\n          title\n        }\n      }\n      ... on OperationInfo {\n        messages {\n          code\n          message\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation CreateEvent($title: String!) {\n    createEvent(input: { title: $title }) {\n      __typename\n      ... on CreateEventPayload {\n        event {\n          id\n          title\n        }\n      }\n      ... on OperationInfo {\n        messages {\n          code\n          message\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment PaymentFields on Payment {\n    id\n    status\n    amount\n    amountRefunded\n    currency\n    failureCode\n    failureMessage\n    stripePaymentIntentId\n    tier {\n      id\n      name\n    }\n    refunds {\n      id\n      amount\n      status\n    }\n  }\n"): (typeof documents)["\n  fragment PaymentFields on Payment {\n    id\n    status\n    amount\n    amountRefunded\n    currency\n    failureCode\n    failureMessage\n    stripePaymentIntentId\n    tier {\n      id\n      name\n    }\n    refunds {\n      id\n      amount\n      status\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreatePaymentIntent($priceId: ID!, $eventId: ID!, $idempotencyKey: String!) {\n    createPaymentIntent(\n      input: { priceId: $priceId, payable: { type: \"event\", id: $eventId }, idempotencyKey: $idempotencyKey }\n    ) {\n      __typename\n      ... on CreatePaymentIntentPayload {\n        clientSecret\n        payment {\n          ...PaymentFields\n        }\n      }\n      ... on OperationInfo {\n        messages {\n          code\n          message\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation CreatePaymentIntent($priceId: ID!, $eventId: ID!, $idempotencyKey: String!) {\n    createPaymentIntent(\n      input: { priceId: $priceId, payable: { type: \"event\", id: $eventId }, idempotencyKey: $idempotencyKey }\n    ) {\n      __typename\n      ... on CreatePaymentIntentPayload {\n        clientSecret\n        payment {\n          ...PaymentFields\n        }\n      }\n      ... on OperationInfo {\n        messages {\n          code\n          message\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateCheckoutSession(\n    $priceId: ID!\n    $eventId: ID!\n    $successUrl: String!\n    $cancelUrl: String!\n    $idempotencyKey: String!\n  ) {\n    createCheckoutSession(\n      input: {\n        priceId: $priceId\n        payable: { type: \"event\", id: $eventId }\n        successUrl: $successUrl\n        cancelUrl: $cancelUrl\n        idempotencyKey: $idempotencyKey\n      }\n    ) {\n      __typename\n      ... on CreateCheckoutSessionPayload {\n        checkoutSession {\n          id\n          url\n        }\n        payment {\n          id\n        }\n      }\n      ... on OperationInfo {\n        messages {\n          code\n          message\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation CreateCheckoutSession(\n    $priceId: ID!\n    $eventId: ID!\n    $successUrl: String!\n    $cancelUrl: String!\n    $idempotencyKey: String!\n  ) {\n    createCheckoutSession(\n      input: {\n        priceId: $priceId\n        payable: { type: \"event\", id: $eventId }\n        successUrl: $successUrl\n        cancelUrl: $cancelUrl\n        idempotencyKey: $idempotencyKey\n      }\n    ) {\n      __typename\n      ... on CreateCheckoutSessionPayload {\n        checkoutSession {\n          id\n          url\n        }\n        payment {\n          id\n        }\n      }\n      ... on OperationInfo {\n        messages {\n          code\n          message\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription PaymentStatus($paymentId: ID!) {\n    paymentStatus(paymentId: $paymentId) {\n      ...PaymentFields\n    }\n  }\n"): (typeof documents)["\n  subscription PaymentStatus($paymentId: ID!) {\n    paymentStatus(paymentId: $paymentId) {\n      ...PaymentFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Payments {\n    payments(first: 100) {\n      edges {\n        node {\n          id\n          stripePaymentIntentId\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query Payments {\n    payments(first: 100) {\n      edges {\n        node {\n          id\n          stripePaymentIntentId\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateSubscription($priceId: ID!, $idempotencyKey: String!) {\n    createSubscription(input: { priceId: $priceId, idempotencyKey: $idempotencyKey }) {\n      __typename\n      ... on CreateSubscriptionPayload {\n        clientSecret\n        subscription {\n          id\n          status\n        }\n      }\n      ... on OperationInfo {\n        messages {\n          code\n          message\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation CreateSubscription($priceId: ID!, $idempotencyKey: String!) {\n    createSubscription(input: { priceId: $priceId, idempotencyKey: $idempotencyKey }) {\n      __typename\n      ... on CreateSubscriptionPayload {\n        clientSecret\n        subscription {\n          id\n          status\n        }\n      }\n      ... on OperationInfo {\n        messages {\n          code\n          message\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Billing {\n    subscriptions {\n      id\n      status\n      cancelAtPeriodEnd\n      currentPeriodEnd\n      price {\n        id\n        display\n      }\n      tier {\n        id\n        name\n      }\n    }\n    invoices {\n      id\n      number\n      status\n      amountDue\n      amountPaid\n      currency\n      createdAt\n    }\n  }\n"): (typeof documents)["\n  query Billing {\n    subscriptions {\n      id\n      status\n      cancelAtPeriodEnd\n      currentPeriodEnd\n      price {\n        id\n        display\n      }\n      tier {\n        id\n        name\n      }\n    }\n    invoices {\n      id\n      number\n      status\n      amountDue\n      amountPaid\n      currency\n      createdAt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query StripeConfig {\n    stripeConfig {\n      publishableKey\n      jsUrl\n      emulated\n    }\n  }\n"): (typeof documents)["\n  query StripeConfig {\n    stripeConfig {\n      publishableKey\n      jsUrl\n      emulated\n    }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;