"""The GraphQL schema, one module per domain.

Each domain module (auth, catalog, events, payments, checkout, subscriptions,
refunds) holds its types, inputs, payloads and results, and a ``Query`` and/or
``Mutation`` class with its root fields; schema/schema.py merges those with
strawberry's ``merge_types`` into the schema's Query and Mutation. The live
``paymentStatus`` subscription is schema/live.py.

Where a new query or mutation goes: in its domain's module, next to the types
it returns (a new domain: a new module, added to the tuples in schema/schema.py;
its root fields are printed after the existing ones). A new field of an
existing type goes on that type, in the module that defines it.

How a resolver is written (a few lines: check who asks, call a service or a
selector of payments/, shape the answer):

- the viewer comes from schema/viewer.py only: ``viewer(info)`` (None when
  anonymous), ``require_viewer(info)``, ``aviewer(info)`` in async code;
- a mutation of a use case is ``@viewer_mutation(description=...)``
  (schema/extensions.py), returning ``Annotated[Union[XPayload, OperationInfo],
  strawberry.union("XResult")]``: an anonymous caller is answered
  UNAUTHENTICATED before it runs, and any ``PaymentsError`` it raises (or the
  service raises) is the client's OperationInfo, so the resolver has no
  try/except;
- a list of the viewer's own things takes ``extensions=[viewer_only()]``
  (strawberry-django's IsAuthenticated: an anonymous caller gets ``[]``);
- a new domain error (payments/errors.py) gets its ErrorCode and kind in
  schema/errors.py's ``ANSWERS`` (a test fails until it does).

The rest: limits.py and inputs.py (what a document may contain),
optimizing.py (the optimizer for resolvers it cannot see through),
ws_sessions.py (the WebSocket consumer), csrf.py, public_cache.py and
graphiql.py (the HTTP view's parts).
"""
