package scraper

// The JavaScript that reads the work-order list. jsList waits for the list to be loaded and
// reads the rows not read before; jsListAct clicks list.next, scrolls, or chooses a page size.
// Rows already read are remembered by element and text in a per-document WeakMap
// (window.__wtList), so that "Load more" (rows appended below those read) and "Next" (rows
// replaced) are read the same way, and the page is never marked.

// jsNetWatch is installed in every document of the list tab before its own scripts run. It
// counts the page's fetch and XMLHttpRequest calls in flight (until their bodies arrived) and
// the time of the last start or end of one, so that a list is not read while its rows are still
// being fetched, whatever the portal's speed. A request open for more than 15 s is taken for
// long polling and no longer counts.
const jsNetWatch = `(() => {
  if (window.__wtNet) return;
  // A request open longer than this is taken for long polling and stops counting.
  const longPoll = 15000;
  const open = new Map();
  let seq = 0;
  const n = {
    last: 0,
    get pending() {
      const old = Date.now() - longPoll;
      let c = 0;
      for (const t of open.values()) if (t > old) c++;
      return c;
    },
  };
  Object.defineProperty(window, "__wtNet", { value: n });
  const start = () => {
    const id = ++seq;
    n.last = Date.now();
    open.set(id, n.last);
    return () => {
      open.delete(id);
      n.last = Date.now();
    };
  };
  const f = window.fetch;
  if (f) {
    window.fetch = function () {
      const done = start();
      let p;
      try { p = f.apply(this, arguments); } catch (e) { done(); throw e; }
      // A request ends when its body has arrived, not its headers: read a copy of it.
      p.then((r) => {
        let c = null;
        try { c = r.clone(); } catch (e) { done(); return; }
        c.arrayBuffer().then(done, done);
      }, done);
      return p;
    };
  }
  const X = window.XMLHttpRequest;
  if (X) {
    const send = X.prototype.send;
    X.prototype.send = function () {
      const done = start();
      this.addEventListener("loadend", done, { once: true });
      try { return send.apply(this, arguments); } catch (e) { done(); throw e; }
    };
  }
})()`

// jsListCommon are the helpers jsList and jsListAct share: the per-document state, and
// "shown", the first element matching a selector that a person can see (markers and controls
// count only while visible).
const jsListCommon = `
  const st = window.__wtList || (window.__wtList = { read: new WeakMap(), before: new WeakSet(), leaving: false });
  if (!st.hooked) {
    st.hooked = true;
    window.addEventListener("beforeunload", () => { st.leaving = true; });
  }
  const all = (x) => (x ? Array.from(document.querySelectorAll(x)) : []);
  const visible = (e) => {
    if (!e.isConnected) return false;
    // Style alone decides (no layout is forced: polling a long list must stay cheap).
    if (e.checkVisibility) return e.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true, opacityProperty: true, visibilityProperty: true });
    return e.getClientRects().length > 0;
  };
  const shown = (x) => {
    for (const e of all(x)) if (visible(e)) return e;
    return null;
  };
`

