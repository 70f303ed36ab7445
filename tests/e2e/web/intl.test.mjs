// Intl inside a Worker (docs/intl.md): each case below runs in the Worker and in this
// node process, and the answers must match. Node's ICU may be newer than the system
// ICU durable links, so the cases are the formats that have been stable across ICU
// versions for en-US, de-DE, ja-JP and ar-EG; a few fixed strings and the errors
// are asserted directly.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startDev, makeProject } from "../lib.mjs";

const D = "Date.UTC(2024, 2, 5, 14, 7, 9, 45)"; // Tue 5 March 2024 14:07:09.045 UTC

// name -> expression (a string evaluated in both places)
const same = {
  dtfDefault: `new Intl.DateTimeFormat().format(${D})`,
  dtfDe: `new Intl.DateTimeFormat("de-DE").format(${D})`,
  dtfJa: `new Intl.DateTimeFormat("ja-JP").format(${D})`,
  dtfLong: `new Intl.DateTimeFormat("en-US", { year: "numeric", month: "long", day: "numeric", weekday: "long" }).format(${D})`,
  dtfDeLong: `new Intl.DateTimeFormat("de-DE", { year: "numeric", month: "long", day: "numeric", weekday: "long" }).format(${D})`,
  dtfShortMonth: `new Intl.DateTimeFormat("en-US", { month: "short", day: "numeric" }).format(${D})`,
  dtfTime: `new Intl.DateTimeFormat("en-US", { hour: "numeric", minute: "2-digit" }).format(${D})`,
  dtfTime24: `new Intl.DateTimeFormat("en-US", { hour: "2-digit", minute: "2-digit", hour12: false }).format(${D})`,
  dtfDeTime: `new Intl.DateTimeFormat("de-DE", { hour: "numeric", minute: "numeric", second: "numeric" }).format(${D})`,
  dtfTz: `new Intl.DateTimeFormat("en-US", { timeZone: "America/New_York", hour: "numeric", minute: "numeric", year: "numeric", month: "numeric", day: "numeric" }).format(${D})`,
  dtfTzTokyo: `new Intl.DateTimeFormat("ja-JP", { timeZone: "Asia/Tokyo", dateStyle: "long", timeStyle: "short" }).format(${D})`,
  dtfStyles: `["full","long","medium","short"].map((s) => new Intl.DateTimeFormat("en-US", { dateStyle: s }).format(${D}))`,
  dtfTimeStyle: `new Intl.DateTimeFormat("en-US", { timeStyle: "short" }).format(${D})`,
  dtfDeStyles: `new Intl.DateTimeFormat("de-DE", { dateStyle: "medium", timeStyle: "medium" }).format(${D})`,
  dtfParts: `new Intl.DateTimeFormat("en-US", { year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false }).formatToParts(${D})`,
  dtfResolved: `(({ locale, calendar, numberingSystem, timeZone, year, month, day }) => ({ locale, calendar, numberingSystem, timeZone, year, month, day }))(new Intl.DateTimeFormat("de-DE", { timeZone: "Europe/Berlin" }).resolvedOptions())`,
  dtfResolvedHour: `(({ hourCycle, hour12 }) => ({ hourCycle, hour12 }))(new Intl.DateTimeFormat("en-US", { hour: "numeric" }).resolvedOptions())`,
  dtfTzName: `new Intl.DateTimeFormat("en-US", { timeZone: "UTC", timeZoneName: "short", hour: "numeric" }).format(${D})`,
  dateToLocaleString: `new Date(${D}).toLocaleString()`,
  dateToLocaleDateString: `new Date(${D}).toLocaleDateString("en-US", { month: "long", year: "numeric" })`,
  dateToLocaleTimeString: `new Date(${D}).toLocaleTimeString("en-US")`,
  dateDe: `new Date(${D}).toLocaleDateString("de-DE")`,
  invalidDate: `new Date(NaN).toLocaleString()`,

  nfDefault: `new Intl.NumberFormat().format(1234567.891)`,
  nfDe: `new Intl.NumberFormat("de-DE").format(1234567.891)`,
  nfAr: `new Intl.NumberFormat("ar-EG").format(1234.5)`,
  nfCurrency: `new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" }).format(-1234.5)`,
  nfCurrencyDe: `new Intl.NumberFormat("de-DE", { style: "currency", currency: "EUR" }).format(1234.5)`,
  nfCurrencyJa: `new Intl.NumberFormat("ja-JP", { style: "currency", currency: "JPY" }).format(1234.5)`,
  nfCurrencyCode: `new Intl.NumberFormat("en-US", { style: "currency", currency: "EUR", currencyDisplay: "code" }).format(5)`,
  nfCurrencyName: `new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", currencyDisplay: "name" }).format(2)`,
  nfPercent: `new Intl.NumberFormat("en-US", { style: "percent" }).format(0.256)`,
  nfPercentFrac: `new Intl.NumberFormat("en-US", { style: "percent", minimumFractionDigits: 1 }).format(0.256)`,
  nfFraction: `new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(1.005)`,
  nfHalfExpand: `[0.5, 1.5, 2.5, -2.5].map((x) => new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 }).format(x))`,
  nfMinInt: `new Intl.NumberFormat("en-US", { minimumIntegerDigits: 3 }).format(7)`,
  nfNoGroup: `new Intl.NumberFormat("en-US", { useGrouping: false }).format(1234567)`,
  nfCompact: `[999, 1234, 1500000, 2.5e9].map((x) => new Intl.NumberFormat("en-US", { notation: "compact" }).format(x))`,
  nfCompactLong: `new Intl.NumberFormat("en-US", { notation: "compact", compactDisplay: "long" }).format(1234567)`,
  nfScientific: `new Intl.NumberFormat("en-US", { notation: "scientific" }).format(123456)`,
  nfUnit: `new Intl.NumberFormat("en-US", { style: "unit", unit: "kilometer-per-hour" }).format(50)`,
  nfUnitLong: `new Intl.NumberFormat("en-US", { style: "unit", unit: "liter", unitDisplay: "long" }).format(16)`,
  nfSignificant: `new Intl.NumberFormat("en-US", { maximumSignificantDigits: 3 }).format(123456)`,
  nfSign: `new Intl.NumberFormat("en-US", { signDisplay: "always" }).format(5)`,
  nfParts: `new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" }).formatToParts(-1234.5)`,
  nfResolved: `new Intl.NumberFormat("en-US", { style: "currency", currency: "EUR" }).resolvedOptions()`,
  nfSpecial: `[NaN, Infinity, -0].map((x) => new Intl.NumberFormat("en-US").format(x))`,
  numberToLocale: `(1234.5).toLocaleString()`,
  numberToLocaleDe: `(1234.5).toLocaleString("de-DE", { style: "currency", currency: "EUR" })`,
  bigintToLocale: `(12345678901234567890n).toLocaleString("en-US")`,
  bigintHuge: `(10n ** 700n + 1n).toLocaleString("en-US")`,
  nfPartsSign: `new Intl.NumberFormat("en-US", { signDisplay: "always", notation: "compact" }).formatToParts(1500)`,

  collatorSort: `["z", "ä", "a", "Z", "b"].sort(new Intl.Collator("de").compare)`,
  collatorBase: `new Intl.Collator("en", { sensitivity: "base" }).compare("a", "A")`,
  collatorAccent: `new Intl.Collator("en", { sensitivity: "accent" }).compare("a", "á")`,
  collatorNumeric: `["item10", "item2", "item1"].sort(new Intl.Collator("en", { numeric: true }).compare)`,
  localeCompare: `["b", "a", "C", "á"].sort((x, y) => x.localeCompare(y))`,
  localeCompareNumeric: `"2".localeCompare("10", undefined, { numeric: true })`,

  pluralEn: `[0, 1, 2, 1.5].map((n) => new Intl.PluralRules("en-US").select(n))`,
  pluralOrdinal: `[1, 2, 3, 4, 11, 21, 22, 23].map((n) => new Intl.PluralRules("en-US", { type: "ordinal" }).select(n))`,
  pluralAr: `[0, 1, 2, 5, 11, 100].map((n) => new Intl.PluralRules("ar-EG").select(n))`,
  pluralCategories: `new Intl.PluralRules("en-US").resolvedOptions().pluralCategories`,

  rtf: `[[-1, "day"], [2, "hours"], [-3, "months"], [1, "year"]].map(([v, u]) => new Intl.RelativeTimeFormat("en").format(v, u))`,
  rtfAuto: `[[-1, "day"], [0, "day"], [1, "day"]].map(([v, u]) => new Intl.RelativeTimeFormat("en", { numeric: "auto" }).format(v, u))`,
  rtfDe: `new Intl.RelativeTimeFormat("de", { numeric: "auto" }).format(-1, "day")`,

  listAnd: `new Intl.ListFormat("en", { type: "conjunction" }).format(["a", "b", "c"])`,
  listOr: `new Intl.ListFormat("en", { type: "disjunction" }).format(["a", "b"])`,
  listDe: `new Intl.ListFormat("de").format(["A", "B", "C"])`,

  segGrapheme: `[...new Intl.Segmenter("en", { granularity: "grapheme" }).segment("e\\u0301👍🏽a")].map((s) => s.segment)`,
  segWord: `[...new Intl.Segmenter("en", { granularity: "word" }).segment("Hello, world! 42")].map((s) => [s.segment, s.index, s.isWordLike])`,
  segContaining: `(({ segment, index, isWordLike }) => ({ segment, index, isWordLike }))(new Intl.Segmenter("en", { granularity: "word" }).segment("Hello, world").containing(8))`,
  localeKeywords: `(({ calendar, numeric, hourCycle, baseName }) => ({ calendar, numeric, hourCycle, baseName }))(new Intl.Locale("de-DE-u-ca-gregory-hc-h23-kn"))`,
  dtfPartsPeriod: `new Intl.DateTimeFormat("en-US", { hour: "numeric", minute: "numeric", timeZone: "Asia/Kolkata" }).formatToParts(${D})`,
  segSentence: `[...new Intl.Segmenter("en", { granularity: "sentence" }).segment("One. Two? Three!")].map((s) => s.segment)`,

  locale: `(({ baseName, language, region, script }) => ({ baseName, language, region, script, s: String(new Intl.Locale("en-Latn-US")) }))(new Intl.Locale("en-Latn-US"))`,
  localeOpts: `String(new Intl.Locale("en", { region: "GB" }))`,
  canonical: `Intl.getCanonicalLocales(["EN-us", "de-de", "zh-hant-tw"])`,
  supported: `Intl.NumberFormat.supportedLocalesOf(["en-US", "de-DE"])`,
  tags: `[Object.prototype.toString.call(Intl), Object.prototype.toString.call(new Intl.NumberFormat())]`,
};

