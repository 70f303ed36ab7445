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

  dnLanguage: [`["de-AT", "en-GB", "zh-Hant", "fr-CA", "xx", "en-u-ca-japanese", "sr-Latn", "EN-us"].map((c) => new Intl.DisplayNames("en", { type: "language" }).of(c))`,
    ["Austrian German", "British English", "Traditional Chinese", "Canadian French", "xx", "English", "Serbian (Latin)", "American English"]],
  dnLanguageStandard: [`["de-AT", "zh-Hant"].map((c) => new Intl.DisplayNames("en", { type: "language", languageDisplay: "standard" }).of(c))`,
    ["German (Austria)", "Chinese (Traditional)"]],
  dnLanguageShort: [`new Intl.DisplayNames("en", { type: "language", style: "short" }).of("en-GB")`, "UK English"],
  dnLanguageAr: [`new Intl.DisplayNames("ar-EG", { type: "language" }).of("ar-EG")`, "العربية (مصر)"],
  dnRegionJa: [`["US", "de", "419", "XY"].map((c) => new Intl.DisplayNames("ja-JP", { type: "region" }).of(c))`, ["アメリカ合衆国", "de", "ラテンアメリカ", "XY"]],
  dnRegionNone: [`new Intl.DisplayNames("en", { type: "region", fallback: "none" }).of("XY") === undefined`, true],
  dnScriptDe: [`["latn", "Arab", "Cyrl", "Zzzz"].map((c) => new Intl.DisplayNames("de", { type: "script" }).of(c))`, ["latn", "Arabisch", "Kyrillisch", "Unbekannte Schrift"]],
  dnCurrency: [`["USD", "eur", "XYZ"].map((c) => new Intl.DisplayNames("en", { type: "currency" }).of(c))`, ["US Dollar", "Euro", "XYZ"]],
  dnCurrencyDe: [`new Intl.DisplayNames("de", { type: "currency", style: "short" }).of("JPY")`, "Japanischer Yen"],
  dnCurrencyNone: [`new Intl.DisplayNames("en", { type: "currency", fallback: "none" }).of("XYZ") === undefined`, true],
  dnCalendar: [`["gregory", "japanese", "chinese", "xyzabc"].map((c) => new Intl.DisplayNames("en", { type: "calendar" }).of(c))`,
    ["Gregorian Calendar", "Japanese Calendar", "Chinese Calendar", "xyzabc"]],
  dnField: [`["era", "year", "month", "weekOfYear", "weekday", "dayPeriod", "timeZoneName"].map((c) => new Intl.DisplayNames("en", { type: "dateTimeField" }).of(c))`,
    ["era", "year", "month", "week", "day of the week", "AM/PM", "time zone"]],
  dnResolved: [`new Intl.DisplayNames("en", { type: "language" }).resolvedOptions()`, { locale: "en", style: "long", type: "language", fallback: "code", languageDisplay: "dialect" }],

  localeMax: [`["en", "zh-TW", "und-Arab", "ja", "sr-Cyrl", "en-u-ca-japanese"].map((l) => [new Intl.Locale(l).maximize().toString(), new Intl.Locale(l).maximize().minimize().toString()])`,
    [["en-Latn-US", "en"], ["zh-Hant-TW", "zh-TW"], ["ar-Arab-EG", "ar"], ["ja-Jpan-JP", "ja"], ["sr-Cyrl-RS", "sr"], ["en-Latn-US-u-ca-japanese", "en-u-ca-japanese"]]],
  localeInfo: [`["ar-EG", "en-US", "de", "ja-JP"].map((l) => { const x = new Intl.Locale(l); return [x.getCalendars(), x.getCollations(), x.getHourCycles(), x.getNumberingSystems(), x.getTextInfo()]; })`,
    [[["gregory", "coptic", "islamic", "islamic-civil", "islamic-tbla"], ["compat", "emoji", "eor"], ["h12"], ["arab"], { direction: "rtl" }],
      [["gregory"], ["emoji", "eor"], ["h12"], ["latn"], { direction: "ltr" }],
      [["gregory"], ["emoji", "eor", "phonebk"], ["h23"], ["latn"], { direction: "ltr" }],
      [["gregory", "japanese"], ["emoji", "eor", "unihan"], ["h23"], ["latn"], { direction: "ltr" }]]],
  localeKeywordInfo: [`(({ calendars, hourCycles, numberingSystems }) => ({ calendars, hourCycles, numberingSystems }))(new Intl.Locale("ar-EG-u-ca-islamic-hc-h23-nu-latn"))`,
    { calendars: ["islamic"], hourCycles: ["h23"], numberingSystems: ["latn"] }],
  localeWeek: [`["ar-EG", "en-US", "de-DE"].map((l) => new Intl.Locale(l).getWeekInfo())`,
    [{ firstDay: 6, weekend: [5, 6], minimalDays: 1 }, { firstDay: 7, weekend: [6, 7], minimalDays: 1 }, { firstDay: 1, weekend: [6, 7], minimalDays: 4 }]],
  localeZones: [`[new Intl.Locale("ja-JP").getTimeZones(), new Intl.Locale("de").getTimeZones() === undefined, new Intl.Locale("en-US").timeZones.includes("America/New_York")]`,
    [["Asia/Tokyo"], true, true]],
  undLocale: [`[new Intl.NumberFormat("und").resolvedOptions().locale, new Intl.DateTimeFormat(["und"]).format(0), Intl.getCanonicalLocales(["und", "UND-latn"]),
    new Intl.Locale("und").maximize().toString(), new Intl.Locale("und", { region: "DE" }).language, new Intl.Locale("und-Latn-DE").maximize().toString()]`,
    ["en-US", "1/1/1970", ["und", "und-Latn"], "en-Latn-US", "und", "de-Latn-DE"]],
  valuesCalendar: [`Intl.supportedValuesOf("calendar")`, ["buddhist", "chinese", "coptic", "dangi", "ethioaa", "ethiopic", "gregory", "hebrew", "indian", "islamic",
    "islamic-civil", "islamic-rgsa", "islamic-tbla", "islamic-umalqura", "iso8601", "japanese", "persian", "roc"]],
  valuesCollation: [`Intl.supportedValuesOf("collation")`, ["compat", "dict", "emoji", "eor", "phonebk", "phonetic", "pinyin", "searchjl", "stroke", "trad", "unihan", "zhuyin"]],
  valuesOthers: [`["currency", "numberingSystem", "timeZone", "unit"].map((k) => { const v = Intl.supportedValuesOf(k); return [v.length > 40, v.join() === [...v].sort().join()]; }).concat([
    ["EUR", "USD", "JPY"].every((c) => Intl.supportedValuesOf("currency").includes(c)), ["arab", "latn", "thai"].every((c) => Intl.supportedValuesOf("numberingSystem").includes(c)),
    Intl.supportedValuesOf("numberingSystem").includes("roman"), ["Europe/Berlin", "Asia/Tokyo"].every((c) => Intl.supportedValuesOf("timeZone").includes(c))])`,
    [[true, true], [true, true], [true, true], [true, true], true, true, false, true]],

  nfRoundingModes: [`[1.25, -1.25, 1.35, 1.21].map((x) => ["ceil", "floor", "expand", "trunc", "halfCeil", "halfFloor", "halfExpand", "halfTrunc", "halfEven"]
    .map((m) => new Intl.NumberFormat("en", { maximumFractionDigits: 1, roundingMode: m }).format(x)).join(" "))`,
    ["1.3 1.2 1.3 1.2 1.3 1.2 1.3 1.2 1.2", "-1.2 -1.3 -1.3 -1.2 -1.2 -1.3 -1.3 -1.2 -1.2", "1.4 1.3 1.4 1.3 1.4 1.3 1.4 1.3 1.4", "1.3 1.2 1.3 1.2 1.2 1.2 1.2 1.2 1.2"]],
  nfIncrement: [`[1.23, 1.26, 1.374].map((x) => new Intl.NumberFormat("en", { minimumFractionDigits: 2, maximumFractionDigits: 2, roundingIncrement: 5 }).format(x))`, ["1.25", "1.25", "1.35"]],
  nfIncrementInt: [`new Intl.NumberFormat("en", { roundingIncrement: 25, maximumFractionDigits: 0 }).format(1234)`, "1,225"],
  nfIncrementCurrency: [`new Intl.NumberFormat("de-DE", { style: "currency", currency: "EUR", roundingIncrement: 50 }).format(1.26)`, "1,50 €"],
  nfTrailingZero: [`[1, 1.5, 1.25].map((x) => new Intl.NumberFormat("en", { minimumFractionDigits: 2, trailingZeroDisplay: "stripIfInteger" }).format(x))`, ["1", "1.50", "1.25"]],
  nfPriority: [`[1.23456, 123.456, 0.00123].map((x) => ["morePrecision", "lessPrecision"].map((p) => new Intl.NumberFormat("en", { maximumFractionDigits: 2, maximumSignificantDigits: 2, roundingPriority: p }).format(x)))`,
    [["1.23", "1.2"], ["123.46", "120"], ["0.0012", "0"]]],
  nfPercentFloor: [`new Intl.NumberFormat("de-DE", { style: "percent", maximumFractionDigits: 1, roundingMode: "floor" }).format(0.12399)`, "12,3 %"],
  nfResolvedRounding: [`(({ roundingIncrement, roundingMode, roundingPriority, trailingZeroDisplay, minimumFractionDigits, maximumFractionDigits, minimumSignificantDigits, maximumSignificantDigits }) =>
    ({ roundingIncrement, roundingMode, roundingPriority, trailingZeroDisplay, minimumFractionDigits, maximumFractionDigits, minimumSignificantDigits, maximumSignificantDigits }))(
    new Intl.NumberFormat("en", { maximumFractionDigits: 2, maximumSignificantDigits: 2, roundingPriority: "lessPrecision", roundingMode: "halfEven", trailingZeroDisplay: "stripIfInteger" }).resolvedOptions())`,
    { roundingIncrement: 1, roundingMode: "halfEven", roundingPriority: "lessPrecision", trailingZeroDisplay: "stripIfInteger", minimumFractionDigits: 0, maximumFractionDigits: 2, minimumSignificantDigits: 1, maximumSignificantDigits: 2 }],
  nfResolvedCompact: [`(({ roundingPriority, maximumFractionDigits, maximumSignificantDigits }) => ({ roundingPriority, maximumFractionDigits, maximumSignificantDigits }))(new Intl.NumberFormat("en", { notation: "compact" }).resolvedOptions())`,
    { roundingPriority: "morePrecision", maximumFractionDigits: 0, maximumSignificantDigits: 2 }],
  nfRange: [`[new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" }).formatRange(3, 5), new Intl.NumberFormat("de-DE", { style: "currency", currency: "EUR" }).formatRange(3, 5),
    new Intl.NumberFormat("en-US").formatRange(2.9, 3.1), new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 }).formatRange(2.9, 3.1), new Intl.NumberFormat("ja-JP").formatRange(1000, 5000),
    new Intl.NumberFormat("en-US").formatRange(-5, -3)]`, ["$3.00 – $5.00", "3,00–5,00 €", "2.9–3.1", "~3", "1,000～5,000", "-5 – -3"]],
  nfRangeParts: [`new Intl.NumberFormat("en-US", { signDisplay: "always" }).formatRangeToParts(3, 5)`,
    [{ type: "plusSign", value: "+", source: "startRange" }, { type: "integer", value: "3", source: "startRange" }, { type: "literal", value: " – ", source: "shared" },
      { type: "plusSign", value: "+", source: "endRange" }, { type: "integer", value: "5", source: "endRange" }]],
  nfRangeApprox: [`new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 }).formatRangeToParts(2.9, 3.1)`,
    [{ type: "approximatelySign", value: "~", source: "shared" }, { type: "integer", value: "3", source: "shared" }]],
  pluralRange: [`[[0, 1], [1, 2], [1, 1]].map(([a, b]) => new Intl.PluralRules("en").selectRange(a, b))`, ["other", "other", "other"]],
  pluralRangeAr: [`[[0, 1], [1, 2], [2, 5], [5, 11]].map(([a, b]) => new Intl.PluralRules("ar-EG").selectRange(a, b))`, ["zero", "other", "few", "many"]],

  dtfCalendarOption: [`[new Intl.DateTimeFormat("en-US", { calendar: "japanese" }).format(${D}), new Intl.DateTimeFormat("en-US-u-ca-japanese").format(${D}),
    new Intl.DateTimeFormat("ja-JP-u-ca-japanese", { dateStyle: "long" }).format(${D}), new Intl.DateTimeFormat("en", { calendar: "hebrew", dateStyle: "long" }).format(${D}),
    new Intl.DateTimeFormat("en-u-ca-islamic-umalqura", { dateStyle: "long" }).format(${D})]`, ["3/5/6 R", "3/5/6 R", "令和6年3月5日", "25 Adar I 5784", "Shaʻban 24, 1445 AH"]],
  dtfCalendarResolved: [`[["en-US-u-ca-japanese"], ["en-US-u-ca-japanese", { calendar: "buddhist" }], ["en-US", { calendar: "xyzzy" }], ["th-TH"], ["de-DE-u-hc-h12-ca-roc"]]
    .map(([l, o]) => (({ locale, calendar }) => [locale, calendar])(new Intl.DateTimeFormat(l, o).resolvedOptions()))`,
    [["en-US-u-ca-japanese", "japanese"], ["en-US", "buddhist"], ["en-US", "gregory"], ["th-TH", "buddhist"], ["de-DE-u-ca-roc-hc-h12", "roc"]]],
  dtfChineseParts: [`new Intl.DateTimeFormat("zh-CN", { calendar: "chinese", dateStyle: "long" }).formatToParts(${D})`,
    [{ type: "relatedYear", value: "2024" }, { type: "yearName", value: "甲辰" }, { type: "literal", value: "年" }, { type: "month", value: "正月" }, { type: "day", value: "廿五" }]],
  dtfNumberingSystem: [`[new Intl.DateTimeFormat("ar-EG", { dateStyle: "medium" }).format(${D}), new Intl.DateTimeFormat("ar-EG", { numberingSystem: "latn", dateStyle: "medium" }).format(${D}),
    new Intl.DateTimeFormat("ar-EG", { numberingSystem: "latn" }).resolvedOptions().numberingSystem]`, ["٠٥‏/٠٣‏/٢٠٢٤", "05‏/03‏/2024", "latn"]],
  nfNumberingSystem: [`[new Intl.NumberFormat("en-US", { numberingSystem: "arab" }).format(1234.5), new Intl.NumberFormat("en-US-u-nu-thai").format(1234.5),
    new Intl.NumberFormat("en-US-u-nu-thai").resolvedOptions().locale, new Intl.NumberFormat("ar-EG").resolvedOptions().numberingSystem,
    new Intl.NumberFormat("ar-EG-u-nu-latn", { numberingSystem: "arab" }).resolvedOptions().locale, new Intl.NumberFormat("en", { numberingSystem: "roman" }).resolvedOptions().numberingSystem]`,
    ["١٬٢٣٤٫٥", "๑,๒๓๔.๕", "en-US-u-nu-thai", "arab", "ar-EG", "latn"]],

  collatorCaseFirst: [`[["en", { caseFirst: "upper" }], ["en", { caseFirst: "lower" }], ["en-u-kf-upper"]].map(([l, o]) => ["a", "A", "á", "b", "B"].sort(new Intl.Collator(l, o).compare).join(""))`,
    ["AaáBb", "aAábB", "AaáBb"]],
  collatorSensitivity: [`[["a", "A"], ["a", "á"], ["a", "b"]].map(([x, y]) => ["base", "accent", "case", "variant"].map((s) => new Intl.Collator("en", { sensitivity: s }).compare(x, y)))`,
    [[0, 0, -1, -1], [0, -1, 0, -1], [-1, -1, -1, -1]]],
  collatorPunctuation: [`[new Intl.Collator("en", { ignorePunctuation: true }).compare("a-b", "ab"), new Intl.Collator("en").compare("a-b", "ab") !== 0, new Intl.Collator("th").resolvedOptions().ignorePunctuation]`, [0, true, true]],
  collatorNumericTag: [`["a10", "a2", "a1"].sort(new Intl.Collator("en-u-kn").compare)`, ["a1", "a2", "a10"]],
  collatorPhonebook: [`[["de", { collation: "phonebk" }], ["de"], ["de-u-co-phonebk"]].map(([l, o]) => ["ae", "ä", "af"].sort(new Intl.Collator(l, o).compare).join())`, ["ae,ä,af", "ä,ae,af", "ae,ä,af"]],
  collatorResolved: [`[["de", { collation: "phonebk" }], ["en-u-kn", { numeric: false }], ["de-u-co-xyzzy"], ["en-u-kf-upper"]].map(([l, o]) =>
    (({ locale, collation, numeric, caseFirst }) => [locale, collation, numeric, caseFirst])(new Intl.Collator(l, o).resolvedOptions()))`,
    [["de-u-co-phonebk", "phonebk", false, "false"], ["en-u-kn", "default", false, "false"], ["de", "default", false, "false"], ["en-u-kf-upper", "default", false, "upper"]]],

  durationStyles: [`[["long", { hours: 1, minutes: 2 }], ["short", { hours: 1, minutes: 2, seconds: 3 }], ["narrow", { hours: 1, minutes: 2, seconds: 3 }],
    ["digital", { hours: 1, minutes: 2, seconds: 3 }], ["digital", { hours: 1, minutes: 2 }], ["digital", { days: 1, hours: 2, minutes: 3 }], ["long", { years: 2, months: 1, days: 3 }]]
    .map(([style, d]) => new Intl.DurationFormat("en", { style }).format(d))`,
    ["1 hour, 2 minutes", "1 hr, 2 min, 3 sec", "1h 2m 3s", "1:02:03", "1:02:00", "1 day, 2:03:00", "2 years, 1 month, 3 days"]],
  durationFractions: [`[new Intl.DurationFormat("en", { style: "digital" }).format({ seconds: 1, milliseconds: 500 }), new Intl.DurationFormat("en").format({ seconds: 1, milliseconds: 500 }),
    new Intl.DurationFormat("en", { milliseconds: "numeric" }).format({ seconds: 1, milliseconds: 500 }),
    new Intl.DurationFormat("en", { style: "digital", fractionalDigits: 2 }).format({ minutes: 5, seconds: 7, milliseconds: 256 })]`,
    ["0:00:01.5", "1 sec, 500 ms", "1.5 sec", "0:05:07.25"]],
  durationDigitalLocales: [`["en", "fi", "de", "ar-EG"].map((l) => new Intl.DurationFormat(l, { style: "digital" }).format({ hours: 1, minutes: 2, seconds: 3 }))`,
    ["1:02:03", "1.02.03", "1:02:03", "١:٠٢:٠٣"]],
  durationNegative: [`new Intl.DurationFormat("en", { style: "long" }).format({ hours: -1, minutes: -30 })`, "-1 hour, 30 minutes"],
  durationDe: [`new Intl.DurationFormat("de", { style: "long" }).format({ years: 2, months: 1, days: 3 })`, "2 Jahre, 1 Monat und 3 Tage"],
  durationParts: [`new Intl.DurationFormat("en", { style: "long" }).formatToParts({ hours: 1, minutes: 30 })`,
    [{ type: "integer", value: "1", unit: "hour" }, { type: "literal", value: " " }, { type: "unit", value: "hour", unit: "hour" }, { type: "literal", value: ", " },
      { type: "integer", value: "30", unit: "minute" }, { type: "literal", value: " " }, { type: "unit", value: "minutes", unit: "minute" }]],
  durationResolved: [`(({ locale, style, hours, hoursDisplay, milliseconds, fractionalDigits }) => ({ locale, style, hours, hoursDisplay, milliseconds, fractionalDigits }))(
    new Intl.DurationFormat("en", { style: "digital", fractionalDigits: 3 }).resolvedOptions())`,
    { locale: "en", style: "digital", hours: "numeric", hoursDisplay: "always", milliseconds: "fractional", fractionalDigits: 3 }],

  // locale negotiation (ECMA-402 LookupMatcher, as V8): the longest prefix ICU has a
  // locale for, per constructor's list (Collator and PluralRules have shorter ones);
  // nothing: "en-US". Only the constructor's own -u- keys stay, with supported values.
  negotiated: [`["en-XX", "de-AT", "ar-EG", "zh-TW", "zh-Hant-XX", "de-CH-1996", "de-x-foo", "de-t-en", "xx", "und-DE", "iw", "pt-PT", "en-US-u-va-posix",
    "de-DE-u-co-phonebk-ca-japanese-nu-thai-hc-h23-kn-kf-upper", "en-a-bbb-u-nu-thai", "ja-JP-u-ca-japanese"].map((l) =>
    ["Collator", "NumberFormat", "DateTimeFormat", "PluralRules", "RelativeTimeFormat", "ListFormat", "Segmenter", "DurationFormat"]
      .map((c) => new Intl[c](l).resolvedOptions().locale).concat(new Intl.DisplayNames(l, { type: "region" }).resolvedOptions().locale).join(" "))`,
    ["en en en en en en en en en", "de-AT de-AT de-AT de de-AT de-AT de-AT de-AT de-AT", "ar ar-EG ar-EG ar ar-EG ar-EG ar-EG ar-EG ar-EG",
      "zh-TW zh-TW zh-TW zh zh-TW zh-TW zh-TW zh-TW zh-TW", "zh-Hant zh-Hant zh-Hant zh zh-Hant zh-Hant zh-Hant zh-Hant zh-Hant",
      "de de-CH de-CH de de-CH de-CH de-CH de-CH de-CH", "de de de de de de de de de", "de de de de de de de de de",
      "en-US en-US en-US en-US en-US en-US en-US en-US en-US", "en-US en-US en-US en-US en-US en-US en-US en-US en-US", "he he he he he he he he he",
      "pt pt-PT pt-PT pt-PT pt-PT pt-PT pt-PT pt-PT pt-PT",
      "en-US-u-va-posix en-US-u-va-posix en-US-u-va-posix en-u-va-posix en-US-u-va-posix en-US-u-va-posix en-US-u-va-posix en-US-u-va-posix en-US-u-va-posix",
      "de-u-co-phonebk-kf-upper-kn de-DE-u-nu-thai de-DE-u-ca-japanese-hc-h23-nu-thai de de-DE-u-nu-thai de-DE de-DE de-DE-u-nu-thai de-DE",
      "en en-u-nu-thai en-u-nu-thai en en-u-nu-thai en en en-u-nu-thai en", "ja ja-JP ja-JP-u-ca-japanese ja ja-JP ja-JP ja-JP ja-JP ja-JP"]],
  // CLDR alias replacement, as ICU's Locale::canonicalize does for V8
  canonicalAliases: [`[Intl.getCanonicalLocales(["tl", "no", "sh", "cmn", "swh", "en-UK", "de-DD", "ru-SU", "hy-SU", "sh-BA", "und-Qaai", "ji", "prs", "az-Latn-SU",
    "sh-u-nu-thai-x-foo", "tl-PH-1996", "zh-Hant-TW"]), new Intl.Collator("sh").resolvedOptions().locale, new Intl.Locale("iw-IL").toString()]`,
    [["fil", "no", "sr-Latn", "zh", "sw", "en-GB", "de-DE", "ru-RU", "hy-AM", "sr-Latn-BA", "und-Zinh", "yi", "fa-AF", "az-Latn-AZ", "sr-Latn-u-nu-thai-x-foo",
      "fil-PH-1996", "zh-Hant-TW"], "sr-Latn", "he-IL"]],
  negotiatedList: [`[new Intl.NumberFormat(["xx", "de-u-nu-thai"]).resolvedOptions().locale, new Intl.NumberFormat("xx-u-nu-thai").resolvedOptions().locale,
    (5).toLocaleString("en-XX-u-nu-arab"), new Intl.NumberFormat("en-u-nu-roman").resolvedOptions().locale, new Intl.NumberFormat("en-u-nu-bogus").resolvedOptions().locale]`,
    ["de-u-nu-thai", "en-US", "٥", "en", "en"]],
  supportedLocales: [`[Intl.DateTimeFormat.supportedLocalesOf(["xx", "de-AT"]), Intl.NumberFormat.supportedLocalesOf(["EN-us", "en-XX", "tlh", "und", "de-u-nu-thai", "de-x-foo", "iw"], { localeMatcher: "lookup" }),
    Intl.Collator.supportedLocalesOf(["ar-EG", "xx-u-co-phonebk"]), Intl.PluralRules.supportedLocalesOf("zh-Hant-TW"), Intl.DurationFormat.supportedLocalesOf([]), Intl.ListFormat.supportedLocalesOf.length]`,
    [["de-AT"], ["en-US", "en-XX", "de-u-nu-thai", "de-x-foo", "he"], ["ar-EG"], ["zh-Hant-TW"], [], 1]],
  supportedLocalesErrors: [`[() => Intl.DateTimeFormat.supportedLocalesOf(["de"], { localeMatcher: "x" }), () => Intl.Collator.supportedLocalesOf([], null)]
    .map((f) => { try { f(); return "no error"; } catch (e) { return e.name + ": " + e.message; } })`,
    ["RangeError: Value x out of range for Intl.DateTimeFormat.supportedLocalesOf options property localeMatcher", "TypeError: Intl.Collator.supportedLocalesOf called on null or undefined"]],
  collatorKeys: [`["en-u-co-phonebk", "de-u-co-phonebk-nu-thai", "en-u-co-emoji", "en-u-kn-false", "en-u-kf-bogus", "sv-u-co-search", "de-u-co-standard"]
    .map((l) => (({ locale, collation }) => locale + " " + collation)(new Intl.Collator(l).resolvedOptions()))`,
    ["en default", "de-u-co-phonebk phonebk", "en-u-co-emoji emoji", "en-u-kn-false default", "en default", "sv default", "de default"]],
  rtfNumbering: [`[new Intl.RelativeTimeFormat("en-US-u-nu-thai-ca-japanese").resolvedOptions(), new Intl.RelativeTimeFormat("en", { numberingSystem: "arab" }).format(3, "day")]`,
    [{ locale: "en-US-u-nu-thai", style: "long", numeric: "always", numberingSystem: "thai" }, "in ٣ days"]],
  dtfHourCycleKey: [`[["en-US-u-hc-h23", { hour12: true }], ["en-US-u-hc-h23", { hourCycle: "h23" }], ["en-US-u-hc-h23", { hour: "numeric" }], ["en-US-u-hc-xx"]]
    .map(([l, o]) => (({ locale, hourCycle, hour }) => [locale, hourCycle, hour])(new Intl.DateTimeFormat(l, o).resolvedOptions())).concat([
    new Intl.DateTimeFormat("en-US-u-hc-h11", { hour: "numeric" }).format(0), new Intl.DateTimeFormat("en-US", { hourCycle: "h23", timeStyle: "short" }).format(0),
    new Intl.DateTimeFormat("en-US-u-hc-h23", { dateStyle: "short", timeStyle: "medium" }).format(0), new Intl.DateTimeFormat("en-US", { hourCycle: "h11", timeStyle: "full" }).format(0)])`,
    [["en-US", undefined, undefined], ["en-US", undefined, undefined], ["en-US-u-hc-h23", "h23", "2-digit"], ["en-US", undefined, undefined],
      "0 AM", "00:00", "1/1/70, 00:00:00", "0:00:00 AM Coordinated Universal Time"].map((x) => (Array.isArray(x) ? x.map((y) => (y === undefined ? null : y)) : x))],
  // resolvedOptions' fields are read back from the pattern ICU chose, as V8 does
  dtfJapaneseEra: [`[new Intl.DateTimeFormat("ja-JP-u-ca-japanese").resolvedOptions(), new Intl.DateTimeFormat("ja-JP-u-ca-japanese", { era: "long" }).resolvedOptions().era,
    new Intl.DateTimeFormat("ja-JP-u-ca-japanese", { era: "long" }).format(${D}), new Intl.DateTimeFormat("ja-JP-u-ca-japanese", { era: "short", year: "numeric" }).formatToParts(${D}),
    new Intl.DateTimeFormat("en-US-u-ca-japanese").resolvedOptions().era, new Intl.DateTimeFormat("ja", { era: "long", year: "numeric", calendar: "japanese" }).format(Date.UTC(1989, 0, 8))]`,
    [{ locale: "ja-JP-u-ca-japanese", calendar: "japanese", numberingSystem: "latn", timeZone: "UTC", era: "narrow", year: "numeric", month: "numeric", day: "numeric" }, "long",
      "令和6/3/5", [{ type: "era", value: "令和" }, { type: "year", value: "6" }, { type: "literal", value: "年" }], "narrow", "平成元年"]],
  dtfPatternFields: [`[[{ era: "short" }], [{ hour: "numeric", minute: "numeric" }], [{ month: "long" }, "ja-JP-u-ca-japanese"], [{}, "en-u-ca-chinese"], [{ year: "numeric" }, "zh-u-ca-chinese"],
    [{ fractionalSecondDigits: 3, second: "numeric" }], [{ hourCycle: "h24", hour: "numeric" }]].map(([o, l]) => {
      const { locale, calendar, numberingSystem, timeZone, ...f } = new Intl.DateTimeFormat(l || "en", o).resolvedOptions(); return f; })`,
    [{ era: "short", year: "numeric", month: "numeric", day: "numeric" }, { hourCycle: "h12", hour12: true, hour: "numeric", minute: "2-digit" }, { month: "numeric" },
      { month: "numeric", day: "numeric" }, {}, { second: "numeric", fractionalSecondDigits: 3 }, { hourCycle: "h24", hour12: false, hour: "2-digit" }]],
  dtfDayPeriod: [`[{ dayPeriod: "short", hour: "numeric" }, { dayPeriod: "long", hour: "2-digit", minute: "numeric" }, { dayPeriod: "narrow" }]
    .map((o) => [new Intl.DateTimeFormat("en-US", o).format(Date.UTC(2024, 1, 1, 14)), new Intl.DateTimeFormat("en-US", o).resolvedOptions().dayPeriod])`,
    [["2 in the afternoon", "short"], ["02:00 in the afternoon", "long"], ["in the afternoon", "narrow"]]],
  // V8 13 (no Temporal): a string is not parsed as an ISO 8601 duration
  durationString: [`(() => { try { new Intl.DurationFormat("en").format("PT1H30M"); return "no error"; } catch (e) { return e.name + ": " + e.message; } })()`,
    "RangeError: Invalid object : PT1H30M"],

  // every API with tags around ICU's 157-byte locale-id buffers and other odd ones:
  // each either works or throws RangeError (never another error, never a crash)
  robustTags: [`(() => {
    const tags = ["", "-", "en-", "root", "und", "i-klingon", "zh-min-nan", "en-a-bbb-a-ccc", "de-1996-1996", "en\\u0000", "\\u{1F600}", "a".repeat(300),
      "en-u-" + "ca-gregory-".repeat(20) + "nu-latn", "x-" + "abcdefgh-".repeat(30) + "a"];
    for (let k = 13; k <= 22; k++) for (let r = 1; r <= 8; r++) {
      tags.push("en-x-" + "abcdefgh-".repeat(k) + "a".repeat(r), "en-US-u-co-" + "abcdefgh-".repeat(k) + "b".repeat(Math.max(3, r)), "de-" + "abcde-".repeat(k) + "x".repeat(Math.max(5, r)));
    }
    const uses = [(t) => new Intl.NumberFormat(t, { style: "currency", currency: "EUR" }).formatRangeToParts(1, 2), (t) => new Intl.DateTimeFormat(t, { dateStyle: "long" }).formatRangeToParts(0, 1e9),
      (t) => new Intl.Collator(t).compare("a", "b"), (t) => new Intl.PluralRules(t).selectRange(1, 2), (t) => new Intl.RelativeTimeFormat(t).formatToParts(-2, "day"),
      (t) => new Intl.ListFormat(t).formatToParts(["a", "b"]), (t) => new Intl.DisplayNames(t, { type: "language" }).of("en-GB"), (t) => new Intl.DisplayNames("en", { type: "language" }).of(t),
      (t) => { const l = new Intl.Locale(t); return [l.maximize().minimize().toString(), l.getWeekInfo(), l.getCalendars(), l.getTimeZones(), l.getTextInfo()]; },
      (t) => [...new Intl.Segmenter(t, { granularity: "word" }).segment("a b")], (t) => new Intl.DurationFormat(t, { style: "digital" }).format({ hours: 1, milliseconds: 5 }),
      (t) => Intl.getCanonicalLocales(t), (t) => new Intl.DateTimeFormat("en", { calendar: t.toLowerCase().replace(/[^a-z0-9-]/g, "") || "x" }).format(0),
      (t) => (5).toLocaleString(t), (t) => new Date(0).toLocaleString(t), (t) => "a".localeCompare("b", t)];
    const bad = [];
    let ok = 0;
    for (const t of tags) for (const [i, use] of uses.entries()) {
      try { use(t); ok++; } catch (e) { if (e.name !== "RangeError") bad.push(i + " " + JSON.stringify(t.slice(0, 40)) + " " + e.name + ": " + e.message); }
    }
    return { bad, someWorked: ok > tags.length };
  })()`, { bad: [], someWorked: true }],
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
  dnNoOptions: [`new Intl.DisplayNames("en")`, "TypeError"],
  dnNoType: [`new Intl.DisplayNames("en", {})`, "TypeError"],
  dnBadType: [`new Intl.DisplayNames("en", { type: "bogus" })`, "RangeError"],
  dnBadFallback: [`new Intl.DisplayNames("en", { type: "region", fallback: "x" })`, "RangeError"],
  dnBadScript: [`new Intl.DisplayNames("en", { type: "script" }).of("Lat")`, "RangeError"],
  dnBadRegion: [`new Intl.DisplayNames("en", { type: "region" }).of("USA")`, "RangeError"],
  dnBadCurrency: [`new Intl.DisplayNames("en", { type: "currency" }).of("EURO")`, "RangeError"],
  dnBadField: [`new Intl.DisplayNames("en", { type: "dateTimeField" }).of("days")`, "RangeError"],
  dnBadCalendar: [`new Intl.DisplayNames("en", { type: "calendar" }).of("gregorian")`, "RangeError"],
  dnBadLanguage: [`new Intl.DisplayNames("en", { type: "language" }).of("en-")`, "RangeError"],
  dnNoNew: [`Intl.DisplayNames("en", { type: "language" })`, "TypeError"],
  valuesBadKey: [`Intl.supportedValuesOf("colour")`, "RangeError"],
  localeWrongReceiver: [`Intl.Locale.prototype.maximize.call({})`, "TypeError"],
  nfBadIncrement: [`new Intl.NumberFormat("en", { roundingIncrement: 3 })`, "RangeError"],
  nfIncrementSignificant: [`new Intl.NumberFormat("en", { roundingIncrement: 5, maximumSignificantDigits: 2 })`, "TypeError"],
  nfIncrementDigits: [`new Intl.NumberFormat("en", { roundingIncrement: 5, maximumFractionDigits: 2 })`, "RangeError"],
  nfBadRoundingMode: [`new Intl.NumberFormat("en", { roundingMode: "up" })`, "RangeError"],
  nfBadPriority: [`new Intl.NumberFormat("en", { roundingPriority: "most" })`, "RangeError"],
  nfBadTrailing: [`new Intl.NumberFormat("en", { trailingZeroDisplay: "never" })`, "RangeError"],
  nfRangeMissing: [`new Intl.NumberFormat("en").formatRange(5)`, "TypeError"],
  nfRangeNaN: [`new Intl.NumberFormat("en").formatRangeToParts(5, NaN)`, "RangeError"],
  pluralRangeMissing: [`new Intl.PluralRules("en").selectRange(1)`, "TypeError"],
  pluralRangeNaN: [`new Intl.PluralRules("en").selectRange(NaN, 1)`, "RangeError"],
  dtfBadCalendar: [`new Intl.DateTimeFormat("en", { calendar: "a" })`, "RangeError"],
  nfBadNumbering: [`new Intl.NumberFormat("en", { numberingSystem: "a-b" })`, "RangeError"],
  collatorBadCollation: [`new Intl.Collator("en", { collation: "x" })`, "RangeError"],
  collatorBadCaseFirst: [`new Intl.Collator("en", { caseFirst: "first" })`, "RangeError"],
  collatorBadSensitivity: [`new Intl.Collator("en", { sensitivity: "all" })`, "RangeError"],
  durationEmpty: [`new Intl.DurationFormat("en").format({})`, "TypeError"],
  durationFraction: [`new Intl.DurationFormat("en").format({ hours: 1.5 })`, "RangeError"],
  durationMixedSign: [`new Intl.DurationFormat("en").format({ hours: 1, minutes: -1 })`, "RangeError"],
  durationNotObject: [`new Intl.DurationFormat("en").format(5)`, "TypeError"],
  durationBadStyle: [`new Intl.DurationFormat("en", { style: "x" })`, "RangeError"],
  durationNumericThenLong: [`new Intl.DurationFormat("en", { hours: "numeric", minutes: "long" })`, "RangeError"],
  durationFractionalAlways: [`new Intl.DurationFormat("en", { milliseconds: "numeric", millisecondsDisplay: "always" })`, "RangeError"],
  durationBadDigits: [`new Intl.DurationFormat("en", { fractionalDigits: 10 })`, "RangeError"],
  durationNoNew: [`Intl.DurationFormat("en")`, "TypeError"],
  symbolTimeZone: [`new Intl.DateTimeFormat("en", { timeZone: Symbol() })`, "TypeError"],
  symbolOption: [`new Intl.NumberFormat("en", { style: Symbol() })`, "TypeError"],
  symbolSegment: [`new Intl.Segmenter("en").segment(Symbol())`, "TypeError"],
  symbolCode: [`new Intl.DisplayNames("en", { type: "region" }).of(Symbol())`, "TypeError"],
  symbolValuesKey: [`Intl.supportedValuesOf(Symbol())`, "TypeError"],
  symbolCompare: [`"a".localeCompare(Symbol())`, "TypeError"],
  nullLocales: [`new Intl.NumberFormat(null)`, "TypeError"],
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
