/**
 * Seconds until another password attempt is allowed, or 0: after `maxFailures` wrong passwords
 * within the window, the account refuses attempts until the oldest of them leaves the window.
 * Pure, so the lockout rule is tested without a runtime.
 */
export function lockoutSeconds(
  failures: readonly number[],
  now: number,
  windowMs: number,
  maxFailures: number,
): number {
  const recent = failures.filter((at) => at > now - windowMs).sort((a, b) => a - b);
  if (recent.length < maxFailures) return 0;
  const freedAt = recent[recent.length - maxFailures]! + windowMs;
  return Math.max(1, Math.ceil((freedAt - now) / 1000));
}
