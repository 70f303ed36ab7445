// console, and the value formatter behind it (spec: workers.md WEB-14).
//
// Output is close to Node's util.inspect with its defaults (depth 2, compact 3,
// breakLength 80): strings are bare at the top level and quoted inside objects,
// objects print as `{ a: 1 }`, nesting past the depth limit as `[Object]`,
// cycles as `<ref *1>` / `[Circular *1]`. Getters are never called (`[Getter]`).
// Differences from Node: long arrays of numbers are not grouped into columns and
// a Promise's state cannot be read from JS in this engine (`Promise { <unknown> }`).
//
// Each console call formats one string and hands it to N.consoleWrite(level, text)
// (console.c), which sends it to the context's sink: durable's log by default.
// Formatting is bounded: at most 100 elements per array/map/set, 10,000 characters
// per nested string, and the whole line to 1 MiB with an explicit marker past that.
// Nesting is bounded by the depth option (at most 100 levels, even with
// `depth: null`) and by the stack: a level that runs out of it prints
// "[Object: Inspection interrupted prematurely. …]" as in Node.
(() => {
  "use strict";
  const N = globalThis.__durable;
  const write = N.consoleWrite;

  const kArrayMax = 100;
  const kStringMax = 10000;
  const kBreakLength = 80;
  const kLineMax = 1024 * 1024;
  // `depth: null` still stops here: each level indents its lines by two more
  // spaces, so the text of n levels grows as n², and a deeper value is cut anyway.
  const kDepthMax = 100;

  const hasOwn = (o, k) => Object.prototype.hasOwnProperty.call(o, k);
  const objToString = (v) => Object.prototype.toString.call(v);
  const TypedArray = Object.getPrototypeOf(Uint8Array);
  const typedArrayTag = Object.getOwnPropertyDescriptor(TypedArray.prototype, Symbol.toStringTag).get;
  const abByteLength = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, "byteLength").get;
  const sabByteLength = typeof SharedArrayBuffer === "function"
    ? Object.getOwnPropertyDescriptor(SharedArrayBuffer.prototype, "byteLength").get : null;
  const mapSize = Object.getOwnPropertyDescriptor(Map.prototype, "size").get;
  const setSize = Object.getOwnPropertyDescriptor(Set.prototype, "size").get;
  const dateGetTime = Date.prototype.getTime;
  const regexpToString = RegExp.prototype.toString;

  // Brand checks that do not trust Symbol.toStringTag or user prototypes.
  const brand = (getter, v) => {
    try {
      getter.call(v);
      return true;
    } catch {
      return false;
    }
  };
  const isTypedArray = (v) => typedArrayTag.call(v) !== undefined;
  const isArrayBuffer = (v) => brand(abByteLength, v);
  const isSharedArrayBuffer = (v) => sabByteLength !== null && brand(sabByteLength, v);
  const isMap = (v) => brand(mapSize, v);
  const isSet = (v) => brand(setSize, v);
  const isDate = (v) => brand(dateGetTime, v);
  const isRegExp = (v) => {
    try {
      Object.getOwnPropertyDescriptor(RegExp.prototype, "source").get.call(v);
      return v !== RegExp.prototype;
    } catch {
      return false;
    }
  };
  const isError = (v) => v instanceof Error || objToString(v) === "[object Error]";
  const isPromise = (v) => {
    try {
      return v instanceof Promise;
    } catch {
      return false;
    }
  };
  const isWeakMap = (v) => brand(WeakMap.prototype.has, v);
  const isWeakSet = (v) => brand(WeakSet.prototype.has, v);
  const isDataView = (v) => brand(Object.getOwnPropertyDescriptor(DataView.prototype, "byteLength").get, v);
  const boxedKind = (v) => {
    for (const [C, name] of [[Number, "Number"], [String, "String"], [Boolean, "Boolean"], [BigInt, "BigInt"], [Symbol, "Symbol"]]) {
      if (brand(C.prototype.valueOf, v)) return name;
    }
    return null;
  };

  // ---- primitives ----

  const meta = [];
  for (let i = 0; i < 0x20; i++) meta[i] = "\\x" + i.toString(16).toUpperCase().padStart(2, "0");
  meta[8] = "\\b"; meta[9] = "\\t"; meta[10] = "\\n"; meta[12] = "\\f"; meta[13] = "\\r";
  meta[0x7f] = "\\x7F";

  // A string as a quoted literal: single quotes unless the text contains them.
  const quote = (s) => {
    let q = "'";
    if (s.includes("'")) {
      if (!s.includes('"')) q = '"';
      else if (!s.includes("`") && !s.includes("${")) q = "`";
    }
    let out = q;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x20 || c === 0x7f) out += meta[c];
      else if (s[i] === q || s[i] === "\\") out += "\\" + s[i];
      else out += s[i];
    }
    return out + q;
  };

  const formatNumber = (n) => (Object.is(n, -0) ? "-0" : `${n}`);

  const formatPrimitive = (v) => {
    switch (typeof v) {
      case "string": {
        if (v.length > kStringMax) {
          const rest = v.length - kStringMax;
          return quote(v.slice(0, kStringMax)) + `... ${rest} more character${rest > 1 ? "s" : ""}`;
        }
        return quote(v);
      }
      case "number": return formatNumber(v);
      case "bigint": return `${v}n`;
      case "boolean": return `${v}`;
      case "undefined": return "undefined";
      case "symbol": return v.toString();
      default: return String(v);
    }
  };

  // ---- objects ----

  const identifier = /^[a-zA-Z_][a-zA-Z_0-9]*$/;
  const formatKey = (k) =>
    typeof k === "symbol" ? `[${k.toString()}]` : identifier.test(k) ? k : quote(k);

  // The name of the nearest constructor on the prototype chain; null for a
  // null-prototype object. Never calls getters.
  const constructorName = (obj) => {
    let o = obj;
    for (let i = 0; o !== null && i < 1000; i++) {
      const d = Object.getOwnPropertyDescriptor(o, "constructor");
      if (d && typeof d.value === "function" && typeof d.value.name === "string" && d.value.name !== "")
        return d.value.name;
      o = Object.getPrototypeOf(o);
    }
    return null;
  };

  // Symbol.toStringTag as Node reads it: through the chain (a getter runs), but an
  // own enumerable tag is just data and shows among the keys instead.
  const stringTag = (v, ctor) => {
    let t;
    try {
      t = v[Symbol.toStringTag];
      const d = Object.getOwnPropertyDescriptor(v, Symbol.toStringTag);
      if (d && d.enumerable) t = undefined;
    } catch {
      t = undefined;
    }
    return typeof t === "string" && t !== "" && t !== ctor ? t : "";
  };

  const prefixOf = (ctor, tag, fallback, size = "") => {
    if (ctor === null) {
      if (tag !== "" && fallback !== tag) return `[${fallback}${size}: null prototype] [${tag}] `;
      return `[${fallback}${size}: null prototype] `;
    }
    if (tag !== "" && ctor !== tag) return `${ctor}${size} [${tag}] `;
    return `${ctor}${size} `;
  };

  const ownKeys = (v, filterIndex) => {
    let keys;
    try {
      keys = Object.keys(v);
    } catch {
      return [];
    }
    if (filterIndex) keys = keys.filter((k) => !/^(0|[1-9][0-9]*)$/.test(k) || Number(k) >= 2 ** 32 - 1);
    for (const s of Object.getOwnPropertySymbols(v)) {
      const d = Object.getOwnPropertyDescriptor(v, s);
      if (d && d.enumerable) keys.push(s);
    }
    return keys;
  };

  const functionBase = (fn, ctor, tag) => {
    let src = "";
    try {
      src = Function.prototype.toString.call(fn);
    } catch {
      // a revoked proxy or the like
    }
    const name = typeof fn.name === "string" ? fn.name : "";
    if (src.startsWith("class") && /^class[\s{]/.test(src)) {
      let base = `[class ${name || "(anonymous)"}`;
      const sup = Object.getPrototypeOf(fn);
      if (sup && sup !== Function.prototype && typeof sup.name === "string" && sup.name) base += ` extends ${sup.name}`;
      return base + "]";
    }
    let type = "Function";
    const kind = objToString(fn);
    if (kind === "[object AsyncFunction]") type = "AsyncFunction";
    else if (kind === "[object GeneratorFunction]") type = "GeneratorFunction";
    else if (kind === "[object AsyncGeneratorFunction]") type = "AsyncGeneratorFunction";
    let base = `[${type}`;
    if (ctor === null) base += " (null prototype)";
    base += name ? `: ${name}]` : " (anonymous)]";
    if (tag !== "" && ctor !== tag) base += ` [${tag}]`;
    return base;
  };

  const errorBase = (err) => {
    let head;
    try {
      head = Error.prototype.toString.call(err);
    } catch {
      head = "Error";
    }
    let stack = "";
    try {
      stack = typeof err.stack === "string" ? err.stack : "";
    } catch {
      stack = "";
    }
    stack = stack.replace(/\s+$/, "");
    if (stack.startsWith(head)) return stack;   // engines that put the head in the stack
    return stack ? `${head}\n${stack}` : `[${head}]`;
  };

  const indentLines = (s, n) => (n === 0 ? s : s.split("\n").join("\n" + " ".repeat(n)));

  const formatValue = (ctx, v, depth) => {
    if (v === null) return "null";
    if (typeof v !== "object" && typeof v !== "function") return formatPrimitive(v);
    if (ctx.seen.includes(v)) {
      let i = ctx.circular.get(v);
      if (i === undefined) {
        i = ctx.circular.size + 1;
        ctx.circular.set(v, i);
      }
      return `[Circular *${i}]`;
    }
    const indentationLvl = ctx.indentationLvl;
    try {
      return formatRaw(ctx, v, depth);
    } catch (e) {
      // Nesting deeper than the stack (depth: null on a deep value): this level
      // gives up as Node does, and the levels above it carry on.
      if (!isStackOverflow(e)) throw e;
      ctx.indentationLvl = indentationLvl;
      let name = "Object";
      try {
        name = constructorName(v) ?? "Object";
      } catch {
        // out of stack again: keep the generic name
      }
      return `[${name}: Inspection interrupted prematurely. Maximum call stack size exceeded.]`;
    }
  };
  const isStackOverflow = (e) =>
    e instanceof RangeError && e.message === "Maximum call stack size exceeded";

  const formatProperty = (ctx, v, depth, key, arrayItem) => {
    let d;
    try {
      d = Object.getOwnPropertyDescriptor(v, key);
    } catch {
      d = undefined;
    }
    if (!d) d = { value: undefined, enumerable: true };
    let str;
    if ("value" in d) {
      ctx.indentationLvl += 2;
      str = formatValue(ctx, d.value, depth);
      ctx.indentationLvl -= 2;
    } else if (d.get !== undefined) {
      str = d.set !== undefined ? "[Getter/Setter]" : "[Getter]";
    } else if (d.set !== undefined) {
      str = "[Setter]";
    } else {
      str = "undefined";
    }
    if (arrayItem) return str;
    // Only an error's `cause` is listed while not enumerable; Node brackets it.
    if (d.enumerable === false) return `[${typeof key === "symbol" ? key.toString() : key}]: ${str}`;
    return `${formatKey(key)}: ${str}`;
  };

  const moreItems = (n) => `... ${n} more item${n > 1 ? "s" : ""}`;

  const formatArray = (ctx, v, depth) => {
    const out = [];
    const len = v.length;
    const shown = Math.min(len, kArrayMax);
    let holes = 0;
    for (let i = 0; i < shown; i++) {
      if (!hasOwn(v, i)) {
        holes++;
        continue;
      }
      if (holes) {
        out.push(`<${holes} empty item${holes > 1 ? "s" : ""}>`);
        holes = 0;
      }
      out.push(formatProperty(ctx, v, depth, i, true));
    }
    if (holes) out.push(`<${holes} empty item${holes > 1 ? "s" : ""}>`);
    if (len > shown) out.push(moreItems(len - shown));
    return out;
  };

  const formatTypedArray = (ctx, v) => {
    const out = [];
    const shown = Math.min(v.length, kArrayMax);
    for (let i = 0; i < shown; i++)
      out.push(typeof v[i] === "bigint" ? `${v[i]}n` : formatNumber(v[i]));
    if (v.length > shown) out.push(moreItems(v.length - shown));
    return out;
  };

  const formatSet = (ctx, v, depth) => {
    const out = [];
    ctx.indentationLvl += 2;
    let n = 0;
    for (const x of Set.prototype.values.call(v)) {
      if (n++ >= kArrayMax) break;
      out.push(formatValue(ctx, x, depth));
    }
    ctx.indentationLvl -= 2;
    const size = setSize.call(v);
    if (size > kArrayMax) out.push(moreItems(size - kArrayMax));
    return out;
  };

  const formatMap = (ctx, v, depth) => {
    const out = [];
    ctx.indentationLvl += 2;
    let n = 0;
    for (const [k, x] of Map.prototype.entries.call(v)) {
      if (n++ >= kArrayMax) break;
      out.push(`${formatValue(ctx, k, depth)} => ${formatValue(ctx, x, depth)}`);
    }
    ctx.indentationLvl -= 2;
    const size = mapSize.call(v);
    if (size > kArrayMax) out.push(moreItems(size - kArrayMax));
    return out;
  };

  const hexBytes = (ab) => {
    const u = new Uint8Array(ab, 0, Math.min(abByteLengthOf(ab), 50));
    let s = Array.prototype.map.call(u, (b) => b.toString(16).padStart(2, "0")).join(" ");
    const rest = abByteLengthOf(ab) - u.length;
    if (rest > 0) s += ` ... ${rest} more byte${rest > 1 ? "s" : ""}`;
    return `<${s}>`;
  };
  const abByteLengthOf = (ab) => (isArrayBuffer(ab) ? abByteLength.call(ab) : sabByteLength.call(ab));

  const noEntries = () => [];

  // One object: decide braces and the entry formatter, then lay the entries out.
  // A flat sequence of type tests, in the order Node applies them.
  const formatRaw = (ctx, v, depth) => {
    const ctor = constructorName(v);
    const tag = stringTag(v, ctor);
    let keys;
    let base = "";
    let braces;
    let formatter = noEntries;
    let arrayLike = false;
    let extra = null;   // entries placed before the keys (ArrayBuffer contents, etc.)

    if (Array.isArray(v)) {
      keys = ownKeys(v, true);
      const prefix = ctor !== "Array" || tag !== "" ? prefixOf(ctor, tag, "Array", `(${v.length})`) : "";
      braces = [`${prefix}[`, "]"];
      if (v.length === 0 && keys.length === 0) return `${braces[0]}]`;
      arrayLike = true;
      formatter = formatArray;
    } else if (isSet(v)) {
      keys = ownKeys(v, false);
      const prefix = prefixOf(ctor, tag, "Set", `(${setSize.call(v)})`);
      if (setSize.call(v) === 0 && keys.length === 0) return `${prefix}{}`;
      braces = [`${prefix}{`, "}"];
      formatter = formatSet;
    } else if (isMap(v)) {
      keys = ownKeys(v, false);
      const prefix = prefixOf(ctor, tag, "Map", `(${mapSize.call(v)})`);
      if (mapSize.call(v) === 0 && keys.length === 0) return `${prefix}{}`;
      braces = [`${prefix}{`, "}"];
      formatter = formatMap;
    } else if (isTypedArray(v)) {
      keys = ownKeys(v, true);
      const name = typedArrayTag.call(v);
      const prefix = prefixOf(ctor, tag === name ? "" : tag, name, `(${v.length})`);
      braces = [`${prefix}[`, "]"];
      if (v.length === 0 && keys.length === 0) return `${braces[0]}]`;
      arrayLike = true;
      formatter = formatTypedArray;
    } else {
      keys = ownKeys(v, false);
      if (typeof v === "function") {
        base = functionBase(v, ctor, tag);
        if (keys.length === 0) return base;
        braces = ["{", "}"];
      } else if (isRegExp(v)) {
        base = regexpToString.call(v);
        const prefix = prefixOf(ctor, tag, "RegExp");
        if (prefix !== "RegExp ") base = `${prefix}${base}`;
        if (keys.length === 0) return base;
        braces = ["{", "}"];
      } else if (isDate(v)) {
        const t = dateGetTime.call(v);
        base = Number.isNaN(t) ? "Invalid Date" : Date.prototype.toISOString.call(v);
        const prefix = prefixOf(ctor, tag, "Date");
        if (prefix !== "Date ") base = `${prefix}${base}`;
        if (keys.length === 0) return base;
        braces = ["{", "}"];
      } else if (isError(v)) {
        base = errorBase(v);
        keys = keys.filter((k) => k !== "stack" && k !== "message");
        let cause = false;
        try {
          cause = hasOwn(v, "cause") && !Object.getOwnPropertyDescriptor(v, "cause").enumerable;
        } catch {
          cause = false;
        }
        if (cause) keys.push("cause");
        base = indentLines(base, ctx.indentationLvl);
        if (keys.length === 0) return base;
        braces = ["{", "}"];
      } else if (isArrayBuffer(v) || isSharedArrayBuffer(v)) {
        const name = isArrayBuffer(v) ? "ArrayBuffer" : "SharedArrayBuffer";
        const prefix = prefixOf(ctor, tag, name);
        braces = [`${prefix}{`, "}"];
        extra = [`[Uint8Contents]: ${hexBytes(v)}`, `byteLength: ${abByteLengthOf(v)}`];
      } else if (isDataView(v)) {
        braces = [`${prefixOf(ctor, tag, "DataView")}{`, "}"];
        formatter = (c, dv, d) => {
          const out = [`byteLength: ${dv.byteLength}`, `byteOffset: ${dv.byteOffset}`];
          c.indentationLvl += 2;
          out.push(`buffer: ${formatValue(c, dv.buffer, d)}`);
          c.indentationLvl -= 2;
          return out;
        };
      } else if (isPromise(v)) {
        braces = [`${prefixOf(ctor, tag, "Promise")}{`, "}"];
        extra = ["<unknown>"];
      } else if (isWeakMap(v) || isWeakSet(v)) {
        const name = isWeakMap(v) ? "WeakMap" : "WeakSet";
        braces = [`${prefixOf(ctor, tag, name)}{`, "}"];
        extra = ["<items unknown>"];
      } else {
        const boxed = boxedKind(v);
        if (boxed !== null) {
          const inner = formatPrimitive(v.valueOf());
          base = `[${boxed}${ctor !== boxed && ctor !== null ? ` (${ctor})` : ""}: ${inner}]`;
          if (boxed === "String") keys = keys.filter((k) => typeof k === "symbol" || !/^(0|[1-9][0-9]*)$/.test(k));
          if (keys.length === 0) return base;
          braces = ["{", "}"];
        } else if (ctor === "Object") {
          braces = [tag !== "" ? `Object [${tag}] {` : "{", "}"];
          if (keys.length === 0) return `${braces[0]}}`;
        } else if (ctor === null) {
          braces = [`${prefixOf(null, tag, "Object")}{`, "}"];
          if (keys.length === 0) return `${braces[0]}}`;
        } else {
          braces = [`${prefixOf(ctor, tag, "Object")}{`, "}"];
          if (keys.length === 0) return `${braces[0]}}`;
        }
      }
    }

    if (depth > ctx.depth) {
      const name = ctor === null ? "Object: null prototype" : tag !== "" && tag !== ctor ? `${ctor} [${tag}]` : ctor;
      return `[${arrayLike && Array.isArray(v) && ctor === "Array" ? "Array" : name}]`;
    }
    depth += 1;
    ctx.seen.push(v);
    ctx.currentDepth = depth;
    let output;
    try {
      output = extra ? extra.slice() : [];
      output.push(...formatter(ctx, v, depth));
      for (const k of keys) output.push(formatProperty(ctx, v, depth, k, false));
    } finally {
      ctx.seen.pop();
    }
    const ref = ctx.circular.get(v);
    if (ref !== undefined) {
      const mark = `<ref *${ref}>`;
      if (base === "") braces[0] = `${mark} ${braces[0]}`;
      else base = `${mark} ${base}`;
    }
    let grouped = false;
    if (arrayLike && output.length > 6) {
      const g = groupColumns(ctx, output, v);
      grouped = g !== output;
      output = g;
    }
    return reduceToSingleString(ctx, output, base, braces, depth, grouped);
  };

  // Long arrays of short entries are laid out in aligned columns (numbers to the
  // right, the rest to the left) instead of one entry per line. The rule is our
  // own simplification of Node's: up to 16 columns of the widest entry's width.
  const groupColumns = (ctx, output, v) => {
    let n = output.length;
    const more = n > 0 && output[n - 1].startsWith("... ") ? output[n - 1] : null;
    if (more !== null) n--;
    if (n <= 6) return output;
    let max = 0;
    for (let i = 0; i < n; i++) {
      if (output[i].includes("\n") || output[i].length > 16) return output;
      max = Math.max(max, output[i].length);
    }
    const cell = max + 2;
    const cols = Math.min(Math.floor((kBreakLength - ctx.indentationLvl - 2) / cell), 16);
    if (cols <= 1) return output;
    let numeric = true;
    for (let i = 0; i < n && numeric; i++) numeric = typeof v[i] === "number" || typeof v[i] === "bigint";
    const lines = [];
    for (let i = 0; i < n; i += cols) {
      const end = Math.min(i + cols, n);
      let line = "";
      for (let j = i; j < end; j++) {
        const last = j + 1 === end;
        if (numeric) line += output[j].padStart(max) + (last ? "" : ", ");
        else line += last ? output[j] : (output[j] + ", ").padEnd(cell);
      }
      lines.push(line);
    }
    if (more !== null) lines.push(more);
    return lines;
  };

  // Node's rule: an object goes on one line when it holds at most 3 levels of
  // nesting and the line (with its indentation) fits in kBreakLength.
  const reduceToSingleString = (ctx, output, base, braces, depth, grouped) => {
    if (!grouped && ctx.currentDepth - depth < 3) {
      const start = output.length + ctx.indentationLvl + braces[0].length + base.length + 10;
      let total = output.length + start;
      let fits = total + output.length <= kBreakLength;
      for (let i = 0; fits && i < output.length; i++) {
        total += output[i].length;
        if (total > kBreakLength) fits = false;
      }
      if (fits && !base.includes("\n")) {
        const joined = output.join(", ");
        if (!joined.includes("\n"))
          return `${base ? `${base} ` : ""}${braces[0]} ${joined} ${braces[1]}`;
      }
    }
    const ind = "\n" + " ".repeat(ctx.indentationLvl);
    return `${base ? `${base} ` : ""}${braces[0]}${ind}  ${output.join(`,${ind}  `)}${ind}${braces[1]}`;
  };

  const inspect = (value, options) => {
    let depth = 2;
    if (options !== null && typeof options === "object" && options.depth !== undefined)
      depth = options.depth === null ? Infinity : Number(options.depth);
    if (!(depth <= kDepthMax)) depth = kDepthMax;   // NaN too, which meant unlimited
    const ctx = { seen: [], circular: new Map(), depth, indentationLvl: 0, currentDepth: 0 };
    return formatValue(ctx, value, 0);
  };

  // ---- printf-style formatting (Node's util.format) ----

  // %s prints an object with String() only when its class defines toString;
  // built-in classes (Object, Array, Date, Error, ...) are inspected instead.
  const builtinProtos = new Set([Object.prototype, Array.prototype, Error.prototype, Date.prototype,
    RegExp.prototype, Function.prototype, Map.prototype, Set.prototype, Promise.prototype,
    TypedArray.prototype, ArrayBuffer.prototype, Number.prototype, String.prototype,
    Boolean.prototype, Symbol.prototype, BigInt.prototype]);
  const hasUserToString = (v) => {
    let o = v;
    for (let i = 0; o !== null && i < 1000; i++, o = Object.getPrototypeOf(o)) {
      if (hasOwn(o, "toString")) return !builtinProtos.has(o);
    }
    return false;
  };

  const formatArgs = (args) => {
    let first = args[0];
    let out = "";
    let a = 1;
    if (typeof first === "string") {
      if (args.length === 1) return first;
      let last = 0;
      for (let i = 0; i < first.length - 1; i++) {
        if (first.charCodeAt(i) !== 37) continue;   // '%'
        const c = first[i + 1];
        if (c === "%") {
          out += first.slice(last, i) + "%";
          last = i + 2;
          i++;
          continue;
        }
        if (a >= args.length) continue;
        let rep;
        const arg = args[a];
        switch (c) {
          case "s":
            if (typeof arg === "bigint") rep = `${arg}n`;
            else if (typeof arg === "number") rep = formatNumber(arg);
            else if (typeof arg === "symbol") rep = arg.toString();
            else if (arg !== null && typeof arg === "object" && !hasUserToString(arg)) rep = inspect(arg, { depth: 0 });
            else rep = String(arg);
            break;
          case "d":
            if (typeof arg === "bigint") rep = `${arg}n`;
            else if (typeof arg === "symbol") rep = "NaN";
            else rep = formatNumber(Number(arg));
            break;
          case "i":
            if (typeof arg === "bigint") rep = `${arg}n`;
            else if (typeof arg === "symbol") rep = "NaN";
            else rep = formatNumber(parseInt(arg));
            break;
          case "f":
            rep = typeof arg === "symbol" ? "NaN" : formatNumber(parseFloat(arg));
            break;
          case "j":
            try {
              rep = JSON.stringify(arg);
            } catch (e) {
              if (!(e instanceof TypeError) || !/circular/i.test(String(e.message))) throw e;
              rep = "[Circular]";
            }
            if (rep === undefined) rep = "undefined";
            break;
          case "o":
            rep = inspect(arg, { depth: 4 });
            break;
          case "O":
            rep = inspect(arg);
            break;
          case "c":
            rep = "";
            break;
          default:
            continue;
        }
        out += first.slice(last, i) + rep;
        last = i + 2;
        i++;
        a++;
      }
      out += first.slice(last);
    } else {
      out = inspect(first);
    }
    for (; a < args.length; a++) {
      const v = args[a];
      out += " " + (typeof v === "string" ? v : inspect(v));
    }
    return out;
  };

  // ---- console ----

  let groupIndent = "";
  const emit = (level, text) => {
    if (text.length > kLineMax) {
      const rest = text.length - kLineMax;
      text = text.slice(0, kLineMax) + `... (${rest} more characters not shown)`;
    }
    if (groupIndent) text = groupIndent + text.split("\n").join("\n" + groupIndent);
    write(level, text);
  };
  const logAt = (level) => function (...args) {
    emit(level, args.length === 0 ? "" : formatArgs(args));
  };

  const counts = new Map();
  const timers = new Map();
  const labelOf = (label) => (label === undefined ? "default" : `${label}`);
  const elapsed = (start) => {
    const ms = N.monotonicMs() - start;
    return ms >= 1000 ? `${(ms / 1000).toFixed(3)}s` : `${ms.toFixed(3)}ms`;
  };

  const stackHere = () => {
    const s = new Error().stack || "";
    // Drop the frames of console itself: this helper and the console method.
    return s.split("\n").slice(2).join("\n").replace(/\s+$/, "");
  };

  const console = {
    log: logAt("log"),
    info: logAt("info"),
    debug: logAt("debug"),
    warn: logAt("warn"),
    error: logAt("error"),
    trace(...args) {
      const head = "Trace" + (args.length ? ": " + formatArgs(args) : "");
      const stack = stackHere();
      emit("log", stack ? `${head}\n${stack}` : head);
    },
    assert(condition, ...args) {
      if (condition) return;
      if (args.length === 0) return emit("error", "Assertion failed");
      if (typeof args[0] === "string") args[0] = `Assertion failed: ${args[0]}`;
      else args.unshift("Assertion failed:");
      emit("error", formatArgs(args));
    },
    dir(obj, options) {
      emit("log", inspect(obj, options));
    },
    dirxml(...args) {
      emit("log", args.length === 0 ? "" : formatArgs(args));
    },
    table(data, properties) {
      if (data === null || typeof data !== "object") return emit("log", args1(data));
      emit("log", table(data, properties));
    },
    count(label) {
      label = labelOf(label);
      const n = (counts.get(label) || 0) + 1;
      counts.set(label, n);
      emit("info", `${label}: ${n}`);
    },
    countReset(label) {
      label = labelOf(label);
      if (!counts.has(label)) return emit("warn", `Count for '${label}' does not exist`);
      counts.set(label, 0);
    },
    time(label) {
      label = labelOf(label);
      if (timers.has(label)) return emit("warn", `Timer '${label}' already exists`);
      timers.set(label, N.monotonicMs());
    },
    timeLog(label, ...data) {
      label = labelOf(label);
      if (!timers.has(label)) return emit("warn", `Timer '${label}' does not exist`);
      const extra = data.length ? " " + formatArgs(data) : "";
      emit("info", `${label}: ${elapsed(timers.get(label))}${extra}`);
    },
    timeEnd(label) {
      label = labelOf(label);
      if (!timers.has(label)) return emit("warn", `Timer '${label}' does not exist`);
      emit("info", `${label}: ${elapsed(timers.get(label))}`);
      timers.delete(label);
    },
    group(...label) {
      if (label.length) emit("log", formatArgs(label));
      groupIndent += "  ";
    },
    groupCollapsed(...label) {
      if (label.length) emit("log", formatArgs(label));
      groupIndent += "  ";
    },
    groupEnd() {
      groupIndent = groupIndent.slice(0, -2);
    },
  };
  const args1 = (v) => (typeof v === "string" ? v : inspect(v));

  // console.table: Node's box layout, one row per own key (or index).
  const table = (data, properties) => {
    const rowKeys = [];
    const rows = [];
    const cols = [];
    const colSet = new Set();
    const valuesCol = [];
    let hasValues = false;
    const entries = isMap(data) ? Array.from(Map.prototype.entries.call(data))
      : isSet(data) ? Array.from(Set.prototype.values.call(data)).map((v, i) => [i, v])
      : Object.keys(data).map((k) => [k, data[k]]);
    for (const [k, row] of entries) {
      rowKeys.push(typeof k === "string" ? k : inspect(k));
      const cells = {};
      if (row !== null && (typeof row === "object" || typeof row === "function")) {
        for (const c of properties || Object.keys(row)) {
          if (!colSet.has(c)) {
            colSet.add(c);
            cols.push(c);
          }
          if (hasOwn(row, c)) cells[c] = inspect(row[c], { depth: 0 });
        }
        valuesCol.push("");
      } else {
        hasValues = true;
        valuesCol.push(inspect(row));
      }
      rows.push(cells);
    }
    const header = ["(index)", ...cols, ...(hasValues ? ["Values"] : [])];
    const body = rows.map((cells, i) => [rowKeys[i], ...cols.map((c) => cells[c] ?? ""), ...(hasValues ? [valuesCol[i]] : [])]);
    const widths = header.map((h, j) => Math.max(h.length, ...body.map((r) => r[j].length)) + 2);
    const pad = (s, w) => " " + s + " ".repeat(w - s.length - 1);
    const line = (l, m, r) => l + widths.map((w) => "─".repeat(w)).join(m) + r;
    const rowText = (cells) => "│" + cells.map((c, j) => pad(c, widths[j])).join("│") + "│";
    return [line("┌", "┬", "┐"), rowText(header), line("├", "┼", "┤"), ...body.map(rowText), line("└", "┴", "┘")].join("\n");
  };

  for (const k of Object.keys(console)) {
    Object.defineProperty(console, k, { value: console[k], writable: true, configurable: true, enumerable: true });
  }
  Object.defineProperty(console, Symbol.toStringTag, { value: "console", configurable: true });
  Object.defineProperty(globalThis, "console", { value: console, writable: true, configurable: true, enumerable: false });

  // Errors nobody caught (listeners, queueMicrotask): reported like Node does.
  N.reportError = (e) => emit("error", "Uncaught " + (typeof e === "string" ? e : inspect(e)));
  N.inspect = inspect;
  N.format = formatArgs;
})();
