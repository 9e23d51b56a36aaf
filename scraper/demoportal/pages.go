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
<div class="instructions-text">{{.O.Instructions}}</div></section>
<audio src="/static/chime.mp3" preload="auto"></audio>
</main></body></html>`))

var listTmpl = template.Must(template.New("list").Parse(head + `<span class="user">{{.User}}</span> <a href="/logout">Sign out</a></header>
<main>
<h1>Open work orders</h1>
<div class="toolbar">
<label>Rows per page <select id="page-size"><option>25</option><option>50</option><option>100</option></select></label>
<span class="{{.C.Info}}"></span>
<button type="button" class="{{.C.Next}}" disabled>Next</button>
</div>
<div id="list"><p class="loading">Loading work orders…</p></div>
</main>
<script>
(function () {
  "use strict";
  const C = {{.C}};
  const pagerDelay = {{.PagerDelay}};
  const q = new URLSearchParams(location.search);
  let page = Math.max(1, parseInt(q.get("page"), 10) || 1);
  let size = [25, 50, 100].includes(parseInt(q.get("size"), 10)) ? parseInt(q.get("size"), 10) : 25;
  const list = document.getElementById("list");
  const sel = document.getElementById("page-size");
  const info = document.querySelector("." + C.Info);
  const next = document.querySelector("." + C.Next);
  sel.value = String(size);
  sel.addEventListener("change", () => { size = parseInt(sel.value, 10); page = 1; load(); });
  next.addEventListener("click", () => { page++; load(); });

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function load() {
    next.disabled = true;
    list.replaceChildren(el("p", "loading", "Loading work orders…"));
    history.replaceState(null, "", "?page=" + page + "&size=" + size);
    fetch("/api/orders?page=" + page + "&size=" + size, { credentials: "same-origin" })
      .then((r) => {
        if (r.status === 401) {
          location.href = "/login?next=" + encodeURIComponent(location.pathname + location.search);
          return null;
        }
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      })
      .then((d) => { if (d) render(d); })
      .catch((e) => {
        list.replaceChildren(el("p", C.Error, "Could not load work orders (" + e.message + "). Please try again later."));
      });
  }

  function render(d) {
    const pager = () => {
      info.textContent = "Page " + d.page + " of " + d.pages + " · " + d.total + " work orders";
      next.disabled = d.page >= d.pages;
    };
    if (pagerDelay > 0) setTimeout(pager, pagerDelay); else pager();
    if (d.total === 0) {
      list.replaceChildren(el("p", C.Empty, "No open work orders. You're all caught up."));
      return;
    }
    const table = el("table", C.Table);
    table.innerHTML = "<thead><tr><th>Work order</th><th>Customer</th><th>Store</th><th>Site</th>" +
      "<th>Address</th><th>Service</th><th>Items</th><th>Visit</th></tr></thead>";
    const body = el("tbody");
    for (const o of d.orders) {
      const tr = el("tr", C.Row);
      tr.dataset.id = o.id;
      tr.append(el("td", C.Number, o.number), el("td", C.Customer, o.customer),
        el("td", C.Store, "Store #" + o.store_number), el("td", C.Site, o.site_name));
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
      body.append(tr);
    }
    table.append(body);
    list.replaceChildren(table);
  }

  load();
})();
</script>
</body></html>`))
