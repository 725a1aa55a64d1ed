import { describe, expect, test } from "bun:test";
import { decimalToMinor, toMinor, toUnits } from "./money";

describe("money", () => {
  test.each([
    [19.99, 1999n],
    [0.01, 1n],
    [0.1, 10n],
    [1000, 100000n],
    [1_000_000_000, 100_000_000_000n],
    [1e-2, 1n],
  ])("converts %p to exactly %p minor units", (amount, minor) => {
    expect(toMinor(amount)).toBe(minor);
  });

  test.each([1.005, 0.001, 19.999, Number.NaN, Number.POSITIVE_INFINITY, 1e300, 0.1 + 0.2])(
    "refuses %p, which has more than two decimals or is not a finite amount",
    (amount) => {
      expect(toMinor(amount)).toBeUndefined();
    },
  );

  test("prints minor units as the JSON numbers a client expects", () => {
    expect(JSON.stringify([toUnits(1999n), toUnits(100000n), toUnits(1n), toUnits(10n)])).toBe("[19.99,1000,0.01,0.1]");
  });

  test("round-trips every cent up to 100.00 exactly", () => {
    for (let minor = 1n; minor <= 10000n; minor++) expect(toMinor(toUnits(minor))).toBe(minor);
  });

  test.each([
    ["1000.00", 100000n],
    ["1000", 100000n],
    ["0.5", 50n],
    ["12.34", 1234n],
  ])("reads the configured balance %p as %p", (text, minor) => {
    expect(decimalToMinor(text)).toBe(minor);
  });

  test.each(["1.005", "-1", "abc", "", "1e3"])("refuses the configured balance %p", (text) => {
    expect(decimalToMinor(text)).toBeUndefined();
  });
});
