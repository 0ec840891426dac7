"""The GraphQL schema, one module per domain.

Each domain module (auth, catalog, events, payments, checkout, subscriptions,
refunds) holds its types, inputs, payloads and results, and a ``Query`` and/or
``Mutation`` class with its root fields; schema/schema.py merges those with
strawberry's ``merge_types`` into the schema's Query and Mutation. The live
``paymentStatus`` subscription is schema/live.py.

A new query or mutation goes in its domain's module (a new domain: a new
module, added to the tuples in schema/schema.py), next to the types it
returns. Get the viewer with schema/viewer.py, never from the request
directly. Resolvers stay a few lines: check who asks, call a service or a
selector (payments/), shape the answer.

The rest: errors.py (ErrorCode, OperationInfo), limits.py and inputs.py
(what a document may contain), optimizing.py (the optimizer for resolvers it
cannot see through), ws_sessions.py (the WebSocket consumer), csrf.py,
public_cache.py and graphiql.py (the HTTP view's parts).
"""
