// Login, logout and who is signed in (with isPremium). After either mutation the
// CSRF token and the WebSocket are renewed: Django rotates the token at login.
import { useState, type FormEvent } from "react";
import { useMutation, useQuery } from "@apollo/client/react";
import { sessionChanged } from "../apollo";
import { LoginDocument, LogoutDocument, MeDocument } from "../operations";

export function Session() {
  const { data } = useQuery(MeDocument);
  const [login, { loading }] = useMutation(LoginDocument);
  const [logout] = useMutation(LogoutDocument);
  const [error, setError] = useState<string | null>(null);

  const onLogin = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setError(null);
    try {
      await login({ variables: { username: String(form.get("username")), password: String(form.get("password")) } });
      await sessionChanged();
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : String(failure));
    }
  };

  const me = data?.me;
  if (me) {
    return (
      <section aria-label="Session">
        Signed in as <strong data-testid="username">{me.username}</strong>{" "}
        <span data-testid="premium">{me.isPremium ? `Premium (${me.activeTier?.name ?? ""})` : "Not premium"}</span>{" "}
        <button
          type="button"
          onClick={async () => {
            await logout();
            await sessionChanged();
          }}
        >
          Log out
        </button>
      </section>
    );
  }
  return (
    <section aria-label="Session">
      <form onSubmit={onLogin} aria-label="Log in">
        <label>
          Username <input name="username" autoComplete="username" required />
        </label>
        <label>
          Password <input name="password" type="password" autoComplete="current-password" required />
        </label>
        <button type="submit" disabled={loading}>
          Log in
        </button>
        {error && <p role="alert">{error}</p>}
      </form>
    </section>
  );
}
