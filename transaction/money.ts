/** Money crosses the API as JSON numbers in currency units and lives everywhere else as integer minor units. */
export const MINOR_PER_UNIT = 100n;
export const MAX_AMOUNT_MINOR = 1_000_000_000n * MINOR_PER_UNIT;

/**
 * The exact minor units of a JSON number with at most two decimals, or undefined. JSON.parse has
 * already turned "19.99" into the double nearest 19.99; `Math.round(x * 100) / 100 === x` holds
 * exactly when x is the double nearest some two-decimal value, so 1.005 and 0.001 are refused
 * while 19.99 becomes 1999.
 */
export function toMinor(amount: number): bigint | undefined {
  if (!Number.isFinite(amount)) return undefined;
  const minor = Math.round(amount * 100);
  if (!Number.isSafeInteger(minor) || minor / 100 !== amount) return undefined;
  return BigInt(minor);
}

/** A decimal string such as "1000.00" (configuration), in minor units. */
export function decimalToMinor(text: string): bigint | undefined {
  const match = /^(\d{1,13})(?:\.(\d{1,2}))?$/.exec(text.trim());
  if (!match) return undefined;
  return BigInt(match[1]!) * MINOR_PER_UNIT + BigInt((match[2] ?? "").padEnd(2, "0"));
}

/**
 * Minor units as a JSON number: 1999n → 19.99. Dividing an integer below 2^53 by 100 gives the
 * double nearest the two-decimal value, whose shortest printed form is that value.
 */
export function toUnits(minor: bigint): number {
  return Number(minor) / 100;
}
