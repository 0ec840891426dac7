"""Use cases (writes). Keyword-only, typed; transactions and row locks live here."""
