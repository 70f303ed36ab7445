// URLPattern (WHATWG URL Pattern, as workerd has it): a pattern per URL component
// (protocol, username, password, hostname, port, pathname, search, hash), each
// compiled to a RegExp. Pattern syntax: literal text, `:name` (one segment),
// `(regexp)`, `*` (anything), `{...}` groups, the modifiers `?`, `+`, `*`, and
// `\` escapes. Input URLs are parsed by the URL class (30_url.js).
//
// Simplifications against the standard, none of which changes what the common
// patterns match: literal text is canonicalized by percent-encoding non-ASCII in
// pathname, search and hash and lowercasing protocol and hostname (no IDNA), and
// the constructor string parser splits components by the standard's rules for
// `://`, `@`, `:port`, `/`, `?` and `#` outside groups.
(() => {
  "use strict";
  const COMPONENTS = ["protocol", "username", "password", "hostname", "port", "pathname", "search", "hash"];
  const SPECIAL = { "ftp": "21", "file": "", "http": "80", "https": "443", "ws": "80", "wss": "443" };
  const idStart = /[$_\p{ID_Start}]/u, idPart = /[$_\u200c\u200d\p{ID_Continue}]/u;
  const bad = (msg) => new TypeError(`Invalid URLPattern: ${msg}`);

  // ---- tokenizer (shared by the constructor string and the pattern parsers) ----
  const tokenize = (s) => {
    const toks = [];
    let i = 0;
    while (i < s.length) {
      const c = s[i];
      if (c === "\\") {
        if (i + 1 >= s.length) throw bad(`trailing backslash in '${s}'`);
        toks.push({ type: "escaped", value: s[i + 1], start: i, end: i + 2 }); i += 2;
      } else if (c === ":" && i + 1 < s.length && idStart.test(s[i + 1])) {
        let j = i + 2;
        while (j < s.length && idPart.test(s[j])) j++;
        toks.push({ type: "name", value: s.slice(i + 1, j), start: i, end: j }); i = j;
      } else if (c === "(") {
        let depth = 1, j = i + 1, re = "";
        while (j < s.length && depth) {
          const d = s[j];
          if (d === "\\") { re += s.slice(j, j + 2); j += 2; continue; }
          if (d === "(") { depth++; if (s[j + 1] !== "?") throw bad(`capturing groups are not allowed inside a regexp group in '${s}'`); }
          else if (d === ")" && --depth === 0) break;
          re += d; j++;
        }
        if (depth) throw bad(`unbalanced '(' in '${s}'`);
        if (!re) throw bad(`empty regexp group in '${s}'`);
        toks.push({ type: "regexp", value: re, start: i, end: j + 1 }); i = j + 1;
      } else {
        const prev = toks[toks.length - 1];
        let type = "char";
        if (c === "*") type = "asterisk";
        else if (c === "{") type = "open";
        else if (c === "}") type = "close";
        if ((c === "?" || c === "+" || (c === "*" && prev)) && prev && ["name", "regexp", "close", "asterisk"].includes(prev.type) && !prev.modified) {
          type = "modifier"; prev.modified = true;
        }
        toks.push({ type, value: c, start: i, end: i + 1 }); i++;
      }
    }
    return toks;
  };

  // ---- the constructor string: components out of "https://host/path?q#h" ----
  const parseConstructorString = (s) => {
    const toks = tokenize(s);
    const out = {};
    let depth = 0;
    const at = (k, ch) => toks[k] && depth === 0 && (toks[k].type === "char" || (ch === "*" ? false : false)) && toks[k].value === ch;
    const slice = (a, b) => s.slice(a < toks.length ? toks[a].start : s.length, b < toks.length ? toks[b].start : s.length);
    let k = 0;
    // protocol
    let p = -1;
    for (let q = 0; q < toks.length; q++) {
      const t = toks[q];
      if (t.type === "open") depth++; else if (t.type === "close") depth--;
      else if (depth === 0 && t.type === "char" && t.value === ":") { p = q; break; }
      else if (depth === 0 && t.type === "char" && "/?#".includes(t.value)) break;
    }
    depth = 0;
    let authority = false;
    if (p >= 0) {
      out.protocol = slice(0, p);
      k = p + 1;
      if (at(k, "/") && at(k + 1, "/")) { authority = true; k += 2; }
    } else if (!(toks[0] && toks[0].value === "/") && s !== "") {
      // Neither absolute nor path-absolute: the standard treats it as a relative
      // pathname, which needs a base URL.
    }
    const scanTo = (stops) => {
      const from = k;
      for (; k < toks.length; k++) {
        const t = toks[k];
        if (t.type === "open") depth++; else if (t.type === "close") depth--;
        else if (depth === 0 && t.type === "char" && stops.includes(t.value)) break;
      }
      return slice(from, k);
    };
    if (authority) {
      const authStart = k;
      const auth = scanTo("/?#");
      const authEnd = k;
      // userinfo: up to the last '@' at depth 0
      let atIdx = -1;
      depth = 0;
      for (let q = authStart; q < authEnd; q++) {
        const t = toks[q];
        if (t.type === "open") depth++; else if (t.type === "close") depth--;
        else if (depth === 0 && t.type === "char" && t.value === "@") atIdx = q;
      }
      depth = 0;
      let hostStart = authStart;
      if (atIdx >= 0) {
        let colon = -1;
        for (let q = authStart; q < atIdx; q++) if (toks[q].type === "char" && toks[q].value === ":") { colon = q; break; }
        out.username = slice(authStart, colon >= 0 ? colon : atIdx);
        if (colon >= 0) out.password = slice(colon + 1, atIdx);
        hostStart = atIdx + 1;
      }
      let colon = -1, bracket = 0;
      for (let q = hostStart; q < authEnd; q++) {
        const t = toks[q];
        if (t.type === "open") depth++; else if (t.type === "close") depth--;
        else if (t.type === "char" && t.value === "[") bracket++;
        else if (t.type === "char" && t.value === "]") bracket--;
        else if (depth === 0 && !bracket && t.type === "char" && t.value === ":") colon = q;
      }
      depth = 0;
      out.hostname = slice(hostStart, colon >= 0 ? colon : authEnd);
      out.port = colon >= 0 ? slice(colon + 1, authEnd) : "";
      void auth;
    }
    if (k < toks.length && !(toks[k].type === "char" && "?#".includes(toks[k].value)) || (authority && k >= toks.length) || p < 0) {
      const path = scanTo("?#");
      out.pathname = path === "" && authority && out.protocol !== undefined && out.protocol in SPECIAL ? "/" : path;
      if (p >= 0 && !authority && path === "" && k >= toks.length) delete out.pathname;
    }
    if (k < toks.length && toks[k].value === "?") {
      k++;
      out.search = scanTo("#");
    } else if (out.pathname !== undefined && k < toks.length) out.search = "";
    if (k < toks.length && toks[k].value === "#") {
      k++;
      out.hash = slice(k, toks.length);
    }
    return out;
  };

  // ---- canonicalizing literal text ----
  const pct = (s, keep) => {
    let r = "";
    for (const ch of s) {
      if (ch.codePointAt(0) < 0x80 && keep.test(ch)) r += ch;
      else for (const b of new TextEncoder().encode(ch)) r += "%" + b.toString(16).toUpperCase().padStart(2, "0");
    }
    return r;
  };
  const canon = {
    protocol: (s) => s.toLowerCase(),
    username: (s) => pct(s, /[^ "#<>?`{}/:;=@[\\\]^|]/),
    password: (s) => pct(s, /[^ "#<>?`{}/:;=@[\\\]^|]/),
    hostname: (s) => s.toLowerCase(),
    port: (s) => s,
    pathname: (s) => pct(s, /[^ "#<>?`{}]/),
    search: (s) => pct(s, /[^ "#<>']/),
    hash: (s) => pct(s, /[^ "<>`]/),
  };
  const escapeRe = (s) => s.replace(/[.+*?^${}()[\]|/\\]/g, "\\$&");
  const escapePattern = (s) => s.replace(/[+*?:{}()\\]/g, "\\$&");

  // ---- a component's pattern string -> { re, names } ----
  const compile = (component, pattern, ignoreCase) => {
    const toks = tokenize(pattern);
    const segment = component === "pathname" ? "[^/]+?" : component === "hostname" ? "[^.]+?" : ".+?";
    const prefixChar = component === "pathname" ? "/" : "";
    const names = [];
    let anon = 0;
    let src = "";
    const canonLit = (s) => escapeRe(canon[component](s));
    const part = (tok, prefix, suffix, mod) => {
      let inner;
      if (tok.type === "name") { inner = segment; names.push(tok.value); }
      else if (tok.type === "regexp") { inner = tok.value; names.push(anon++); }
      else { inner = ".*"; names.push(anon++); }
      if (tok.next && tok.next.type === "regexp" && tok.type === "name") { /* handled by caller */ }
      const pre = canonLit(prefix), suf = canonLit(suffix);
      if (!mod) return `${pre}(${inner})${suf}`;
      if (mod === "?") return `(?:${pre}(${inner})${suf})?`;
      if (!pre && !suf) return mod === "+" ? `((?:${inner})+)` : `((?:${inner})*)`;
      const rep = `(?:${pre}((?:${inner})(?:${suf}${pre}(?:${inner}))*)${suf})`;
      return mod === "+" ? rep : `${rep}?`;
    };
    let lit = "";
    const flush = () => { src += canonLit(lit); lit = ""; };
    for (let i = 0; i < toks.length; i++) {
      const t = toks[i];
      if (t.type === "char" || t.type === "escaped") { lit += t.value; continue; }
      if (t.type === "modifier") throw bad(`misplaced modifier '${t.value}' in '${pattern}'`);
      if (t.type === "close") throw bad(`unbalanced '}' in '${pattern}'`);
      if (t.type === "open") {
        flush();
        let prefix = "", suffix = "", j = i + 1, core = null;
        while (j < toks.length && toks[j].type !== "close") {
          const u = toks[j];
          if (u.type === "char" || u.type === "escaped") { if (core) suffix += u.value; else prefix += u.value; }
          else if (u.type === "open") throw bad(`nested '{' in '${pattern}'`);
          else if (u.type === "modifier") throw bad(`misplaced modifier in '${pattern}'`);
          else {
            if (core) throw bad(`more than one group inside '{}' in '${pattern}'`);
            core = u;
            if (u.type === "name" && toks[j + 1] && toks[j + 1].type === "regexp") { core = { ...toks[j + 1], type: "regexp", name: u.value }; j++; }
          }
          j++;
        }
        if (j >= toks.length) throw bad(`unbalanced '{' in '${pattern}'`);
        const mod = toks[j + 1] && toks[j + 1].type === "modifier" ? toks[j + 1].value : "";
        if (!core) {
          const text = canonLit(prefix);
          src += mod === "?" ? `(?:${text})?` : mod === "+" ? `(?:${text})+` : mod === "*" ? `(?:${text})*` : text;
        } else {
          const before = names.length;
          src += part(core, prefix, suffix, mod);
          if (core.name !== undefined) { names[before] = core.name; anon--; }
        }
        i = mod ? j + 1 : j;
        continue;
      }
      // name, regexp or asterisk, maybe `:name(regexp)`, maybe followed by a modifier
      let core = t, k = i;
      if (t.type === "name" && toks[i + 1] && toks[i + 1].type === "regexp") { core = { ...toks[i + 1], name: t.value }; k = i + 1; }
      if (t.type === "name" && toks[i + 1] && toks[i + 1].type === "asterisk" && !toks[i + 1].modified) { /* ':name*' is a modifier, handled below */ }
      const mod = toks[k + 1] && toks[k + 1].type === "modifier" ? toks[k + 1].value : "";
      let prefix = "";
      if (prefixChar && lit.endsWith(prefixChar)) { prefix = prefixChar; lit = lit.slice(0, -1); }
      flush();
      const before = names.length;
      src += part(core, prefix, "", mod);
      if (core.name !== undefined) { names[before] = core.name; anon--; }
      i = mod ? k + 1 : k;
    }
    flush();
    const seen = new Set();
    for (const n of names) {
      if (typeof n === "string") { if (seen.has(n)) throw bad(`duplicate group name '${n}' in '${pattern}'`); seen.add(n); }
    }
    let re;
    try { re = new RegExp(`^${src}$`, ignoreCase ? "ui" : "u"); } catch (e) { throw bad(`'${pattern}' is not a valid pattern (${e.message})`); }
    return { re, names, hasRegExp: toks.some((t) => t.type === "regexp") };
  };

  // ---- URLPatternInit processing ----
  const strip = (c, v) => (c === "protocol" && v.endsWith(":") ? v.slice(0, -1) : c === "search" && v.startsWith("?") ? v.slice(1) : c === "hash" && v.startsWith("#") ? v.slice(1) : v);
  const urlParts = (u) => ({
    protocol: u.protocol.slice(0, -1), username: u.username, password: u.password, hostname: u.hostname,
    port: u.port, pathname: u.pathname, search: u.search.slice(1), hash: u.hash.slice(1),
  });
  // Fills a partial init from its baseURL by the standard's inheritance rules;
  // `asPattern` escapes inherited values (for the constructor).
  const applyBase = (init, base, asPattern) => {
    const b = urlParts(base), esc = asPattern ? escapePattern : (x) => x;
    const has = (c) => init[c] !== undefined;
    if (!has("protocol")) init.protocol = esc(b.protocol);
    if (!has("protocol") && !has("hostname") && !has("port")) {
      if (!has("username")) init.username = esc(b.username);
      if (!has("password")) init.password = esc(b.password);
    }
    const earlier = (c) => COMPONENTS.slice(0, COMPONENTS.indexOf(c)).some((x) => x !== "username" && x !== "password" && init[x] !== undefined && init.__given?.has(x));
    if (!has("hostname") && !earlier("hostname")) init.hostname = esc(b.hostname);
    if (!has("port") && !earlier("port")) init.port = esc(b.port);
    if (!has("pathname") && !earlier("pathname")) init.pathname = esc(b.pathname);
    else if (has("pathname") && !init.pathname.startsWith("/") && !earlier("pathname")) {
      const dir = b.pathname.slice(0, b.pathname.lastIndexOf("/") + 1);
      init.pathname = esc(dir) + init.pathname;
    }
    if (!has("search") && !earlier("search")) init.search = esc(b.search);
    if (!has("hash") && !earlier("hash")) init.hash = esc(b.hash);
  };
  const readInit = (input, what) => {
    const init = {};
    for (const c of [...COMPONENTS, "baseURL"]) {
      const v = input[c];
      if (v !== undefined) init[c] = strip(c, `${v}`);
    }
    init.__given = new Set(COMPONENTS.filter((c) => init[c] !== undefined));
    if (init.baseURL !== undefined) {
      let base;
      try { base = new URL(init.baseURL); } catch { throw new TypeError(`${what}: invalid baseURL '${init.baseURL}'`); }
      return [init, base];
    }
    return [init, null];
  };

  const kP = Symbol("urlpattern");
  class URLPattern {
    constructor(input = {}, baseURL = undefined, options = undefined) {
      if (typeof baseURL === "object" && baseURL !== null && options === undefined) { options = baseURL; baseURL = undefined; }
      const ignoreCase = options != null && Boolean(options.ignoreCase);
      let init, base = null;
      if (typeof input === "string") {
        init = parseConstructorString(input);
        init.__given = new Set(Object.keys(init));
        if (baseURL !== undefined) {
          try { base = new URL(`${baseURL}`); } catch { throw new TypeError(`Invalid URLPattern: invalid base URL '${baseURL}'`); }
        } else if (init.protocol === undefined) {
          throw new TypeError(`Invalid URLPattern: '${input}' is relative and no base URL was given`);
        }
      } else if (input !== null && typeof input === "object") {
        if (baseURL !== undefined) throw new TypeError("Invalid URLPattern: a base URL is only allowed with a string pattern");
        [init, base] = readInit(input, "URLPattern");
      } else {
        throw new TypeError("Failed to construct 'URLPattern': the input must be a string or a URLPatternInit object");
      }
      if (base) applyBase(init, base, true);
      const proto = init.protocol !== undefined ? init.protocol.toLowerCase() : undefined;
      if (init.port !== undefined && proto in SPECIAL && SPECIAL[proto] === init.port) init.port = "";
      const comps = {};
      for (const c of COMPONENTS) {
        const pattern = init[c] ?? "*";
        comps[c] = { pattern, ...compile(c, pattern, ignoreCase) };
      }
      this[kP] = comps;
    }
    test(input = {}, baseURL = undefined) { return this.#match(input, baseURL, "test") !== null; }
    exec(input = {}, baseURL = undefined) { return this.#match(input, baseURL, "exec"); }
    #match(input, baseURL, what) {
      if (arguments.length === 0) throw new TypeError(`Failed to execute '${what}' on 'URLPattern': 1 argument required`);
      let values;
      const inputs = baseURL === undefined ? [input] : [input, baseURL];
      if (typeof input === "string" || input instanceof URL) {
        let u;
        try { u = new URL(`${input}`, baseURL === undefined ? undefined : `${baseURL}`); } catch { return null; }
        values = urlParts(u);
      } else if (input !== null && typeof input === "object") {
        if (baseURL !== undefined) throw new TypeError(`Failed to execute '${what}' on 'URLPattern': a base URL is only allowed with a string input`);
        let init, base;
        try { [init, base] = readInit(input, what); if (base) applyBase(init, base, false); } catch { return null; }
        values = {};
        for (const c of COMPONENTS) values[c] = init[c] ?? "";
        values.protocol = values.protocol.toLowerCase();
        values.hostname = values.hostname.toLowerCase();
        if (values.protocol in SPECIAL && SPECIAL[values.protocol] === values.port) values.port = "";
        if (values.pathname) values.pathname = canon.pathname(values.pathname);
      } else {
        throw new TypeError(`Failed to execute '${what}' on 'URLPattern': the input must be a string or a URLPatternInit object`);
      }
      const result = { inputs };
      for (const c of COMPONENTS) {
        const { re, names } = this[kP][c];
        const m = re.exec(values[c]);
        if (!m) return null;
        const groups = {};
        names.forEach((n, i) => { groups[n] = m[i + 1]; });
        result[c] = { input: values[c], groups };
      }
      return result;
    }
    get hasRegExpGroups() { return COMPONENTS.some((c) => this[kP][c].hasRegExp); }
    get [Symbol.toStringTag]() { return "URLPattern"; }
  }
  for (const c of COMPONENTS) {
    Object.defineProperty(URLPattern.prototype, c, {
      get() { return this[kP][c].pattern; }, enumerable: true, configurable: true,
    });
  }
  Object.defineProperty(globalThis, "URLPattern", { value: URLPattern, writable: true, configurable: true, enumerable: false });
})();