// jsList waits, up to timeout ms, until the list page holds still and answers what it shows.
// Holding still means: the document loaded, no fetch or XMLHttpRequest of the page in flight
// (their bodies included), the loading marker (s.loading) not visible, no navigation under way,
// and the rows, the next-page control and the markers unchanged for s.settle ms. A missing
// next-page control must also have held for s.nextSettle ms (portals draw pagers after rows).
// What op waits for:
//   - "peek": rows, not loading ("rows", with their count), or the visible empty marker
//     ("empty"), holding still; nothing is read;
//   - "resize": as peek, holding still, after a page-size choice: rows that were not there when
//     it was made (s.grace ms without any counts as "the size was already in effect");
//   - "first", "more": rows not read before ("rows", each row the values of s.fields, "next":
//     whether the next-page control is visible, "appended": whether every row read before is
//     still on the page); "more" is used after list.next was clicked or the list scrolled and
//     answers "unchanged" when no unread row came within s.grace ms (rows whose text changed
//     in place count as unread);
//   - "burst", for lists that add rows below those read ("Load more", infinite scroll):
//     arg.action ("next" or "scroll") is done up to arg.steps times, each once the rows it
//     brought are there, no request is in flight and the loading marker is hidden, until the
//     control is gone, a step brings nothing within s.grace ms ("ended": "unchanged"), or
//     arg.stopAt rows (the portal's count) are shown; then, holding still, the unread rows are
//     read as for "more", with "steps": the steps done.
//
// Every op answers "http" for a document with an HTTP error status, "login" for a visible login
// form, "error" for the visible error marker, and "timeout" with what was still going on.
const jsList = `async function (s, op, timeout, arg) {
  const t0 = Date.now();
  let deadline = t0 + timeout; // for "burst", from the last step
  const text = ` + jsVisibleText + `;
` + jsListCommon + `
  const val = (e, a, ml) => {
    if (!a) return text(e, ml);
    if ((a === "href" || a === "src") && typeof e[a] === "string") return e[a];
    return e.getAttribute(a);
  };
  const extract = (roots, fields) =>
    roots.map((r) =>
      fields.map(([sel, attr, many, ml]) => {
        if (many) return Array.from(sel ? r.querySelectorAll(sel) : [r], (e) => val(e, attr, ml));
        const e = sel ? r.querySelector(sel) : r;
        return e ? val(e, attr, ml) : null;
      }));
  const out = (o) => {
    o.url = location.href;
    if (s.total) o.total = extract([document], [s.total])[0][0];
    return JSON.stringify(o);
  };
  const readRows = (rows, next, extra) => {
    const kept = st.readList ? st.readList.every((r) => r.isConnected) : false;
    const todo = rows.filter((r) => !st.read.has(r));
    const values = extract(todo, s.fields);
    for (const r of todo) st.read.set(r, r.textContent);
    st.readList = (st.readList || []).filter((r) => r.isConnected).concat(todo);
    return out(Object.assign({ state: "rows", rows: values, next: next, count: rows.length, appended: kept }, extra || {}));
  };
  // What the page showed, and since when, carries over from the last call in this document:
  // a page that already held still does not have to again.
  let key = st.key || null;
  let since = st.since || t0;
  let rechecked = false;
  // The state of "burst": "act" (ready for the next step), "wait" (a step was done) or "read".
  let phase = "act";
  let steps = 0;
  let before = 0;
  let acted = 0;
  let ended = "";
  for (;;) {
    const now = Date.now();
    const nav = performance.getEntriesByType("navigation")[0];
    const status = (nav && nav.responseStatus) || 0;
    if (status >= 400) return out({ state: "http", status: status });
    if (shown(s.login)) return out({ state: "login" });
    const err = shown(s.error);
    if (err) return out({ state: "error", text: text(err, false).replace(/\s+/g, " ").trim() });
    const rows = all(s.rows);
    let unread = 0;
    let fresh = 0;
    for (const r of rows) {
      if (!st.read.has(r)) unread++;
      if (!st.before.has(r)) fresh++;
    }
    const nextEl = s.next ? shown(s.next) : null;
    const next = !!nextEl;
    const empty = rows.length === 0 && !!shown(s.empty);
    const loading = !!shown(s.loading);
    const net = window.__wtNet || { pending: 0, last: 0 };
    const k = [rows.length, unread, fresh, next, empty, loading, net.pending, document.readyState, st.leaving].join("/");
    if (k !== key) {
      key = k;
      since = now;
    }
    st.key = key;
    st.since = since;
    const quiet = Math.min(now - since, now - net.last);
    const idle = !loading && net.pending === 0 && document.readyState === "complete" && !st.leaving;
    const still = idle && quiet >= s.settle;
    if (op === "burst" && phase !== "read") {
      if (phase === "wait") {
        if (rows.length > before && idle && quiet >= s.stepSettle) {
          phase = "act";
        } else if (rows.length <= before && idle && now - acted >= s.grace) {
          phase = "read";
          ended = "unchanged";
        }
      }
      if (phase === "act") {
        if (steps >= arg.steps) {
          phase = "read";
        } else if (arg.stopAt > 0 && rows.length >= arg.stopAt) {
          phase = "read";
          ended = "total";
        } else if (arg.action === "scroll") {
          const last = rows[rows.length - 1];
          if (last) last.scrollIntoView({ block: "start" });
          for (let e = last ? last.parentElement : null; e; e = e.parentElement) {
            if (e.scrollHeight > e.clientHeight + 1 && /(auto|scroll)/.test(getComputedStyle(e).overflowY)) e.scrollTop = e.scrollHeight;
          }
          window.scrollTo(0, (document.scrollingElement || document.documentElement).scrollHeight);
          window.dispatchEvent(new Event("scroll"));
          steps++;
          before = rows.length;
          acted = now;
          deadline = now + timeout;
          phase = "wait";
        } else if (nextEl && idle) {
          nextEl.click();
          steps++;
          before = rows.length;
          acted = now;
          deadline = now + timeout;
          phase = "wait";
        } else if (!next && idle && now - since >= s.nextSettle) {
          phase = "read";
          ended = "next";
        }
      }
    }
    if (op === "burst" && phase !== "read") {
      // Stepping: nothing is read until the steps are done.
    } else if (still || (op === "peek" && rows.length > 0 && idle)) {
      if (op === "peek" || op === "resize") {
        if (op === "peek" || fresh > 0 || now - t0 >= s.grace) {
          if (rows.length > 0) return out({ state: "rows", count: rows.length });
          if (empty) return out({ state: "empty" });
        }
      } else if (unread > 0) {
        if (next || !s.next || now - since >= s.nextSettle) return readRows(rows, next, op === "burst" ? { steps: steps, ended: ended } : null);
      } else if (op === "burst") {
        return out({ state: "unchanged", next: next, count: rows.length, steps: steps, ended: ended });
      } else if (op === "first" && empty) {
        return out({ state: "empty" });
      } else if (op === "more" && now - t0 >= s.grace) {
        if (!rechecked) {
          // Rows redrawn in place (the same elements, other orders) are unread too.
          rechecked = true;
          let changed = 0;
          for (const r of rows) {
            if (st.read.get(r) !== r.textContent) {
              st.read.delete(r);
              changed++;
            }
          }
          if (changed > 0) continue;
        }
        if (rows.length === 0 && empty) return out({ state: "empty" });
        return out({ state: "unchanged", next: next, count: rows.length });
      }
    }
    if (now > deadline) {
      return out({ state: "timeout", readyState: document.readyState, loading: loading, pending: net.pending,
        count: rows.length, unread: unread, moving: !still && rows.length > 0, steps: steps });
    }
    await new Promise((r) => setTimeout(r, op === "burst" ? 5 : 15));
  }
}`

