/** An amount in the currency's minor unit (cents, yen, fils) as the browser's locale writes it. */
export function money(amount: number, currency: string): string {
  const format = new Intl.NumberFormat(undefined, { style: "currency", currency: currency.toUpperCase() });
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  return format.format(amount / 10 ** digits);
}

/** One key per user action: a double click or a retried request is the same attempt at the server. */
export function idempotencyKey(): string {
  return globalThis.crypto?.randomUUID?.() ?? `${Date.now()}-${Math.random().toString(36).slice(2)}`;
}

/** The messages of an OperationInfo answer, one line. */
export function messagesOf(info: { messages: { code?: string | null; message: string }[] }): string {
  return info.messages.map((m) => (m.code ? `${m.message} (${m.code})` : m.message)).join(" ");
}