// name -> expression that must throw; the error's name must match node's
const throwing = {
  badLocale: `new Intl.NumberFormat("not a locale")`,
  badLocale2: `new Intl.DateTimeFormat("en-")`,
  badStyle: `new Intl.NumberFormat("en", { style: "bogus" })`,
  noCurrency: `new Intl.NumberFormat("en", { style: "currency" })`,
  badCurrency: `new Intl.NumberFormat("en", { style: "currency", currency: "US" })`,
  badUnit: `new Intl.NumberFormat("en", { style: "unit", unit: "parsec" })`,
  badFraction: `new Intl.NumberFormat("en", { maximumFractionDigits: 200 })`,
  badTimeZone: `new Intl.DateTimeFormat("en", { timeZone: "Mars/Olympus" })`,
  badDateStyle: `new Intl.DateTimeFormat("en", { dateStyle: "huge" })`,
  styleAndField: `new Intl.DateTimeFormat("en", { dateStyle: "short", year: "numeric" })`,
  invalidTime: `new Intl.DateTimeFormat("en").format(NaN)`,
  badGranularity: `new Intl.Segmenter("en", { granularity: "line" })`,
  badRtfUnit: `new Intl.RelativeTimeFormat("en").format(1, "fortnight")`,
  badListItem: `new Intl.ListFormat("en").format(["a", 1])`,
};

