package demoportal

import (
	"encoding/base64"
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
)

// classes are the class names the list page uses; Faults.ChangedLayout swaps them.
type classes struct {
	Table, Row, Number, Visit, Customer, Store, Site, Address, Street, City, State, Zip string
	Service, Items, Date, Empty, Error, Info, Next                                      string
}

var normalClasses = classes{
	Table: "orders", Row: "order", Number: "wo-number", Visit: "visit-link", Customer: "customer",
	Store: "store", Site: "site", Address: "address", Street: "street", City: "city", State: "state",
	Zip: "zip", Service: "service", Items: "items", Date: "visit-date", Empty: "empty-state",
	Error: "load-error", Info: "page-info", Next: "next-page",
}

var changedClasses = classes{
	Table: "grid", Row: "grid-row", Number: "ref", Visit: "open", Customer: "client",
	Store: "branch", Site: "location", Address: "addr", Street: "line1", City: "town", State: "region",
	Zip: "postcode", Service: "job", Items: "parts", Date: "when", Empty: "no-results",
	Error: "failure", Info: "pager", Next: "forward",
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// pixelPNG is a 1×1 transparent PNG.
var pixelPNG, _ = base64.StdEncoding.DecodeString(
	"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=")

const head = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{block "title" .}}Demo portal{{end}}</title>
<style>
@font-face { font-family: "Demo Sans"; src: url(/static/demo-sans.woff2) format("woff2"); }
body { font-family: "Demo Sans", sans-serif; margin: 0; }
header { background: #234; color: #fff; padding: 8px 16px; display: flex; gap: 12px; align-items: center; }
main { padding: 16px; }
.alert-error, .load-error, .failure { color: #a00; }
table { border-collapse: collapse; } td, th { border: 1px solid #ccc; padding: 4px 6px; vertical-align: top; }
.instructions-text { white-space: pre-line; }
</style></head><body>
<header><img src="/static/logo.png" alt="" width="24" height="24"><strong>Demo work-order portal</strong>`

const errorPageHTML = `<!doctype html><html><head><title>Server error</title></head>
<body><h1 class="server-error">500 – Internal Server Error</h1><p>Something went wrong. Please try again later.</p></body></html>`

const notFoundHTML = `<!doctype html><html><head><title>Not found</title></head>
<body><h1 class="not-found">404 – Work order not found</h1></body></html>`

var loginTmpl = template.Must(template.New("login").Parse(head + `</header>
<main>
<h1>Sign in</h1>
{{with .Error}}<div class="alert alert-error" role="alert">{{.}}</div>{{end}}
<form id="login" method="post" action="/login">
<input type="hidden" name="csrf_token" value="{{.CSRF}}">
<input type="hidden" name="next" value="{{.Next}}">
<p><label>Email <input type="email" name="email" autocomplete="username" value="{{.Email}}" required></label></p>
<p><label>Password <input type="password" name="password" autocomplete="current-password" required></label></p>
<p><button type="submit">Sign in</button></p>
</form>
</main></body></html>`))

var detailTmpl = template.Must(template.New("detail").Parse(head + `<a href="/orders">Work orders</a> <a href="/logout">Sign out</a></header>
<main class="order-detail" data-id="{{.O.ID}}">
<h1 class="order-title">{{.O.Number}}</h1>
<dl>
<dt>Customer</dt><dd class="customer">{{.O.Customer}}</dd>
<dt>Site</dt><dd class="site">{{.O.SiteName}}, {{.O.Street}}, {{.O.City}}, {{.O.State}} {{.O.Zip}}</dd>
<dt>Service</dt><dd class="service">{{.O.ServiceCode}} {{.O.ServiceName}}</dd>
<dt>Visit</dt><dd class="visit">{{.Visit}}</dd>
</dl>
<section class="instructions"><h2>Instructions</h2>
<div class="instructions-text">{{.Instructions}}</div></section>
<audio src="/static/chime.mp3" preload="auto"></audio>
</main></body></html>`))

var listTmpl = template.Must(template.New("list").Parse(head + `<span class="user">{{.User}}</span> <a href="/logout">Sign out</a></header>
<main>
<h1>Open work orders</h1>
<div class="toolbar"></div>
<div id="list"><p class="loading">Loading work orders…</p>{{if .Modes.HiddenEmpty}}<p class="{{.C.Empty}}" hidden>No open work orders. You're all caught up.</p>{{end}}</div>
<div class="more"></div>
</main>
<script>
(function () {
  "use strict";
  const C = {{.C}};
  // M are the list modes (listmodes.go): the shape, the page-size control and other habits.
  const M = {{.Modes}};
  const pagerDelay = {{.PagerDelay}};
  const paged = M.shape === "" || M.shape === "numbered";
  const q = new URLSearchParams(location.search);
  let page = Math.max(1, parseInt(q.get("page"), 10) || 1);
  let size = [25, 50, 100].includes(parseInt(q.get("size"), 10)) ? parseInt(q.get("size"), 10) : 25;
  let shown = 0; // rows drawn, for load-more and scroll
  const list = document.getElementById("list");
  const toolbar = document.querySelector(".toolbar");
  const more = document.querySelector(".more");

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // The toolbar: the page-size control, the page info and the pager of the shape.
  const sizeOptions = (s) => [25, 50, 100].map((n) => "<option" + (n === size ? " selected" : "") + ">" + n + "</option>").join("");
  if (paged && M.pageSize === "") {
    toolbar.insertAdjacentHTML("beforeend", '<label>Rows per page <select id="page-size">' + sizeOptions() + "</select></label> ");
    const sel = document.getElementById("page-size");
    sel.addEventListener("change", () => { size = parseInt(sel.value, 10); page = 1; load(); });
  } else if (paged && M.pageSize === "links") {
    toolbar.insertAdjacentHTML("beforeend", '<span class="size-dropdown"><button type="button" class="size-toggle">' + size +
      ' per page ▾</button><ul class="size-menu" hidden>' +
      [25, 50, 100].map((n) => '<li><a href="#" data-size="' + n + '">' + n + "</a></li>").join("") + "</ul></span> ");
    const menu = toolbar.querySelector(".size-menu");
    toolbar.querySelector(".size-toggle").addEventListener("click", () => {
      setTimeout(() => { menu.hidden = !menu.hidden; }, 120); // the drop-down's animation
    });
    menu.addEventListener("click", (ev) => {
      const a = ev.target.closest("a[data-size]");
      if (!a) return;
      ev.preventDefault();
      menu.hidden = true;
      size = parseInt(a.dataset.size, 10);
      toolbar.querySelector(".size-toggle").textContent = size + " per page ▾";
      page = 1;
      load();
    });
  } else if (paged && M.pageSize === "form") {
    toolbar.insertAdjacentHTML("beforeend", '<form class="size-form" method="get" action="/orders"><label>Rows per page <select name="size">' +
      sizeOptions() + '</select></label> <button type="submit">Apply</button></form> ');
  }
  const info = el("span", C.Info);
  toolbar.append(info, " ");
  let next = null;
  if (M.shape === "") {
    next = el("button", C.Next, "Next");
    next.type = "button";
    next.disabled = true;
    next.addEventListener("click", () => { page++; load(); });
    toolbar.append(next);
  }
  const pager = el("nav", "pager");
  if (M.shape === "numbered") toolbar.append(pager);

  async function get(offset, limit, burst) {
    const r = await fetch("/api/orders?offset=" + offset + "&limit=" + limit + (burst ? "&burst=1" : ""), { credentials: "same-origin" });
    if (r.status === 401) {
      location.href = "/login?next=" + encodeURIComponent(location.pathname + location.search);
      return new Promise(() => {});
    }
    if (!r.ok) throw new Error("HTTP " + r.status);
    return r.json();
  }

  // fetchRows asks for limit rows at offset, in M.bursts requests one after the other, and
  // calls each(orders, total, first) as each arrives.
  async function fetchRows(offset, limit, each) {
    const n = Math.max(1, M.bursts);
    const chunk = Math.ceil(limit / n);
    let total = 0;
    for (let i = 0; i < n; i++) {
      const d = await get(offset + i * chunk, Math.min(chunk, 100), n > 1);
      total = d.total;
      const rows = d.orders.slice(0, Math.max(0, limit - i * chunk));
      each(rows, total, i === 0);
      if (offset + i * chunk + rows.length >= total) break;
    }
    return total;
  }

  function rowOf(o) {
    const tr = el("tr", C.Row);
    tr.dataset.id = o.id;
    let customer = el("td", C.Customer, o.customer);
    let site = el("td", C.Site, o.site_name);
    if (M.richText) {
      // What a person reads as "Northwind Markets" on two lines, and "Springfield" above "Plaza".
      const c = o.customer.indexOf(" ");
      if (c > 0) {
        customer = el("td", C.Customer);
        customer.append(el("div", "", o.customer.slice(0, c)), el("div", "", o.customer.slice(c + 1)));
      }
      const s = o.site_name.lastIndexOf(" ");
      if (s > 0) {
        site = el("td", C.Site);
        site.append(o.site_name.slice(0, s), el("br"), o.site_name.slice(s + 1));
      }
    }
    tr.append(el("td", C.Number, o.number), customer,
      el("td", C.Store, "Store #" + o.store_number), site);
    const addr = el("td", C.Address);
    addr.append(el("span", C.Street, o.street), el("br"), el("span", C.City, o.city), ", ",
      el("span", C.State, o.state), " ", el("span", C.Zip, o.zip));
    tr.append(addr, el("td", C.Service, o.service_code + " · " + o.service_name));
    const items = el("td", C.Items);
    const ul = el("ul");
    for (const it of o.items) ul.append(el("li", "", it));
    items.append(ul);
    const visit = el("td");
    const a = el("a", C.Visit, "Open visit");
    a.href = o.url;
    visit.append(a, " ", el("time", C.Date, o.visit_display));
    tr.append(items, visit);
    return tr;
  }

  function table() {
    const t = el("table", C.Table);
    t.innerHTML = "<thead><tr><th>Work order</th><th>Customer</th><th>Store</th><th>Site</th>" +
      "<th>Address</th><th>Service</th><th>Items</th><th>Visit</th></tr></thead>";
    t.append(el("tbody"));
    return t;
  }

  function showEmpty() {
    const e = list.querySelector("." + C.Empty);
    if (e) {
      list.querySelectorAll(".loading").forEach((x) => x.remove());
      e.hidden = false;
    } else {
      list.replaceChildren(el("p", C.Empty, "No open work orders. You're all caught up."));
    }
  }

  function failed(e) {
    list.replaceChildren(el("p", C.Error, "Could not load work orders (" + e.message + "). Please try again later."));
  }

  function drawPager(total) {
    const pages = Math.max(1, Math.ceil(total / size));
    const draw = () => {
      info.textContent = "Page " + page + " of " + pages + " · " + total + " work orders";
      if (next) next.disabled = page >= pages;
      if (M.shape === "numbered") {
        pager.replaceChildren();
        for (let i = 1; i <= pages; i++) {
          const a = el("a", "page-link", String(i));
          a.href = "#";
          if (i === page) a.setAttribute("aria-current", "page");
          a.addEventListener("click", (ev) => { ev.preventDefault(); page = i; load(); });
          pager.append(a, " ");
        }
        // "›" never becomes disabled: on the last page it draws that page again.
        const n = el("a", "next-link", "›");
        n.href = "#";
        n.addEventListener("click", (ev) => { ev.preventDefault(); page = Math.min(page + 1, pages); load(); });
        pager.append(n);
      }
    };
    if (pagerDelay > 0) setTimeout(draw, pagerDelay); else draw();
  }

  // load draws page "page" of "size" rows in place of the rows shown (shapes pages, numbered).
  function load() {
    if (next) next.disabled = true;
    const hidden = list.querySelector("." + C.Empty);
    list.replaceChildren(el("p", "loading", "Loading work orders…"));
    if (hidden && hidden.hidden) list.append(hidden);
    history.replaceState(null, "", "?page=" + page + "&size=" + size);
    let body = null;
    fetchRows((page - 1) * size, size, (orders, total, first) => {
      if (first) drawPager(total);
      if (total === 0) {
        showEmpty();
        return;
      }
      if (!body) {
        const t = table();
        body = t.tBodies[0];
        list.querySelectorAll(".loading").forEach((x) => x.remove());
        list.prepend(t);
      }
      for (const o of orders) body.append(rowOf(o));
    }).catch(failed);
  }

  // loadMore adds M.step rows below those shown (shapes load-more, scroll).
  let busy = false;
  let total = -1;
  const button = el("button", "load-more", "Load more");
  button.type = "button";
  button.hidden = true;
  const sentinel = el("div", "sentinel");
  if (M.shape === "load-more") {
    more.append(button);
    button.addEventListener("click", () => loadMore());
  }
  function loadMore() {
    if (busy || (total >= 0 && shown >= total)) return;
    busy = true;
    button.hidden = true;
    const spinner = el("p", "loading", "Loading more work orders…");
    if (shown > 0) more.append(spinner);
    let body = list.querySelector("tbody");
    fetchRows(shown, M.step, (orders, t) => {
      total = t;
      if (total === 0) {
        showEmpty();
        return;
      }
      if (!body) {
        const tb = table();
        body = tb.tBodies[0];
        list.querySelectorAll(".loading").forEach((x) => x.remove());
        list.prepend(tb);
        if (M.shape === "scroll") list.after(sentinel);
      }
      for (const o of orders) body.append(rowOf(o));
      shown += orders.length;
    }).then(() => {
      spinner.remove();
      busy = false;
      info.textContent = "Showing " + shown + " of " + total + " work orders";
      button.hidden = shown >= total;
      if (M.shape === "scroll" && shown < total) observer.observe(sentinel);
    }).catch((e) => { spinner.remove(); busy = false; failed(e); });
  }
  const observer = new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting)) {
      observer.unobserve(sentinel);
      loadMore();
    }
  });

  const start = paged ? load : loadMore;
  if (M.rowsDelay > 0) setTimeout(start, M.rowsDelay); else start();
})();
</script>
</body></html>`))
