/** "in 12d", "expired 3h ago": how far a certificate's expiry is from now (tls list, describe route). */
export function untilText(notAfter: string, now: Date): string {
  const ms = Date.parse(notAfter) - now.getTime();
  const abs = Math.abs(ms);
  const unit = abs >= 86_400_000 ? `${Math.floor(abs / 86_400_000)}d` : abs >= 3_600_000 ? `${Math.floor(abs / 3_600_000)}h` : `${Math.floor(abs / 60_000)}m`;
  return ms < 0 ? `expired ${unit} ago` : `in ${unit}`;
}
