// Intl (ECMA-402) over ICU: the natives of web/intl.c take a locale tag, an ICU
// skeleton or option words and a value; this file validates options the way V8 does
// (RangeError for a bad value, TypeError for a bad type) and builds those strings.
// Workers run in UTC with "en-US" as the default locale. Also replaces
// Date.prototype.toLocale*String, Number/BigInt.prototype.toLocaleString and
// String.prototype.localeCompare with versions that use Intl. docs/intl.md.
(() => {
  "use strict";
  const N = globalThis.__durable;
  const DEFAULT_LOCALE = "en-US";
  const DEFAULT_TZ = "UTC";

  const slot = new WeakMap(); // Intl object -> its resolved state

  const state = (o, cls, method) => {
    const s = slot.get(o);
    if (!s || s.cls !== cls) throw new TypeError(`Method Intl.${cls}.prototype.${method} called on incompatible receiver`);
    return s;
  };

  // ECMAScript ToString: unlike String(), a Symbol throws TypeError (as in V8)
  const toStr = (v) => `${v}`;

  // ---- locales ----
  const canonList = (locales) => {
    if (locales === undefined) return [];
    if (locales === null) throw new TypeError("Cannot convert undefined or null to object");
    const list = typeof locales === "string" || (locales !== null && typeof locales === "object" && slot.get(locales)?.cls === "Locale")
      ? [locales] : Object(locales);
    const out = [];
    const len = Math.min(Number(list.length) >>> 0, 1000);
    for (let i = 0; i < len; i++) {
      if (!(i in list)) continue;
      let t = list[i];
      if (t !== null && typeof t === "object" && slot.get(t)?.cls === "Locale") t = slot.get(t).tag;
      else if (typeof t !== "string" && (t === null || typeof t !== "object")) throw new TypeError("Language ID should be string or object.");
      t = toStr(t);
      if (!/^[A-Za-z0-9-]+$/.test(t) || t.startsWith("-") || t.endsWith("-") || t.includes("--")) throw new RangeError(`Incorrect locale information provided`);
      const c = N.intlCanon(t);
      if (!out.includes(c)) out.push(c);
    }
    return out;
  };
  // A canonical tag's -u- extension (not one inside -x-) -> [tag without it, "-u-…" or ""]
  const splitExt = (t) => {
    const u = t.indexOf("-u-"), x = t.indexOf("-x-");
    if (t[1] === "-" || u < 0 || (x >= 0 && x < u)) return [t, ""];
    let end = t.length;
    for (let i = u + 1; i < t.length - 2; i++) {
      if (t[i] !== "-") continue;
      if (t[i + 2] === "-") {
        end = i;
        break;
      }
      i += 2;
    }
    return [t.slice(0, u) + t.slice(end), t.slice(u, end)];
  };
  // ECMA-402 ResolveLocale's LookupMatcher, which V8 (so workerd) runs for both
  // localeMatcher values (its best-fit matcher is behind a flag that is off): the first
  // requested tag whose longest prefix ICU has a locale for (en-XX -> en, de-CH-1996 ->
  // de-CH) wins, keeping its -u- extension; when none does (xx, und), "en-US". The
  // available lists (web/intl.c): Collator and PluralRules have their own, every other
  // constructor ICU's list of locales.
  const AV_ALL = 0, AV_COLLATOR = 1, AV_PLURAL = 2;
  const resolved = new Map(); // kind + a locales string -> its resolved locale
  const resolveLocale = (locales, kind = AV_ALL) => {
    const key = typeof locales === "string" ? kind + locales : undefined;
    let r = key !== undefined ? resolved.get(key) : undefined;
    if (r !== undefined) return r;
    r = DEFAULT_LOCALE;
    for (const t of canonList(locales)) {
      const [base, ext] = splitExt(t);
      const best = N.intlBestAvailable(kind, base);
      if (best !== undefined) {
        r = best + ext;
        break;
      }
    }
    if (key !== undefined && resolved.size < 64) resolved.set(key, r);
    return r;
  };

  // The -u- keywords of a canonical tag: [tag without them, Map key -> value].
  const splitU = (t) => {
    const sub = t.split("-"), kw = new Map(), rest = [];
    for (let i = 0; i < sub.length; i++) {
      if (sub[i].toLowerCase() !== "u" || i === 0) {
        rest.push(sub[i]);
        if (sub[i].length === 1 && i > 0) { rest.push(...sub.slice(i + 1)); break; } // -t-/-x-: kept as is
        continue;
      }
      let key = null;
      for (i++; i < sub.length && sub[i].length > 1; i++) {
        if (sub[i].length === 2) kw.set((key = sub[i].toLowerCase()), "");
        else if (key) kw.set(key, kw.get(key) ? kw.get(key) + "-" + sub[i] : sub[i]);
      }
      i--;
    }
    return [rest.join("-"), kw];
  };
  const joinU = (base, kw) => {
    if (!kw.size) return base;
    const u = [...kw].map(([k, v]) => (v ? `${k}-${v}` : k)).join("-");
    const x = base.search(/-[a-z0-9]-/i);
    return N.intlCanon(x < 0 ? `${base}-u-${u}` : `${base.slice(0, x)}-u-${u}${base.slice(x)}`);
  };
  // ResolveLocale for the calendar ("ca") / numbering system ("nu") keys: an option
  // beats the tag's keyword; an unsupported value is dropped. -> [the resolved locale
  // (the tag's keyword kept only when it is the one used), the tag ICU formats with,
  // the values used (undefined: the locale's default)]
  // Only the keys a constructor names in opts (its relevant extension keys) stay, with
  // a supported value; an opt of null drops the tag's keyword without replacing it
  // (DateTimeFormat's hc under hour12/hourCycle, as V8). "va-posix" (en-US-u-va-posix,
  // a variant to ICU) always stays.
  const KEY_VALUES = { kn: ["true", "false"], kf: ["upper", "lower", "false"], hc: ["h11", "h12", "h23", "h24"] };
  const supportedValue = (key, v, base) => v !== undefined && (key === "co"
    ? v !== "standard" && v !== "search" && N.intlLocaleData(base, "allCollations").includes(v)
    : (KEY_VALUES[key] || Intl.supportedValuesOf(key === "ca" ? "calendar" : "numberingSystem")).includes(v));
  function localeWithKeys(locale, opts) {
    const [base, kw] = splitU(locale);
    for (const k of kw.keys()) if (!(k in opts) && !(k === "va" && kw.get(k) === "posix")) kw.delete(k);
    const icuKw = new Map(kw), used = {};
    for (const [key, opt] of Object.entries(opts)) {
      const tagV = key === "kn" && kw.get(key) === "" ? "true" : kw.get(key);
      let v = opt === null ? undefined : opt !== undefined ? opt.toLowerCase() : tagV;
      if (v === "gregorian" && key === "ca") v = "gregory";
      if (!supportedValue(key, v, base)) v = undefined;
      if (tagV !== undefined && tagV !== v) kw.delete(key);
      if (v === undefined) icuKw.delete(key);
      else icuKw.set(key, v);
      used[key] = v;
    }
    return [joinU(base, kw), joinU(base, icuKw), used];
  }

  const toObj = (options) => {
    if (options === undefined) return Object.create(null);
    if (options === null) throw new TypeError("Cannot convert undefined or null to object");
    return Object(options);
  };
  const getOpt = (o, name, allowed, fallback) => {
    let v = o[name];
    if (v === undefined) return fallback;
    v = toStr(v);
    if (allowed && !allowed.includes(v)) throw new RangeError(`Value ${v} out of range for Intl options property ${name}`);
    return v;
  };
  const getBool = (o, name, fallback) => {
    const v = o[name];
    return v === undefined ? fallback : Boolean(v);
  };
  const getNum = (o, name, min, max, fallback) => {
    let v = o[name];
    if (v === undefined) return fallback;
    v = Number(v);
    if (Number.isNaN(v) || v < min || v > max) throw new RangeError(`${name} value is out of range.`);
    return Math.floor(v);
  };

  const defineGlobal = (name, value) =>
    Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
  const hide = (obj, name, value) =>
    Object.defineProperty(obj, name, { value, writable: true, configurable: true, enumerable: false });
  const tag = (cls, name) =>
    Object.defineProperty(cls.prototype, Symbol.toStringTag, { value: name, configurable: true });
  const getterFn = (cls, name, f) =>
    Object.defineProperty(cls.prototype, name, { get: f, configurable: true, enumerable: false });
  const partsToObjects = (a) => a.map(([type, value]) => ({ type, value }));
  // the requested tags (canonical, extensions kept) that resolve to a locale ICU has
  const supportedLocalesOf = (kind, cls) => function supportedLocalesOf(locales, options = undefined) {
    const list = canonList(locales);
    if (options === null) throw new TypeError(`Intl.${cls}.supportedLocalesOf called on null or undefined`);
    let m = options === undefined ? undefined : Object(options).localeMatcher;
    if (m !== undefined && (m = toStr(m)) !== "lookup" && m !== "best fit")
      throw new RangeError(`Value ${m} out of range for Intl.${cls}.supportedLocalesOf options property localeMatcher`);
    return list.filter((t) => N.intlBestAvailable(kind, splitExt(t)[0]) !== undefined);
  };

  const numberingSystemOf = (locale) => N.intlLocaleData(locale, "numberingSystems")[0] || "latn";

  // ---- DateTimeFormat ----
  const DT_FIELDS = [
    ["weekday", ["narrow", "short", "long"], { narrow: "EEEEE", short: "EEE", long: "EEEE" }],
    ["era", ["narrow", "short", "long"], { narrow: "GGGGG", short: "GGG", long: "GGGG" }],
    ["year", ["2-digit", "numeric"], { "2-digit": "yy", numeric: "y" }],
    ["month", ["2-digit", "numeric", "narrow", "short", "long"], { "2-digit": "MM", numeric: "M", narrow: "MMMMM", short: "MMM", long: "MMMM" }],
    ["day", ["2-digit", "numeric"], { "2-digit": "dd", numeric: "d" }],
    ["dayPeriod", ["narrow", "short", "long"], { narrow: "BBBBB", short: "B", long: "BBBB" }],
    ["hour", ["2-digit", "numeric"], null],
    ["minute", ["2-digit", "numeric"], { "2-digit": "mm", numeric: "m" }],
    ["second", ["2-digit", "numeric"], { "2-digit": "ss", numeric: "s" }],
    ["fractionalSecondDigits", null, null],
    ["timeZoneName", ["short", "long", "shortOffset", "longOffset", "shortGeneric", "longGeneric"],
      { short: "z", long: "zzzz", shortOffset: "O", longOffset: "OOOO", shortGeneric: "v", longGeneric: "vvvv" }],
  ];
  const STYLES = ["full", "long", "medium", "short"];

  class DateTimeFormat {
    constructor(locales, options) {
      return makeDTF(locales, options, "any", "date", new.target ? Object.getPrototypeOf(this) : DateTimeFormat.prototype);
    }
    get format() {
      const s = state(this, "DateTimeFormat", "format");
      if (!s.bound) s.bound = (date) => dtfFormat(s, date, false);
      return s.bound;
    }
    formatToParts(date) {
      return partsToObjects(dtfFormat(state(this, "DateTimeFormat", "formatToParts"), date, true));
    }
    formatRange(a, b) {
      return dtfRange(state(this, "DateTimeFormat", "formatRange"), a, b, false);
    }
    formatRangeToParts(a, b) {
      return dtfRange(state(this, "DateTimeFormat", "formatRangeToParts"), a, b, true).map(([type, value, source]) => ({ type, value, source }));
    }
    resolvedOptions() {
      const s = state(this, "DateTimeFormat", "resolvedOptions");
      const r = { locale: s.locale, calendar: s.calendar, numberingSystem: s.numberingSystem, timeZone: s.timeZone };
      if (s.hourCycle) {
        r.hourCycle = s.hourCycle;
        r.hour12 = s.hourCycle === "h12" || s.hourCycle === "h11";
      }
      for (const name of ["weekday", "era", "year", "month", "day", "dayPeriod", "hour", "minute", "second", "fractionalSecondDigits", "timeZoneName"])
        if (s.fields[name] !== undefined) r[name] = s.fields[name];
      if (s.dateStyle) r.dateStyle = s.dateStyle;
      if (s.timeStyle) r.timeStyle = s.timeStyle;
      return r;
    }
  }
  tag(DateTimeFormat, "Intl.DateTimeFormat");
  hide(DateTimeFormat, "supportedLocalesOf", supportedLocalesOf(AV_ALL, "DateTimeFormat"));

  // resolvedOptions' fields as V8 reads them back from the ICU pattern (not from the
  // options): the first of each field's pattern letters found, anywhere in the pattern,
  // names its width. So a japanese-calendar date reports the era ICU adds, a "long"
  // month ja writes as "M" reports "numeric", and a chinese-calendar year ("rU") no year.
  const PATTERN_FIELDS = [
    ["weekday", ["EEEEE", "narrow", "EEEE", "long", "EEE", "short", "ccccc", "narrow", "cccc", "long", "ccc", "short"]],
    ["era", ["GGGGG", "narrow", "GGGG", "long", "GGG", "short"]],
    ["year", ["yy", "2-digit", "y", "numeric"]],
    ["month", ["MMMMM", "narrow", "MMMM", "long", "MMM", "short", "MM", "2-digit", "M", "numeric",
      "LLLLL", "narrow", "LLLL", "long", "LLL", "short", "LL", "2-digit", "L", "numeric"]],
    ["day", ["dd", "2-digit", "d", "numeric"]],
    ["dayPeriod", ["BBBBB", "narrow", "bbbbb", "narrow", "BBBB", "long", "bbbb", "long", "B", "short", "b", "short"]],
    ["hour", ["HH", "2-digit", "H", "numeric", "hh", "2-digit", "h", "numeric", "kk", "2-digit", "k", "numeric", "KK", "2-digit", "K", "numeric"]],
    ["minute", ["mm", "2-digit", "m", "numeric"]],
    ["second", ["ss", "2-digit", "s", "numeric"]],
    ["timeZoneName", ["zzzz", "long", "z", "short", "OOOO", "longOffset", "O", "shortOffset", "vvvv", "longGeneric", "v", "shortGeneric"]],
  ];
  function patternFields(pattern) {
    const f = {};
    for (const [name, pairs] of PATTERN_FIELDS) {
      if (name === "timeZoneName") {
        const fsd = Math.min(3, pattern.split("S").length - 1);
        if (fsd > 0) f.fractionalSecondDigits = fsd;
      }
      for (let i = 0; i < pairs.length; i += 2) {
        if (pattern.includes(pairs[i])) {
          f[name] = pairs[i + 1];
          break;
        }
      }
    }
    return f;
  }

  const dtfCache = new Map();
  function makeDTF(locales, options, required, defaults, proto) {
    const locale = resolveLocale(locales);
    const o = toObj(options);
    getOpt(o, "localeMatcher", ["lookup", "best fit"], "best fit");
    const calendar = getOpt(o, "calendar", null, undefined);
    if (calendar !== undefined && !/^[a-z0-9]{3,8}(-[a-z0-9]{3,8})*$/i.test(calendar)) throw new RangeError(`Invalid calendar : ${calendar}`);
    const nu = getOpt(o, "numberingSystem", null, undefined);
    if (nu !== undefined && !/^[a-z0-9]{3,8}(-[a-z0-9]{3,8})*$/i.test(nu)) throw new RangeError(`Invalid numberingSystem : ${nu}`);
    const hour12 = getBool(o, "hour12", undefined);
    let hourCycle = getOpt(o, "hourCycle", ["h11", "h12", "h23", "h24"], undefined);
    const hourOption = hour12 !== undefined || hourCycle !== undefined;
    if (hour12 !== undefined) hourCycle = undefined;
    let tz = o.timeZone;
    if (tz === undefined) tz = DEFAULT_TZ;
    else {
      tz = toStr(tz);
      const up = tz.toUpperCase();
      if (up === "UTC" || up === "ETC/UTC" || up === "ETC/GMT" || up === "GMT") tz = "UTC";
      else if (/^[+-]\d\d(:?\d\d)?$/.test(tz)) tz = tz.length === 3 ? tz + ":00" : tz.length === 5 ? tz.slice(0, 3) + ":" + tz.slice(3) : tz;
      else {
        const c = N.intlCanonTimeZone(tz);
        if (c === undefined) throw new RangeError(`Invalid time zone specified: ${tz}`);
        tz = c === "Etc/UTC" || c === "Etc/GMT" ? "UTC" : c;
      }
    }
    const fields = {};
    for (const [name, allowed] of DT_FIELDS) {
      fields[name] = name === "fractionalSecondDigits" ? getNum(o, name, 1, 3, undefined) : getOpt(o, name, allowed, undefined);
    }
    getOpt(o, "formatMatcher", ["basic", "best fit"], "best fit");
    const dateStyle = getOpt(o, "dateStyle", STYLES, undefined);
    const timeStyle = getOpt(o, "timeStyle", STYLES, undefined);
    const [rlocale, icuLocale, used] = localeWithKeys(locale, { ca: calendar, nu, hc: hourOption ? null : undefined });
    if (used.hc) hourCycle = used.hc; // the tag's -u-hc-, when no option names the cycle
    const s = { cls: "DateTimeFormat", locale: rlocale, icuLocale, timeZone: tz, fields: {}, dateStyle, timeStyle, hourCycle: undefined,
      calendar: used.ca || N.intlLocaleData(icuLocale, "calendars")[0] || "gregory", numberingSystem: used.nu || numberingSystemOf(icuLocale) };
    const icuTz = /^[+-]/.test(tz) ? "GMT" + tz : tz;
    const hc = hourCycle || (hour12 === true ? "h12" : hour12 === false ? "h23" : undefined);
    if (dateStyle || timeStyle) {
      for (const [name] of DT_FIELDS) if (fields[name] !== undefined) throw new TypeError(`Can't set option ${name} when ${dateStyle ? "dateStyle" : "timeStyle"} is used`);
      s.spec = `S:${dateStyle || "none"}:${timeStyle || "none"}`;
      if (timeStyle && hc) {
        // a style with an explicit hour cycle, as V8 does it: unless the style's pattern
        // already has that cycle, its skeleton (the pattern's letters) with the hour
        // letters replaced and the day period dropped goes back to the pattern generator
        const pat = N.intlDtfPattern(icuLocale, s.spec, icuTz).replace(/'[^']*'/g, "");
        const h = { h12: "h", h11: "K", h23: "H", h24: "k" }[hc];
        if (!pat.includes(h)) s.spec = "K:" + pat.replace(/[^A-Za-z]|[abB]/g, "").replace(/[hHkK]/g, h);
      }
    } else {
      let needDate = required === "date" || required === "any";
      let needTime = required === "time" || required === "any";
      let any = false;
      for (const n of ["weekday", "year", "month", "day"]) if (fields[n] !== undefined) any = true;
      let anyTime = false;
      for (const n of ["dayPeriod", "hour", "minute", "second", "fractionalSecondDigits"]) if (fields[n] !== undefined) anyTime = true;
      if (required === "date" && any) needDate = false;
      if (required === "time" && anyTime) needTime = false;
      if (required === "any" && (any || anyTime)) needDate = needTime = false;
      if (required === "date" && anyTime) needDate = !any;
      if (needDate && (defaults === "date" || defaults === "all")) fields.year = fields.month = fields.day = "numeric";
      if (needTime && (defaults === "time" || defaults === "all")) fields.hour = fields.minute = fields.second = "numeric";
      let sk = "";
      for (const [name, , map] of DT_FIELDS) {
        const v = fields[name];
        if (v === undefined) continue;
        s.fields[name] = v;
        if (name === "hour") {
          const c = { h12: "h", h11: "K", h23: "H", h24: "k" }[hc] || "j";
          // ICU 72's generator drops a day period "B" written before "j"
          sk = sk.replace(/B+$/, (b) => (v === "2-digit" ? c + c : c) + b);
          if (!/[hHkKj]/.test(sk)) sk += v === "2-digit" ? c + c : c;
        } else if (name === "fractionalSecondDigits") sk += "S".repeat(v);
        else sk += map[v];
      }
      s.spec = "K:" + sk;
    }
    let pattern = N.intlDtfPattern(icuLocale, s.spec, icuTz); // also validates
    if (hc && s.spec[0] === "K") {
      // the generator may still answer another hour letter (en: "K" skeleton, "h"
      // pattern): V8 then writes the cycle's letter over it, outside quoted text
      const h = { h12: "h", h11: "K", h23: "H", h24: "k" }[hc];
      const fixed = pattern.replace(/'[^']*'|[hHkK]/g, (m) => (m[0] === "'" ? m : h));
      if (fixed !== pattern) pattern = N.intlDtfPattern(icuLocale, (s.spec = "P:" + fixed), icuTz);
    }
    s.icuTz = icuTz;
    if (fields.hour !== undefined || timeStyle) {
      const p = pattern.replace(/'[^']*'/g, "");
      s.hourCycle = /h/.test(p) ? "h12" : /K/.test(p) ? "h11" : /k/.test(p) ? "h24" : /H/.test(p) ? "h23" : undefined;
    }
    if (!dateStyle && !timeStyle) s.fields = patternFields(pattern);
    const obj = Object.create(proto);
    slot.set(obj, s);
    return obj;
  }

  function dtfFormat(s, date, parts) {
    const t = date === undefined ? Date.now() : Number(date instanceof Date ? date.getTime() : date);
    if (!Number.isFinite(t) || Math.abs(t) > 8.64e15) throw new RangeError("Invalid time value");
    // V8 (so workerd) writes U+0020 where ICU 72+ patterns have U+202F ("2:07 PM")
    // in format(), and leaves formatToParts as ICU has it
    const r = N.intlDtfFormat(s.icuLocale, s.spec, s.icuTz, t, parts);
    return parts ? r : r.replace(/\u202f/g, " ");
  }

  const timeValue = (d) => {
    const t = Number(d instanceof Date ? d.getTime() : d);
    if (!Number.isFinite(t) || Math.abs(t) > 8.64e15) throw new RangeError("Invalid time value");
    return t;
  };
  function dtfRange(s, a, b, parts) {
    if (a === undefined || b === undefined) throw new TypeError("startDate and endDate are required");
    const x = timeValue(a), y = timeValue(b);
    const r = N.intlDtfRange(s.icuLocale, s.spec, s.icuTz, x, y, parts);
    return parts ? r : r.replace(/\u202f/g, " ");
  }

  // Date.prototype.toLocale*: a cached DateTimeFormat per (kind, locales) when options are absent
  const dateLocale = (required, defaults) => function (locales, options) {
    const t = Date.prototype.getTime.call(this);
    if (Number.isNaN(t)) return "Invalid Date";
    let dtf;
    if (options === undefined && (locales === undefined || typeof locales === "string")) {
      const key = required + "|" + locales;
      dtf = dtfCache.get(key);
      if (!dtf) {
        dtf = makeDTF(locales, undefined, required, defaults, DateTimeFormat.prototype);
        if (dtfCache.size < 64) dtfCache.set(key, dtf);
      }
    } else dtf = makeDTF(locales, options, required, defaults, DateTimeFormat.prototype);
    return dtfFormat(slot.get(dtf), t, false);
  };
  hide(Date.prototype, "toLocaleString", { toLocaleString: dateLocale("any", "all") }.toLocaleString);
  hide(Date.prototype, "toLocaleDateString", { toLocaleDateString: dateLocale("date", "date") }.toLocaleDateString);
  hide(Date.prototype, "toLocaleTimeString", { toLocaleTimeString: dateLocale("time", "time") }.toLocaleTimeString);

  // ---- NumberFormat ----
  const ZERO_DIGIT_CURRENCIES = ["BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF"];
  const THREE_DIGIT_CURRENCIES = ["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"];

  class NumberFormat {
    constructor(locales, options) {
      const obj = Object.create(new.target ? Object.getPrototypeOf(this) : NumberFormat.prototype);
      slot.set(obj, makeNF(locales, options));
      return obj;
    }
    get format() {
      const s = state(this, "NumberFormat", "format");
      if (!s.bound) s.bound = (x) => nfFormat(s, x, false);
      return s.bound;
    }
    formatToParts(x) {
      return partsToObjects(nfFormat(state(this, "NumberFormat", "formatToParts"), x, true));
    }
    formatRange(a, b) {
      const s = state(this, "NumberFormat", "formatRange");
      return N.intlNfRange(s.icuLocale, s.skeleton, ...rangeArgs(a, b), 0, 0);
    }
    formatRangeToParts(a, b) {
      const s = state(this, "NumberFormat", "formatRangeToParts");
      return N.intlNfRange(s.icuLocale, s.skeleton, ...rangeArgs(a, b), 1, 0).map(([type, value, source]) => ({ type, value, source }));
    }
    resolvedOptions() {
      const s = state(this, "NumberFormat", "resolvedOptions");
      const r = { locale: s.locale, numberingSystem: s.numberingSystem, style: s.style };
      if (s.style === "currency") Object.assign(r, { currency: s.currency, currencyDisplay: s.currencyDisplay, currencySign: s.currencySign });
      if (s.style === "unit") Object.assign(r, { unit: s.unit, unitDisplay: s.unitDisplay });
      r.minimumIntegerDigits = s.minimumIntegerDigits;
      if (s.minimumFractionDigits !== undefined) {
        r.minimumFractionDigits = s.minimumFractionDigits;
        r.maximumFractionDigits = s.maximumFractionDigits;
      }
      if (s.minimumSignificantDigits !== undefined) {
        r.minimumSignificantDigits = s.minimumSignificantDigits;
        r.maximumSignificantDigits = s.maximumSignificantDigits;
      }
      r.useGrouping = s.useGrouping;
      r.notation = s.notation;
      if (s.notation === "compact") r.compactDisplay = s.compactDisplay;
      r.signDisplay = s.signDisplay;
      r.roundingIncrement = s.roundingIncrement;
      r.roundingMode = s.roundingMode;
      r.roundingPriority = s.roundingPriority;
      r.trailingZeroDisplay = s.trailingZeroDisplay;
      return r;
    }
  }
  tag(NumberFormat, "Intl.NumberFormat");
  hide(NumberFormat, "supportedLocalesOf", supportedLocalesOf(AV_ALL, "NumberFormat"));
  const rangeArgs = (a, b) => {
    if (a === undefined || b === undefined) throw new TypeError("start and end are required");
    const x = typeof a === "bigint" ? Number(a) : Number(a), y = typeof b === "bigint" ? Number(b) : Number(b);
    if (Number.isNaN(x) || Number.isNaN(y)) throw new RangeError("Invalid range: start or end is NaN");
    return [x, y];
  };

  const SIMPLE_UNITS = ["acre", "bit", "byte", "celsius", "centimeter", "day", "degree", "fahrenheit", "fluid-ounce", "foot", "gallon",
    "gigabit", "gigabyte", "gram", "hectare", "hour", "inch", "kilobit", "kilobyte", "kilogram", "kilometer", "liter", "megabit",
    "megabyte", "meter", "microsecond", "mile", "mile-scandinavian", "milliliter", "millimeter", "millisecond", "minute", "month",
    "nanosecond", "ounce", "percent", "petabyte", "pound", "second", "stone", "terabit", "terabyte", "week", "yard", "year"];

  const ROUNDING_MODES = { ceil: "rounding-mode-ceiling", floor: "rounding-mode-floor", expand: "rounding-mode-up", trunc: "rounding-mode-down",
    halfCeil: "rounding-mode-half-ceiling", halfFloor: "rounding-mode-half-floor", halfExpand: "rounding-mode-half-up",
    halfTrunc: "rounding-mode-half-down", halfEven: "rounding-mode-half-even" };

  function makeNF(locales, options) {
    const locale = resolveLocale(locales);
    const o = toObj(options);
    getOpt(o, "localeMatcher", ["lookup", "best fit"], "best fit");
    const nu = getOpt(o, "numberingSystem", null, undefined);
    if (nu !== undefined && !/^[a-z0-9]{3,8}(-[a-z0-9]{3,8})*$/i.test(nu)) throw new RangeError(`Invalid numberingSystem : ${nu}`);
    const style = getOpt(o, "style", ["decimal", "percent", "currency", "unit"], "decimal");
    let currency = getOpt(o, "currency", null, undefined);
    if (currency !== undefined && !/^[A-Za-z]{3}$/.test(currency)) throw new RangeError(`Invalid currency code : ${currency}`);
    const currencyDisplay = getOpt(o, "currencyDisplay", ["code", "symbol", "narrowSymbol", "name"], "symbol");
    const currencySign = getOpt(o, "currencySign", ["standard", "accounting"], "standard");
    const unit = getOpt(o, "unit", null, undefined);
    const unitDisplay = getOpt(o, "unitDisplay", ["short", "narrow", "long"], "short");
    if (style === "currency") {
      if (currency === undefined) throw new TypeError("Currency code is required with currency style.");
      currency = currency.toUpperCase();
    }
    if (unit !== undefined) {
      const ok = (u) => SIMPLE_UNITS.includes(u);
      const per = unit.split("-per-");
      if (!(per.length === 1 ? ok(unit) : per.length === 2 && ok(per[0]) && ok(per[1]))) throw new RangeError(`Invalid unit argument for Intl.NumberFormat() '${unit}'`);
    }
    if (style === "unit" && unit === undefined) throw new TypeError("Unit is required with unit style.");
    const notation = getOpt(o, "notation", ["standard", "scientific", "engineering", "compact"], "standard");
    const cDigits = style === "currency" ? (ZERO_DIGIT_CURRENCIES.includes(currency) ? 0 : THREE_DIGIT_CURRENCIES.includes(currency) ? 3 : 2) : 0;
    const minimumIntegerDigits = getNum(o, "minimumIntegerDigits", 1, 21, 1);
    let minFD = o.minimumFractionDigits, maxFD = o.maximumFractionDigits;
    let minSD = o.minimumSignificantDigits, maxSD = o.maximumSignificantDigits;
    const [rlocale, icuLocale, used] = localeWithKeys(locale, { nu });
    const s = { cls: "NumberFormat", locale: rlocale, icuLocale, numberingSystem: used.nu || numberingSystemOf(icuLocale), style, currency, currencyDisplay,
      currencySign, unit, unitDisplay, notation, minimumIntegerDigits };
    // SetNumberFormatDigitOptions (ECMA-402 15.1.3), the NumberFormat v3 rounding options included
    const mnfdDefault = style === "currency" && notation === "standard" ? cDigits : 0;
    let mxfdDefault = style === "currency" && notation === "standard" ? cDigits : style === "percent" ? 0 : 3;
    const roundingIncrement = getNum(o, "roundingIncrement", 1, 5000, 1);
    if (![1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000].includes(roundingIncrement))
      throw new RangeError("roundingIncrement value is out of range.");
    const roundingMode = getOpt(o, "roundingMode", Object.keys(ROUNDING_MODES), "halfExpand");
    const roundingPriority = getOpt(o, "roundingPriority", ["auto", "morePrecision", "lessPrecision"], "auto");
    const trailingZeroDisplay = getOpt(o, "trailingZeroDisplay", ["auto", "stripIfInteger"], "auto");
    if (roundingIncrement !== 1) mxfdDefault = mnfdDefault;
    const hasSd = minSD !== undefined || maxSD !== undefined, hasFd = minFD !== undefined || maxFD !== undefined;
    let needSd = true, needFd = true;
    if (roundingPriority === "auto") {
      needSd = hasSd;
      if (needSd || (!hasFd && notation === "compact")) needFd = false;
    }
    if (needSd) {
      if (hasSd) {
        minSD = getNum(o, "minimumSignificantDigits", 1, 21, 1);
        maxSD = getNum(o, "maximumSignificantDigits", minSD, 21, 21);
      } else {
        minSD = 1;
        maxSD = 21;
      }
      s.minimumSignificantDigits = minSD;
      s.maximumSignificantDigits = maxSD;
    }
    if (needFd) {
      if (hasFd) {
        minFD = getNum(o, "minimumFractionDigits", 0, 100, undefined);
        maxFD = getNum(o, "maximumFractionDigits", 0, 100, undefined);
        if (minFD === undefined) minFD = Math.min(mnfdDefault, maxFD);
        else if (maxFD === undefined) maxFD = Math.max(mxfdDefault, minFD);
        else if (minFD > maxFD) throw new RangeError("maximumFractionDigits value is out of range.");
      } else {
        minFD = mnfdDefault;
        maxFD = mxfdDefault;
      }
      s.minimumFractionDigits = minFD;
      s.maximumFractionDigits = maxFD;
    }
    let roundingType = needSd ? "significantDigits" : "fractionDigits";
    if (!needSd && !needFd) roundingType = "compact";
    else if (roundingPriority !== "auto") roundingType = roundingPriority;
    if (roundingIncrement !== 1) {
      if (roundingType !== "fractionDigits") throw new TypeError("Bad value for roundingIncrement: it needs fraction digits rounding");
      if (maxFD !== minFD) throw new RangeError("maximumFractionDigits value is out of range.");
    }
    Object.assign(s, { roundingIncrement, roundingMode, roundingPriority: roundingType === "compact" ? "morePrecision" : roundingPriority, trailingZeroDisplay });
    const fdStem = () => (maxFD === 0 ? (minFD === 0 ? "precision-integer" : ".") : "." + "0".repeat(minFD) + "#".repeat(maxFD - minFD));
    const sdStem = () => "@".repeat(minSD) + "#".repeat(maxSD - minSD);
    let precision;
    if (roundingIncrement !== 1) {
      const inc = String(roundingIncrement).padStart(maxFD + 1, "0");
      precision = "precision-increment/" + (maxFD ? inc.slice(0, -maxFD) + "." + inc.slice(-maxFD) : inc);
    } else if (roundingType === "compact") precision = "";
    else if (roundingType === "significantDigits") precision = sdStem();
    else if (roundingType === "fractionDigits") precision = fdStem();
    else precision = fdStem() + "/" + sdStem() + (roundingType === "morePrecision" ? "r" : "s");
    if (trailingZeroDisplay === "stripIfInteger" && precision) precision += "/w";
    if (roundingType === "compact") Object.assign(s, { minimumFractionDigits: 0, maximumFractionDigits: 0, minimumSignificantDigits: 1, maximumSignificantDigits: 2 });
    const compactDisplay = getOpt(o, "compactDisplay", ["short", "long"], "short");
    s.compactDisplay = compactDisplay;
    let useGrouping = o.useGrouping;
    const defGroup = notation === "compact" ? "min2" : "auto";
    if (useGrouping === undefined) useGrouping = defGroup;
    else if (useGrouping === true || useGrouping === "true") useGrouping = "always";
    else if (useGrouping === false || useGrouping === "false" || useGrouping === null || useGrouping === "") useGrouping = false;
    else {
      useGrouping = toStr(useGrouping);
      if (!["min2", "auto", "always"].includes(useGrouping)) throw new RangeError(`Value ${useGrouping} out of range for Intl.NumberFormat options property useGrouping`);
    }
    s.useGrouping = useGrouping;
    const signDisplay = getOpt(o, "signDisplay", ["auto", "never", "always", "exceptZero", "negative"], "auto");
    s.signDisplay = signDisplay;
    const sk = [];
    if (style === "percent") sk.push("percent", "scale/100");
    if (style === "currency") {
      sk.push("currency/" + currency);
      sk.push({ symbol: "unit-width-short", narrowSymbol: "unit-width-narrow", code: "unit-width-iso-code", name: "unit-width-full-name" }[currencyDisplay]);
      if (currencySign === "accounting") sk.push(signDisplay === "always" ? "sign-accounting-always" : signDisplay === "exceptZero" ? "sign-accounting-except-zero" : "sign-accounting");
    }
    if (style === "unit") {
      sk.push(unit.includes("-per-") ? `measure-unit/${unit.split("-per-")[0]} per-measure-unit/${unit.split("-per-")[1]}`.replace(/measure-unit\/([a-z-]+)/g, (m, u) => m.replace(u, unitCategory(u) + "-" + u)) : `measure-unit/${unitCategory(unit)}-${unit}`);
      sk.push({ short: "unit-width-short", narrow: "unit-width-narrow", long: "unit-width-full-name" }[unitDisplay]);
    }
    if (precision) sk.push(precision);
    if (minimumIntegerDigits > 1) sk.push("integer-width/+" + "0".repeat(minimumIntegerDigits));
    if (useGrouping === false) sk.push("group-off");
    else if (useGrouping === "min2") sk.push("group-min2");
    else if (useGrouping === "always") sk.push("group-on-aligned");
    if (notation === "scientific") sk.push("scientific");
    if (notation === "engineering") sk.push("engineering");
    if (notation === "compact") sk.push(compactDisplay === "long" ? "compact-long" : "compact-short");
    if (!(style === "currency" && currencySign === "accounting")) {
      const sd = { always: "sign-always", never: "sign-never", exceptZero: "sign-except-zero", negative: "sign-negative" }[signDisplay];
      if (sd) sk.push(sd);
    }
    sk.push(ROUNDING_MODES[roundingMode]);
    s.skeleton = sk.join(" ");
    N.intlNfFormat(icuLocale, s.skeleton, 0, false); // validates the skeleton now
    return s;
  }

  function unitCategory(u) {
    if (/byte|bit$/.test(u)) return "digital";
    if (/meter$|mile|foot|inch|yard/.test(u)) return "length";
    if (/gram$|ounce$|pound|stone/.test(u)) return "mass";
    if (/second$|minute|hour|day|week|month|year/.test(u)) return "duration";
    if (/liter$|gallon|fluid-ounce/.test(u)) return "volume";
    if (/celsius|fahrenheit/.test(u)) return "temperature";
    if (u === "acre" || u === "hectare") return "area";
    if (u === "degree") return "angle";
    if (u === "percent") return "concentr";
    return "";
  }

  function nfFormat(s, x, parts) {
    let v;
    if (typeof x === "bigint") v = x.toString();
    else {
      v = Number(x);
      if (typeof x === "string" && /^\s*[+-]?\d+\s*$/.test(x) && !Number.isSafeInteger(v)) v = x.trim();
    }
    return N.intlNfFormat(s.icuLocale, s.skeleton, v, parts);
  }

  const nfCache = new Map();
  const numberToLocale = (thisNum) => function toLocaleString(locales, options) {
    const x = thisNum(this);
    let s;
    if (options === undefined && (locales === undefined || typeof locales === "string")) {
      s = nfCache.get(locales);
      if (!s) {
        s = makeNF(locales, undefined);
        if (nfCache.size < 64) nfCache.set(locales, s);
      }
    } else s = makeNF(locales, options);
    return nfFormat(s, x, false);
  };
  hide(Number.prototype, "toLocaleString", numberToLocale((v) => Number.prototype.valueOf.call(v)));
  if (typeof BigInt === "function") hide(BigInt.prototype, "toLocaleString", numberToLocale((v) => BigInt.prototype.valueOf.call(v)));

  // ---- Collator ----
  class Collator {
    constructor(locales, options) {
      const locale = resolveLocale(locales, AV_COLLATOR);
      const o = toObj(options);
      const usage = getOpt(o, "usage", ["sort", "search"], "sort");
      getOpt(o, "localeMatcher", ["lookup", "best fit"], "best fit");
      const collation = getOpt(o, "collation", null, undefined);
      if (collation !== undefined && !/^[a-z0-9]{3,8}(-[a-z0-9]{3,8})*$/i.test(collation)) throw new RangeError(`Invalid collation : ${collation}`);
      const num = getBool(o, "numeric", undefined);
      const cf = getOpt(o, "caseFirst", ["upper", "lower", "false"], undefined);
      const [, icuLocale, used] = localeWithKeys(locale, { co: collation, kn: num === undefined ? undefined : String(num), kf: cf });
      const numeric = used.kn === "true";
      const caseFirst = used.kf || "false";
      const sensitivity = getOpt(o, "sensitivity", ["base", "accent", "case", "variant"], "variant");
      // ICU's collation data shifts punctuation by default only for Thai
      const ignorePunctuation = getBool(o, "ignorePunctuation", /^th(-|$)/.test(locale));
      const [base, kw] = splitU(icuLocale);
      if (usage === "search") kw.set("co", "search");
      // V8's resolved locale keeps the tag's kn/kf/co (a supported co) even when an
      // option overrides them, and otherwise names the collation the option chose
      const [tbase, tkw] = splitU(locale);
      for (const [k, v] of tkw) {
        if (k === "va" && v === "posix") continue;
        if (!["co", "kn", "kf"].includes(k) || (k !== "co" && v !== "" && !supportedValue(k, v))) tkw.delete(k);
      }
      if (!supportedValue("co", tkw.get("co"), tbase)) {
        if (used.co) tkw.set("co", used.co);
        else tkw.delete("co");
      }
      const rlocale = joinU(tbase, tkw);
      const obj = Object.create(new.target ? Object.getPrototypeOf(this) : Collator.prototype);
      slot.set(obj, { cls: "Collator", locale: rlocale, icuLocale: joinU(base, kw), usage, sensitivity, ignorePunctuation, collation: used.co || "default", numeric, caseFirst });
      return obj;
    }
    get compare() {
      const s = state(this, "Collator", "compare");
      if (!s.bound) s.bound = (a, b) => N.intlCollate(s.icuLocale, toStr(a), toStr(b), s.sensitivity, s.numeric, s.ignorePunctuation, s.caseFirst);
      return s.bound;
    }
    resolvedOptions() {
      const s = state(this, "Collator", "resolvedOptions");
      return { locale: s.locale, usage: s.usage, sensitivity: s.sensitivity, ignorePunctuation: s.ignorePunctuation, collation: s.collation, numeric: s.numeric, caseFirst: s.caseFirst };
    }
  }
  tag(Collator, "Intl.Collator");
  hide(Collator, "supportedLocalesOf", supportedLocalesOf(AV_COLLATOR, "Collator"));
  const collatorCache = new Map();
  hide(String.prototype, "localeCompare", {
    localeCompare(that, locales, options) {
      if (this === undefined || this === null) throw new TypeError("String.prototype.localeCompare called on null or undefined");
      let c;
      if (options === undefined && (locales === undefined || typeof locales === "string")) {
        c = collatorCache.get(locales);
        if (!c) {
          c = new Collator(locales);
          if (collatorCache.size < 64) collatorCache.set(locales, c);
        }
      } else c = new Collator(locales, options);
      return c.compare(toStr(this), toStr(that));
    },
  }.localeCompare);

  // ---- PluralRules ----
  class PluralRules {
    constructor(locales, options) {
      if (!new.target) throw new TypeError("Constructor Intl.PluralRules requires 'new'");
      const locale = localeWithKeys(resolveLocale(locales, AV_PLURAL), {})[0];
      const o = toObj(options);
      getOpt(o, "localeMatcher", ["lookup", "best fit"], "best fit");
      const type = getOpt(o, "type", ["cardinal", "ordinal"], "cardinal");
      const nf = makeNF(locale, {
        minimumIntegerDigits: o.minimumIntegerDigits, minimumFractionDigits: o.minimumFractionDigits,
        maximumFractionDigits: o.maximumFractionDigits, minimumSignificantDigits: o.minimumSignificantDigits,
        maximumSignificantDigits: o.maximumSignificantDigits, roundingIncrement: o.roundingIncrement, roundingMode: o.roundingMode,
        roundingPriority: o.roundingPriority, trailingZeroDisplay: o.trailingZeroDisplay,
      });
      const obj = Object.create(Object.getPrototypeOf(this));
      slot.set(obj, { cls: "PluralRules", locale, type, nf });
      return obj;
    }
    select(n) {
      const s = state(this, "PluralRules", "select");
      return N.intlPlural(s.locale, s.type === "ordinal", Number(n), s.nf.skeleton.replace(/ ?group-\S+/, ""));
    }
    selectRange(a, b) {
      const s = state(this, "PluralRules", "selectRange");
      return N.intlNfRange(s.locale, s.nf.skeleton.replace(/ ?group-\S+/, ""), ...rangeArgs(a, b), 2, s.type === "ordinal" ? 1 : 0);
    }
    resolvedOptions() {
      const s = state(this, "PluralRules", "resolvedOptions");
      const cats = new Set();
      for (const n of [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 20, 21, 22, 23, 100, 101, 102, 1000000, 0.5, 1.5]) cats.add(N.intlPlural(s.locale, s.type === "ordinal", n));
      const order = ["zero", "one", "two", "few", "many", "other"];
      return {
        locale: s.locale, type: s.type, minimumIntegerDigits: s.nf.minimumIntegerDigits,
        minimumFractionDigits: s.nf.minimumFractionDigits, maximumFractionDigits: s.nf.maximumFractionDigits,
        pluralCategories: order.filter((c) => cats.has(c)),
      };
    }
  }
  tag(PluralRules, "Intl.PluralRules");
  hide(PluralRules, "supportedLocalesOf", supportedLocalesOf(AV_PLURAL, "PluralRules"));

  // ---- RelativeTimeFormat ----
  class RelativeTimeFormat {
    constructor(locales, options) {
      if (!new.target) throw new TypeError("Constructor Intl.RelativeTimeFormat requires 'new'");
      const o = toObj(options);
      getOpt(o, "localeMatcher", ["lookup", "best fit"], "best fit");
      const nu = getOpt(o, "numberingSystem", null, undefined);
      if (nu !== undefined && !/^[a-z0-9]{3,8}(-[a-z0-9]{3,8})*$/i.test(nu)) throw new RangeError(`Invalid numberingSystem : ${nu}`);
      const [locale, icuLocale, used] = localeWithKeys(resolveLocale(locales), { nu });
      const style = getOpt(o, "style", ["long", "short", "narrow"], "long");
      const numeric = getOpt(o, "numeric", ["always", "auto"], "always");
      const obj = Object.create(Object.getPrototypeOf(this));
      slot.set(obj, { cls: "RelativeTimeFormat", locale, icuLocale, style, numeric, numberingSystem: used.nu || numberingSystemOf(icuLocale) });
      return obj;
    }
    format(value, unit) {
      const s = state(this, "RelativeTimeFormat", "format");
      const v = Number(value);
      if (!Number.isFinite(v)) throw new RangeError("Invalid time value");
      return N.intlRtf(s.icuLocale, s.style, s.numeric === "always", v, toStr(unit), false);
    }
    formatToParts(value, unit) {
      const s = state(this, "RelativeTimeFormat", "formatToParts");
      const v = Number(value);
      if (!Number.isFinite(v)) throw new RangeError("Invalid time value");
      const u = toStr(unit);
      const r = N.intlRtf(s.icuLocale, s.style, s.numeric === "always", v, u, true);
      const singular = u.endsWith("s") ? u.slice(0, -1) : u;
      return r.map(([type, value]) => (type === "literal" ? { type, value } : { type, value, unit: singular }));
    }
    resolvedOptions() {
      const s = state(this, "RelativeTimeFormat", "resolvedOptions");
      return { locale: s.locale, style: s.style, numeric: s.numeric, numberingSystem: s.numberingSystem };
    }
  }
  tag(RelativeTimeFormat, "Intl.RelativeTimeFormat");
  hide(RelativeTimeFormat, "supportedLocalesOf", supportedLocalesOf(AV_ALL, "RelativeTimeFormat"));

  // ---- ListFormat ----
  const listItems = (list) => {
    const items = [];
    if (list !== undefined) {
      for (const x of list) {
        if (typeof x !== "string") throw new TypeError(`Iterable yielded ${typeof x === "symbol" ? "a Symbol" : String(x)} which is not a string`);
        items.push(x);
      }
    }
    return items;
  };
  class ListFormat {
    constructor(locales, options) {
      if (!new.target) throw new TypeError("Constructor Intl.ListFormat requires 'new'");
      const locale = localeWithKeys(resolveLocale(locales), {})[0];
      const o = toObj(options);
      getOpt(o, "localeMatcher", ["lookup", "best fit"], "best fit");
      const type = getOpt(o, "type", ["conjunction", "disjunction", "unit"], "conjunction");
      const style = getOpt(o, "style", ["long", "short", "narrow"], "long");
      const obj = Object.create(Object.getPrototypeOf(this));
      slot.set(obj, { cls: "ListFormat", locale, type, style });
      return obj;
    }
    format(list) {
      const s = state(this, "ListFormat", "format");
      return N.intlList(s.locale, s.type, s.style, listItems(list), false);
    }
    formatToParts(list) {
      const s = state(this, "ListFormat", "formatToParts");
      return partsToObjects(N.intlList(s.locale, s.type, s.style, listItems(list), true));
    }
    resolvedOptions() {
      const s = state(this, "ListFormat", "resolvedOptions");
      return { locale: s.locale, type: s.type, style: s.style };
    }
  }
  tag(ListFormat, "Intl.ListFormat");
  hide(ListFormat, "supportedLocalesOf", supportedLocalesOf(AV_ALL, "ListFormat"));

  // ---- Segmenter ----
  const segProto = {};
  class Segmenter {
    constructor(locales, options) {
      if (!new.target) throw new TypeError("Constructor Intl.Segmenter requires 'new'");
      const locale = localeWithKeys(resolveLocale(locales), {})[0];
      const o = toObj(options);
      getOpt(o, "localeMatcher", ["lookup", "best fit"], "best fit");
      const granularity = getOpt(o, "granularity", ["grapheme", "word", "sentence"], "grapheme");
      const obj = Object.create(Object.getPrototypeOf(this));
      slot.set(obj, { cls: "Segmenter", locale, granularity });
      return obj;
    }
    segment(input) {
      const s = state(this, "Segmenter", "segment");
      const str = toStr(input);
      const b = N.intlSegment(s.locale, s.granularity, str);
      const segs = [];
      for (let i = 0; i + 2 < b.length; i += 2) {
        const seg = { segment: str.slice(b[i], b[i + 2]), index: b[i], input: str };
        if (s.granularity === "word") seg.isWordLike = b[i + 1] >= 100;
        segs.push(seg);
      }
      const out = Object.create(segProto);
      hide(out, "containing", (index) => {
        const n = index === undefined ? 0 : Math.trunc(Number(index)) || 0;
        if (n < 0 || n >= str.length) return undefined;
        return segs.find((x) => n >= x.index && n < x.index + x.segment.length);
      });
      hide(out, Symbol.iterator, () => segs[Symbol.iterator]());
      return out;
    }
    resolvedOptions() {
      const s = state(this, "Segmenter", "resolvedOptions");
      return { locale: s.locale, granularity: s.granularity };
    }
  }
  tag(Segmenter, "Intl.Segmenter");
  hide(Segmenter, "supportedLocalesOf", supportedLocalesOf(AV_ALL, "Segmenter"));

  // ---- Locale ----
  class Locale {
    constructor(tagArg, options) {
      if (!new.target) throw new TypeError("Constructor Intl.Locale requires 'new'");
      if (typeof tagArg !== "string" && !(tagArg !== null && typeof tagArg === "object")) throw new TypeError("First argument to Intl.Locale constructor can't be empty or missing");
      let t = slot.get(tagArg)?.cls === "Locale" ? slot.get(tagArg).tag : toStr(tagArg);
      t = canonList(t)[0];
      const o = toObj(options);
      let [language, script, region] = N.intlLocaleInfo(t);
      language ||= "und";
      const ov = (name, re) => {
        const v = o[name];
        if (v === undefined) return undefined;
        const x = toStr(v);
        if (!re.test(x)) throw new RangeError(`Incorrect locale information provided`);
        return x;
      };
      const l2 = ov("language", /^[a-zA-Z]{2,3}$|^[a-zA-Z]{5,8}$/), s2 = ov("script", /^[a-zA-Z]{4}$/), r2 = ov("region", /^[a-zA-Z]{2}$|^\d{3}$/);
      if (l2 || s2 || r2) {
        const ext = /-u-.*$/.exec(t)?.[0] || "";
        language = l2 || language;
        script = s2 || script;
        region = r2 || region;
        t = N.intlCanon([language, script, region].filter(Boolean).join("-") + ext);
        [language, script, region] = N.intlLocaleInfo(t);
        language ||= "und";
      }
      const kw = [];
      for (const [opt, key] of [["calendar", "ca"], ["collation", "co"], ["hourCycle", "hc"], ["caseFirst", "kf"], ["numeric", "kn"], ["numberingSystem", "nu"]]) {
        const v = o[opt];
        if (v !== undefined) kw.push(`${key}-${opt === "numeric" ? String(Boolean(v)) : toStr(v)}`);
      }
      if (kw.length) t = N.intlCanon(t.replace(/-u-.*$/, "") + "-u-" + kw.join("-"));
      const base = N.intlLocaleInfo(t)[3];
      const obj = Object.create(Object.getPrototypeOf(this));
      slot.set(obj, { cls: "Locale", tag: t, language, script: script || undefined, region: region || undefined, baseName: base });
      return obj;
    }
    toString() {
      return state(this, "Locale", "toString").tag;
    }
    maximize() {
      return new Locale(likely(state(this, "Locale", "maximize").tag, "max"));
    }
    minimize() {
      return new Locale(likely(state(this, "Locale", "minimize").tag, "min"));
    }
    getTimeZones() {
      const s = state(this, "Locale", "getTimeZones");
      return s.region === undefined ? undefined : N.intlLocaleData(s.tag, "timeZones").sort();
    }
    getTextInfo() {
      return { direction: N.intlLocaleData(state(this, "Locale", "getTextInfo").tag, "rtl") ? "rtl" : "ltr" };
    }
    getWeekInfo() {
      const [firstDay, minimalDays, ...weekend] = N.intlLocaleData(state(this, "Locale", "getWeekInfo").tag, "week");
      return { firstDay, weekend, minimalDays };
    }
  }
  // maximize/minimize keep the -u- extension of the tag
  const likely = (t, op) => {
    const ext = /-u-.*$/.exec(t)?.[0] || "";
    return N.intlCanon(N.intlLocaleData(t.replace(/-u-.*$/, ""), op) + ext);
  };
  const keyword = (t, key) => new RegExp(`-u-(?:.*-)?${key}-([a-z0-9]+(?:-[a-z0-9]{3,8})*)`).exec(t)?.[1];
  // getCalendars/…: the tag's keyword if it has one, else the locale's preferred values
  for (const [m, key, what] of [["getCalendars", "ca", "calendars"], ["getCollations", "co", "collations"],
    ["getHourCycles", "hc", "hourCycles"], ["getNumberingSystems", "nu", "numberingSystems"]])
    hide(Locale.prototype, m, { [m]() {
      const s = state(this, "Locale", m);
      const v = keyword(s.tag, key);
      if (v) return [v];
      const a = N.intlLocaleData(s.tag, what);
      return key === "co" ? a.sort() : a;
    } }[m]);
  // the accessor forms V8 shipped first (Chrome 99), kept by V8 beside the get* methods
  for (const [name, m] of [["calendars", "getCalendars"], ["collations", "getCollations"], ["hourCycles", "getHourCycles"],
    ["numberingSystems", "getNumberingSystems"], ["timeZones", "getTimeZones"], ["textInfo", "getTextInfo"], ["weekInfo", "getWeekInfo"]])
    getterFn(Locale, name, function () {
      return Locale.prototype[m].call(this);
    });
  for (const name of ["baseName", "language", "script", "region"]) getterFn(Locale, name, function () {
    return state(this, "Locale", name)[name];
  });
  for (const [name, key] of [["calendar", "ca"], ["collation", "co"], ["hourCycle", "hc"], ["caseFirst", "kf"], ["numberingSystem", "nu"]]) getterFn(Locale, name, function () {
    return new RegExp(`-u-(?:.*-)?${key}-([a-z0-9]+(?:-[a-z0-9]{3,8})*)`).exec(state(this, "Locale", name).tag)?.[1];
  });
  getterFn(Locale, "numeric", function () {
    return /-u-(?:.*-)?kn(-true)?(-|$)/.test(state(this, "Locale", "numeric").tag);
  });
  tag(Locale, "Intl.Locale");

  // ---- DisplayNames ----
  const DN_FIELDS = ["era", "year", "quarter", "month", "weekOfYear", "weekday", "day", "dayPeriod", "hour", "minute", "second", "timeZoneName"];
  const LANG_ID = /^(?:[a-z]{2,3}|[a-z]{5,8})(?:-[a-z]{4})?(?:-(?:[a-z]{2}|\d{3}))?(?:-(?:[a-z0-9]{5,8}|\d[a-z0-9]{3}))*$/i;
  class DisplayNames {
    constructor(locales, options) {
      if (!new.target) throw new TypeError("Constructor Intl.DisplayNames requires 'new'");
      const locale = localeWithKeys(resolveLocale(locales), {})[0];
      if (options === undefined) throw new TypeError("Cannot convert undefined or null to object");
      const o = toObj(options);
      getOpt(o, "localeMatcher", ["lookup", "best fit"], "best fit");
      const style = getOpt(o, "style", ["narrow", "short", "long"], "long");
      const type = getOpt(o, "type", ["language", "region", "script", "currency", "calendar", "dateTimeField"], undefined);
      if (type === undefined) throw new TypeError("Required option type is missing");
      const fallback = getOpt(o, "fallback", ["code", "none"], "code");
      const languageDisplay = getOpt(o, "languageDisplay", ["dialect", "standard"], "dialect");
      const obj = Object.create(Object.getPrototypeOf(this));
      const s = { cls: "DisplayNames", locale, style, type, fallback };
      if (type === "language") s.languageDisplay = languageDisplay;
      slot.set(obj, s);
      return obj;
    }
    of(code) {
      const s = state(this, "DisplayNames", "of");
      let c = toStr(code);
      const bad = () => new RangeError(`invalid_argument`);
      switch (s.type) {
        case "language": {
          // V8 takes a whole tag and names its language id (extensions are dropped)
          const id = canonList(c)[0].replace(/-[a-wyz0-9]-.*$|^x-.*$|-x-.*$/i, "");
          if (!LANG_ID.test(id) || /^root$/i.test(id)) throw bad();
          const name = N.intlDisplayName(s.locale, s.type, s.style, s.languageDisplay !== "standard", id);
          return name !== undefined ? name : s.fallback === "code" ? id : undefined;
        }
        case "region": // as V8: looked up as written, so "de" has no name and falls back to "de"
          if (!/^(?:[a-z]{2}|\d{3})$/i.test(c)) throw bad();
          break;
        case "script":
          if (!/^[a-z]{4}$/i.test(c)) throw bad();
          break;
        case "currency":
          if (!/^[a-z]{3}$/i.test(c)) throw bad();
          c = c.toUpperCase();
          break;
        case "calendar":
          if (!/^[a-z0-9]{3,8}(?:-[a-z0-9]{3,8})*$/i.test(c)) throw bad();
          c = c.toLowerCase();
          if (c === "gregorian") throw bad(); // V8 wants the BCP 47 id, "gregory"
          break;
        case "dateTimeField":
          if (!DN_FIELDS.includes(c)) throw bad();
          break;
      }
      let name = N.intlDisplayName(s.locale, s.type, s.style, s.languageDisplay !== "standard", c);
      if (s.type === "currency" && name === c) name = undefined; // ICU answers the code itself when it has no name
      return name !== undefined ? name : s.fallback === "code" ? c : undefined;
    }
    resolvedOptions() {
      const s = state(this, "DisplayNames", "resolvedOptions");
      const r = { locale: s.locale, style: s.style, type: s.type, fallback: s.fallback };
      if (s.languageDisplay) r.languageDisplay = s.languageDisplay;
      return r;
    }
  }
  tag(DisplayNames, "Intl.DisplayNames");
  hide(DisplayNames, "supportedLocalesOf", supportedLocalesOf(AV_ALL, "DisplayNames"));

  // ---- DurationFormat (ECMA-402 DurationFormat: each unit by NumberFormat, joined by a unit ListFormat) ----
  const DUR_UNITS = ["years", "months", "weeks", "days", "hours", "minutes", "seconds", "milliseconds", "microseconds", "nanoseconds"];
  const DUR_WORDS = ["long", "short", "narrow"];
  class DurationFormat {
    constructor(locales, options) {
      if (!new.target) throw new TypeError("Constructor Intl.DurationFormat requires 'new'");
      const locale = resolveLocale(locales);
      const o = toObj(options);
      getOpt(o, "localeMatcher", ["lookup", "best fit"], "best fit");
      const nu = getOpt(o, "numberingSystem", null, undefined);
      if (nu !== undefined && !/^[a-z0-9]{3,8}(-[a-z0-9]{3,8})*$/i.test(nu)) throw new RangeError(`Invalid numberingSystem : ${nu}`);
      const [rlocale, icuLocale, used] = localeWithKeys(locale, { nu });
      const style = getOpt(o, "style", ["long", "short", "narrow", "digital"], "short");
      const s = { cls: "DurationFormat", locale: rlocale, icuLocale, numberingSystem: used.nu || numberingSystemOf(icuLocale), style, units: {} };
      let prev = "";
      for (const unit of DUR_UNITS) {
        const i = DUR_UNITS.indexOf(unit);
        const hms = i >= 4 && i <= 6, sub = i >= 7;
        const list = hms ? [...DUR_WORDS, "numeric", "2-digit"] : sub ? [...DUR_WORDS, "numeric"] : DUR_WORDS;
        let st = getOpt(o, unit, list, undefined), displayDefault = "always";
        if (st === undefined) {
          if (style === "digital") {
            if (!hms) displayDefault = "auto";
            st = i < 4 ? "short" : "numeric";
          } else if (["fractional", "numeric", "2-digit"].includes(prev)) {
            if (unit !== "minutes" && unit !== "seconds") displayDefault = "auto";
            st = "numeric";
          } else {
            displayDefault = "auto";
            st = style;
          }
        }
        if (st === "numeric" && sub) {
          st = "fractional";
          displayDefault = "auto";
        }
        const display = getOpt(o, unit + "Display", ["auto", "always"], displayDefault);
        if (display === "always" && st === "fractional") throw new RangeError(`${unit}Display "always" needs a non-fractional ${unit} style`);
        if (prev === "fractional" && st !== "fractional") throw new RangeError(`${unit} style must be fractional after a fractional unit`);
        if (prev === "numeric" || prev === "2-digit") {
          if (!["fractional", "numeric", "2-digit"].includes(st)) throw new RangeError(`${unit} style must be numeric after a numeric unit`);
          if (unit === "minutes" || unit === "seconds") st = "2-digit";
        }
        s.units[unit] = { style: st, display };
        prev = st;
      }
      s.fractionalDigits = getNum(o, "fractionalDigits", 0, 9, undefined);
      const obj = Object.create(Object.getPrototypeOf(this));
      slot.set(obj, s);
      return obj;
    }
    format(duration) {
      const s = state(this, "DurationFormat", "format");
      return durationParts(s, duration).map((p) => p.value).join("");
    }
    formatToParts(duration) {
      return durationParts(state(this, "DurationFormat", "formatToParts"), duration);
    }
    resolvedOptions() {
      const s = state(this, "DurationFormat", "resolvedOptions");
      const r = { locale: s.locale, numberingSystem: s.numberingSystem, style: s.style };
      for (const unit of DUR_UNITS) {
        r[unit] = s.units[unit].style;
        r[unit + "Display"] = s.units[unit].display;
      }
      if (s.fractionalDigits !== undefined) r.fractionalDigits = s.fractionalDigits;
      return r;
    }
  }
  tag(DurationFormat, "Intl.DurationFormat");
  hide(DurationFormat, "supportedLocalesOf", supportedLocalesOf(AV_ALL, "DurationFormat"));

  // ToDurationRecord: every field an integral Number, one sign, at least one present
  function durationRecord(d) {
    if (typeof d === "string") throw new RangeError(`Invalid object : ${d}`); // as V8 13 (no Temporal)
    if (d === null || typeof d !== "object") throw new TypeError("Duration must be an object");
    const r = {};
    let any = false, sign = 0;
    for (const unit of [...DUR_UNITS].sort()) {
      const v = d[unit];
      if (v === undefined) {
        r[unit] = 0;
        continue;
      }
      any = true;
      const n = Number(v);
      if (!Number.isFinite(n) || !Number.isInteger(n)) throw new RangeError(`Invalid duration value ${unit}: ${String(v)}`);
      if (n !== 0) {
        if (sign && Math.sign(n) !== sign) throw new RangeError("Duration values must all have the same sign");
        sign = Math.sign(n);
      }
      r[unit] = n;
    }
    if (!any) throw new TypeError("Duration must have at least one unit");
    if (Math.abs(r.years) >= 2 ** 32 || Math.abs(r.months) >= 2 ** 32 || Math.abs(r.weeks) >= 2 ** 32) throw new RangeError("Duration out of range");
    const secs = r.days * 86400 + r.hours * 3600 + r.minutes * 60 + r.seconds + r.milliseconds / 1e3 + r.microseconds / 1e6 + r.nanoseconds / 1e9;
    if (Math.abs(secs) >= 2 ** 53) throw new RangeError("Duration out of range");
    r.sign = sign;
    return r;
  }

  // the locale's time separator, as its hour-minute pattern writes it (":", "." in fi/da)
  const timeSeparator = (locale) => /H+([^Hm']{1,3})m/.exec(N.intlDtfPattern(locale, "K:Hm", "UTC"))?.[1] || ":";

  // PartitionDurationFormatPattern -> [{type, value, unit?}]
  function durationParts(s, duration) {
    const d = durationRecord(duration);
    const elements = []; // each: parts of one list element
    let numeric = null; // the digital group being built
    let negShown = false;
    const nfParts = (value, opts, unit) => {
      const o = { numberingSystem: s.numberingSystem, ...opts };
      if (negShown) o.signDisplay = "never";
      else if (value < 0 || Object.is(value, -0)) negShown = true;
      return new NumberFormat(s.icuLocale, o).formatToParts(value).map((p) => (p.type === "literal" ? p : { ...p, unit }));
    };
    const hoursShown = d.hours !== 0 || s.units.hours.display === "always";
    const secondsShown = d.seconds !== 0 || s.units.seconds.display === "always" ||
      ((s.units.milliseconds.style === "fractional") && (d.milliseconds || d.microseconds || d.nanoseconds));
    for (let i = 0; i < DUR_UNITS.length; i++) {
      const unit = DUR_UNITS[i], { style, display } = s.units[unit], one = unit.slice(0, -1);
      let value = d[unit];
      if (d.sign < 0 && value === 0) value = -0;
      const opts = {};
      let last = false;
      const next = DUR_UNITS[i + 1];
      if (next && ["seconds", "milliseconds", "microseconds"].includes(unit) && s.units[next].style === "fractional") {
        // the smaller units as this one's fraction
        const add = unit === "seconds" ? d.milliseconds / 1e3 + d.microseconds / 1e6 + d.nanoseconds / 1e9
          : unit === "milliseconds" ? d.microseconds / 1e3 + d.nanoseconds / 1e6 : d.nanoseconds / 1e3;
        value = d[unit] + add;
        if (d.sign < 0 && value === 0) value = -0;
        opts.maximumFractionDigits = s.fractionalDigits ?? 9;
        opts.minimumFractionDigits = s.fractionalDigits ?? 0;
        opts.roundingMode = "trunc";
        last = true;
      }
      if (style === "numeric" || style === "2-digit") {
        let shown = value !== 0 || display === "always";
        if (unit === "minutes" && hoursShown && secondsShown) shown = true;
        if (unit === "seconds" && secondsShown) shown = true;
        if (shown) {
          if (!numeric) elements.push((numeric = []));
          else numeric.push({ type: "literal", value: s.timeSeparator || (s.timeSeparator = timeSeparator(s.icuLocale)) });
          numeric.push(...nfParts(value, { ...opts, minimumIntegerDigits: style === "2-digit" ? 2 : 1, useGrouping: false }, one));
        }
      } else if (value !== 0 || display === "always") {
        elements.push(nfParts(value, { ...opts, style: "unit", unit: one, unitDisplay: style }, one));
      }
      if (last) break;
    }
    const lf = N.intlList(s.icuLocale, "unit", s.style === "digital" ? "short" : s.style, elements.map((_, i) => `\u0000${i}\u0000`), true);
    const out = [];
    for (const [type, value] of lf) {
      if (type === "element") out.push(...elements[Number(value.slice(1, -1))]);
      else out.push({ type: "literal", value });
    }
    return out;
  }

  const Intl = {};
  for (const [name, value] of Object.entries({ DateTimeFormat, NumberFormat, Collator, PluralRules, RelativeTimeFormat, ListFormat, Segmenter, Locale, DisplayNames, DurationFormat }))
    hide(Intl, name, value);
  hide(Intl, "getCanonicalLocales", { getCanonicalLocales: (locales) => canonList(locales) }.getCanonicalLocales);
  const valuesCache = Object.create(null);
  hide(Intl, "supportedValuesOf", {
    supportedValuesOf(key) {
      const k = toStr(key);
      if (k === "unit") return SIMPLE_UNITS.slice();
      if (!["calendar", "collation", "currency", "numberingSystem", "timeZone"].includes(k)) throw new RangeError(`Invalid key : ${k}`);
      if (!valuesCache[k]) valuesCache[k] = [...new Set(N.intlValues(k))].sort();
      return valuesCache[k].slice();
    },
  }.supportedValuesOf);
  Object.defineProperty(Intl, Symbol.toStringTag, { value: "Intl", configurable: true });
  defineGlobal("Intl", Intl);
})();
