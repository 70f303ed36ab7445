// The newer Intl APIs inside a Worker (docs/intl.md): formatToParts of
// RelativeTimeFormat and ListFormat, date and number ranges, DisplayNames, Locale
// info, supportedValuesOf, NumberFormat rounding options, PluralRules.selectRange,
// DurationFormat, and locale-tag robustness. Each "known" case is evaluated in the
// Worker and compared with a fixed answer (what V8/workerd return, where ICU 72 agrees
// with newer ICU); each "throwing" case must throw the named error, as V8 does.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startDev, makeProject } from "../lib.mjs";

const D = "Date.UTC(2024, 2, 5, 14, 7, 9, 45)"; // Tue 5 March 2024 14:07:09.045 UTC
const H = 3600000;

// name -> [expression, answer]
const known = {
  rtfParts: [`new Intl.RelativeTimeFormat("en").formatToParts(1000, "days")`,
    [{ type: "literal", value: "in " }, { type: "integer", value: "1", unit: "day" }, { type: "group", value: ",", unit: "day" },
      { type: "integer", value: "000", unit: "day" }, { type: "literal", value: " days" }]],
  rtfPartsAuto: [`new Intl.RelativeTimeFormat("en", { numeric: "auto" }).formatToParts(-1, "day")`, [{ type: "literal", value: "yesterday" }]],
  rtfPartsDe: [`new Intl.RelativeTimeFormat("de").formatToParts(-1.5, "hour")`,
    [{ type: "literal", value: "vor " }, { type: "integer", value: "1", unit: "hour" }, { type: "decimal", value: ",", unit: "hour" },
      { type: "fraction", value: "5", unit: "hour" }, { type: "literal", value: " Stunden" }]],
  listParts: [`new Intl.ListFormat("en").formatToParts(["a", "b", "c"])`,
    [{ type: "element", value: "a" }, { type: "literal", value: ", " }, { type: "element", value: "b" }, { type: "literal", value: ", and " }, { type: "element", value: "c" }]],
  listPartsJa: [`new Intl.ListFormat("ja-JP", { type: "disjunction" }).formatToParts(["a", "b"])`,
    [{ type: "element", value: "a" }, { type: "literal", value: "または" }, { type: "element", value: "b" }]],
  listPartsEmpty: [`new Intl.ListFormat("en").formatToParts([])`, []],

  dtfRange: [`new Intl.DateTimeFormat("en-US", { hour: "numeric", minute: "numeric" }).formatRange(0, ${H})`, "12:00\u2009–\u20091:00 AM"],
  dtfRangeDays: [`new Intl.DateTimeFormat("en-US", { dateStyle: "medium" }).formatRange(0, 40 * 24 * ${H})`, "Jan 1\u2009–\u2009Feb 10, 1970"],
  dtfRangeSame: [`new Intl.DateTimeFormat("en-US", { dateStyle: "medium" }).formatRange(0, 5)`, "Jan 1, 1970"],
  dtfRangeDe: [`new Intl.DateTimeFormat("de-DE", { day: "numeric", month: "long", year: "numeric" }).formatRange(${D}, ${D} + 48 * ${H})`, "5.–7. März 2024"],
  dtfRangeParts: [`new Intl.DateTimeFormat("en-US", { hour: "numeric", minute: "numeric" }).formatRangeToParts(0, ${H})`,
    [{ type: "hour", value: "12", source: "startRange" }, { type: "literal", value: ":", source: "startRange" }, { type: "minute", value: "00", source: "startRange" },
      { type: "literal", value: "\u2009–\u2009", source: "shared" }, { type: "hour", value: "1", source: "endRange" }, { type: "literal", value: ":", source: "endRange" },
      { type: "minute", value: "00", source: "endRange" }, { type: "literal", value: "\u202f", source: "shared" }, { type: "dayPeriod", value: "AM", source: "shared" }]],
};

// name -> [expression, error name]
const throwing = {
  rangeNoEnd: [`new Intl.DateTimeFormat("en").formatRange(0)`, "TypeError"],
  rangeNaN: [`new Intl.DateTimeFormat("en").formatRange(0, NaN)`, "RangeError"],
  rangePartsNoArgs: [`new Intl.DateTimeFormat("en").formatRangeToParts()`, "TypeError"],
  rtfPartsUnit: [`new Intl.RelativeTimeFormat("en").formatToParts(1, "fortnight")`, "RangeError"],
  rtfPartsInf: [`new Intl.RelativeTimeFormat("en").formatToParts(Infinity, "day")`, "RangeError"],
  listPartsItem: [`new Intl.ListFormat("en").formatToParts(["a", 1])`, "TypeError"],
  longTag: [`new Intl.NumberFormat("en-" + "abcdefgh-".repeat(2000) + "x")`, "RangeError"],
  longTagLocale: [`new Intl.Locale("de-" + "x".repeat(100000))`, "RangeError"],
  badTagChars: [`new Intl.DateTimeFormat("en_US\\u0000")`, "RangeError"],
  wrongReceiver: [`Intl.DateTimeFormat.prototype.formatRange.call({}, 0, 1)`, "TypeError"],
};

const worker = `
const known = {${Object.entries(known).map(([k, [v]]) => `\n  ${JSON.stringify(k)}: () => ${v}`).join(",")}
};
const throwing = {${Object.entries(throwing).map(([k, [v]]) => `\n  ${JSON.stringify(k)}: () => ${v}`).join(",")}
};
export default {
  async fetch(req) {
    const out = {};
    for (const [k, f] of Object.entries(known)) {
      try { out[k] = JSON.parse(JSON.stringify(f() ?? null)); } catch (e) { out[k] = { threw: e.name + ": " + e.message }; }
    }
    const errs = {};
    for (const [k, f] of Object.entries(throwing)) {
      try { f(); errs[k] = "no error"; } catch (e) { errs[k] = e.name; }
    }
    return Response.json({ out, errs });
  },
};
`;

let srv, got;
before(async () => {
  const dir = makeProject({
    "wrangler.toml": `name = "intl-apis"\nmain = "index.js"\ncompatibility_date = "2026-01-01"\n`,
    "index.js": worker,
  });
  srv = await startDev(dir);
  const r = await fetch(srv.url);
  assert.equal(r.status, 200, await r.clone().text());
  got = await r.json();
});
after(() => srv?.stop());

for (const [name, [, want]] of Object.entries(known)) {
  test(`known answer: ${name}`, () => assert.deepEqual(got.out[name], want));
}

for (const [name, [, want]] of Object.entries(throwing)) {
  test(`throws: ${name}`, () => assert.equal(got.errs[name], want));
}