const worker = `
const same = {${Object.entries(same).map(([k, v]) => `\n  ${JSON.stringify(k)}: () => ${v}`).join(",")}
};
const throwing = {${Object.entries(throwing).map(([k, v]) => `\n  ${JSON.stringify(k)}: () => ${v}`).join(",")}
};
const enc = (v) => JSON.stringify(v, (k, x) => (typeof x === "bigint" ? x + "n" : x));
export default {
  async fetch(req) {
    const out = {};
    for (const [k, f] of Object.entries(same)) {
      try { out[k] = JSON.parse(enc(f())); } catch (e) { out[k] = { threw: e.name + ": " + e.message }; }
    }
    const errs = {};
    for (const [k, f] of Object.entries(throwing)) {
      try { f(); errs[k] = "no error"; } catch (e) { errs[k] = e.name; }
    }
    return Response.json({ out, errs, tz: new Intl.DateTimeFormat().resolvedOptions().timeZone, loc: new Intl.NumberFormat().resolvedOptions().locale });
  },
};
`;

let srv, got;
before(async () => {
  const dir = makeProject({
    "wrangler.toml": `name = "intl"\nmain = "index.js"\ncompatibility_date = "2026-01-01"\n`,
    "index.js": worker,
  });
  srv = await startDev(dir);
  const r = await fetch(srv.url);
  assert.equal(r.status, 200, await r.clone().text());
  got = await r.json();
});
after(() => srv?.stop());

const local = (expr) => {
  // node's default locale and time zone may be the machine's: pin them as Workers do
  const v = new Function("Intl", `return (${expr});`)(Intl);
  return JSON.parse(JSON.stringify(v, (k, x) => (typeof x === "bigint" ? x + "n" : x)));
};

test("defaults: en-US, UTC", () => {
  assert.equal(got.tz, "UTC");
  assert.equal(got.loc, "en-US");
});

for (const [name, expr] of Object.entries(same)) {
  test(`same as node: ${name}`, () => {
    let want;
    const tz = process.env.TZ;
    process.env.TZ = "UTC";
    try {
      want = local(expr.replace(/new Intl\.(\w+)\(\)/g, 'new Intl.$1("en-US")').replace(/toLocaleString\(\)/g, 'toLocaleString("en-US")'));
    } finally {
      if (tz === undefined) delete process.env.TZ; else process.env.TZ = tz;
    }
    assert.deepEqual(got.out[name], want);
  });
}

for (const [name, expr] of Object.entries(throwing)) {
  test(`throws like node: ${name}`, () => {
    let want = "no error";
    try { local(expr); } catch (e) { want = e.name; }
    assert.notEqual(want, "no error", `node accepts ${expr}`);
    assert.equal(got.errs[name], want);
  });
}

test("fixed strings", () => {
  assert.equal(got.out.nfDefault, "1,234,567.891");
  assert.equal(got.out.nfCurrency, "-$1,234.50");
  assert.equal(got.out.dtfDefault, "3/5/2024");
  assert.equal(got.out.dtfLong, "Tuesday, March 5, 2024");
  assert.deepEqual(got.out.listAnd, "a, b, and c");
});
