package scraper

// The JavaScript the scraper runs in the page. Each function is called with rod's Eval (its
// promise awaited) and returns a JSON string, so that one round trip reads a whole page. The
// list's scripts are in js_list.go, the text a person sees in text.go.

// jsWait polls the page until it reaches a state worth acting on, or spec.timeout ms pass. It
// reads all rows (or the detail fields) in the same call. Modes:
//   - "form": the login form is there (state "form");
//   - "submit": after the login form was sent: "ok" (the form gone and the success marker
//     there, when the profile has one; in a new document or, for single-page apps, the same
//     one), "login_failed";
//   - "detail": every required detail field is there ("ready"), an error marker ("error") or
//     the login form ("login").
//
// Any mode answers "http" for a document served with an HTTP error status, and "timeout" with
// the document's readyState when nothing happened in time.
const jsWait = `async function (s, timeout) {
  const deadline = Date.now() + timeout;
  const q = (x) => (x ? document.querySelector(x) : null);
  const fresh = (e) => !!e && !e.hasAttribute("data-wt-seen");
  // Markers count only while a person can see them.
  const visible = (e) => {
    if (!e || !e.isConnected) return false;
    // Style alone decides (no layout is forced: polling a long list must stay cheap).
    if (e.checkVisibility) return e.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true, opacityProperty: true, visibilityProperty: true });
    return e.getClientRects().length > 0;
  };
  const shown = (x) => (x ? Array.from(document.querySelectorAll(x)).find(visible) || null : null);
  const txt = (e) => (e && e.textContent ? e.textContent.replace(/\s+/g, " ").trim() : "");
  const text = ` + jsVisibleText + `;
  const val = (e, a, ml) => {
    if (!a) return text(e, ml);
    if ((a === "href" || a === "src") && typeof e[a] === "string") return e[a];
    return e.getAttribute(a);
  };
  const extract = (roots, fields) => {
    const res = [];
    for (const r of roots) {
      const row = [];
      for (const [sel, attr, all, ml] of fields) {
        if (all) {
          row.push(Array.from(sel ? r.querySelectorAll(sel) : [r], (e) => val(e, attr, ml)));
          continue;
        }
        const e = sel ? r.querySelector(sel) : r;
        row.push(e ? val(e, attr, ml) : null);
      }
      res.push(row);
    }
    return res;
  };
  const out = (o) => {
    o.url = location.href;
    if (s.total) o.total = extract([document], [s.total])[0][0];
    return JSON.stringify(o);
  };
  for (;;) {
    const nav = performance.getEntriesByType("navigation")[0];
    const status = (nav && nav.responseStatus) || 0;
    const form = q(s.login);
    if (s.mode === "submit") {
      const root = document.documentElement;
      const submitted = !!root && root.hasAttribute("data-wt-submitted");
      const f = shown(s.failure);
      // The marker on <html> survives only in the document the form was sent from: a
      // single-page app that swaps its view keeps it, a page load drops it.
      if (form && fresh(f)) return out({ state: "login_failed", text: txt(f) });
      if (form && !submitted && document.readyState !== "loading") return out({ state: "login_failed", text: "" });
      if (!form && !submitted && status >= 400) return out({ state: "http", status: status });
      if (!form && s.success && q(s.success)) return out({ state: "ok" });
      if (!form && !s.success && document.readyState !== "loading") return out({ state: "ok" });
    } else if (form) {
      if (s.mode === "form") {
        if (s.ready.every((r) => q(r))) return out({ state: "form" });
      } else {
        return out({ state: "login" });
      }
    } else if (status >= 400) {
      return out({ state: "http", status: status });
    } else if (s.mode === "detail") {
      const e = shown(s.error);
      if (e) return out({ state: "error", text: txt(e) });
      if (s.ready.every((r) => q(r)) && (s.ready.length > 0 || document.readyState !== "loading")) {
        return out({ state: "ready", rows: extract([document], s.fields) });
      }
    }
    if (Date.now() > deadline) {
      return out({ state: "timeout", readyState: document.readyState, loading: !!q(s.loading), status: status });
    }
    await new Promise((r) => setTimeout(r, 15));
  }
}`

// jsLogin fills in the login form and sends it. Values are set through the native setter so
// that frameworks see them. It answers {"ok": bool, "missing": "<selector>"}.
const jsLogin = `function (s, user, pass) {
  const q = (x) => document.querySelector(x);
  for (const x of [s.username, s.password, s.submit]) {
    if (!q(x)) return JSON.stringify({ ok: false, missing: x });
  }
  const set = (el, v) => {
    const d = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(el), "value");
    if (d && d.set) d.set.call(el, v); else el.value = v;
    el.dispatchEvent(new Event("input", { bubbles: true }));
    el.dispatchEvent(new Event("change", { bubbles: true }));
  };
  set(q(s.username), user);
  set(q(s.password), pass);
  if (s.failure) document.querySelectorAll(s.failure).forEach((e) => e.setAttribute("data-wt-seen", ""));
  document.documentElement.setAttribute("data-wt-submitted", "");
  q(s.submit).click();
  return JSON.stringify({ ok: true });
}`

// jsFetchDetails fetches detail pages with the page's session, a few at a time, parses them and
// reads the fields. It answers one result per URL: {status, login, error, values, scripts, url}.
const jsFetchDetails = `async function (s, urls) {
  const results = new Array(urls.length);
  let nextIndex = 0;
  const text = ` + jsVisibleText + `;
  const val = (e, a, ml) => (a ? e.getAttribute(a) : text(e, ml));
  const one = async (u) => {
    const r = await fetch(u, { credentials: "include", redirect: "follow" });
    const html = await r.text();
    const doc = new DOMParser().parseFromString(html, "text/html");
    if (s.login && doc.querySelector(s.login)) return { status: r.status, login: true };
    const err = s.error ? doc.querySelector(s.error) : null;
    if (err) return { status: r.status, error: err.textContent.replace(/\s+/g, " ").trim() };
    if (!r.ok) return { status: r.status };
    const values = s.fields.map(([sel, attr, all, ml]) => {
      if (all) return Array.from(sel ? doc.querySelectorAll(sel) : [doc.documentElement], (e) => val(e, attr, ml));
      const e = sel ? doc.querySelector(sel) : doc.documentElement;
      return e ? val(e, attr, ml) : null;
    });
    // Scripts are counted so that a page drawn by JavaScript can be told from a changed layout.
    return { status: r.status, values: values, scripts: doc.querySelectorAll("script").length, url: r.url };
  };
  const worker = async () => {
    for (;;) {
      const i = nextIndex++;
      if (i >= urls.length) return;
      try {
        results[i] = await one(urls[i]);
      } catch (e) {
        results[i] = { status: 0, error: String(e) };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(s.concurrency, urls.length) }, worker));
  return JSON.stringify(results);
}`