// jsListAct acts on the list page and answers {"found": bool, "changed": bool, "missing":
// bool} at once (a click that navigates must not be repeated, so no waiting happens here,
// except for "click", which first waits up to timeout ms for its control to be visible):
//   - "next": clicks the visible next-page control s.next;
//   - "scroll": scrolls the last row and the page (and any scrolled box around the rows) to
//     the end, as a person does to make an infinite list load more;
//   - "size": notes the rows shown (for jsList's "resize") and chooses value in the page-size
//     <select> s.pageSize ("changed" when it was another value, "missing" when no option has
//     it);
//   - "click": notes the rows shown and clicks the control value once it is visible.
const jsListAct = `async function (s, action, value, timeout) {
` + jsListCommon + `
  const note = () => {
    st.before = new WeakSet(all(s.rows));
  };
  const res = (found, changed, missing) => JSON.stringify({ found: found, changed: changed, missing: !!missing });
  if (action === "next") {
    const n = shown(s.next);
    if (!n) return res(false, false);
    n.click();
    return res(true, true);
  }
  if (action === "scroll") {
    const rows = all(s.rows);
    const last = rows[rows.length - 1];
    if (!last) return res(false, false);
    last.scrollIntoView({ block: "start" });
    for (let e = last.parentElement; e; e = e.parentElement) {
      if (e.scrollHeight > e.clientHeight + 1 && /(auto|scroll)/.test(getComputedStyle(e).overflowY)) e.scrollTop = e.scrollHeight;
    }
    const se = document.scrollingElement || document.documentElement;
    window.scrollTo(0, se.scrollHeight);
    window.dispatchEvent(new Event("scroll"));
    return res(true, true);
  }
  if (action === "size") {
    const sel = document.querySelector(s.pageSize);
    if (!sel) return res(false, false);
    if (sel.value === value) return res(true, false);
    if (!Array.from(sel.options || []).some((o) => o.value === value)) return res(true, false, true);
    note();
    const d = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(sel), "value");
    if (d && d.set) d.set.call(sel, value); else sel.value = value;
    sel.dispatchEvent(new Event("input", { bubbles: true }));
    sel.dispatchEvent(new Event("change", { bubbles: true }));
    return res(true, true);
  }
  const deadline = Date.now() + timeout;
  for (;;) {
    const c = shown(value);
    if (c) {
      note();
      c.click();
      return res(true, true);
    }
    if (Date.now() > deadline) return res(false, false);
    await new Promise((r) => setTimeout(r, 15));
  }
}`
