package scraper

import (
	"context"
	"encoding/json"
	"html"
	"net/url"
	"slices"
	"strings"

	"github.com/go-rod/rod"
)

// secretMask replaces a secret's value in failure artifacts and error messages.
const secretMask = "***"

// secretValues returns the values that failure artifacts must not show: the portal password and
// Config.Secrets, without empty ones, longest first (so that a secret containing another is
// masked whole).
func (s *Scraper) secretValues() []string {
	var out []string
	for _, v := range append([]string{s.cfg.Password}, s.cfg.Secrets...) {
		if v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	slices.SortFunc(out, func(a, b string) int { return len(b) - len(a) })
	return out
}

// maskPage clears every password input of the page and replaces each secret's value, wherever
// it appears in the DOM (text, comments, attributes, the values of form fields, open shadow
// roots, template contents, same-origin frames and the title), with secretMask. It runs one
// script under ctx and returns the number of replacements; an error means the page could not
// be masked, so no screenshot of it may be kept. Cross-origin frames cannot be reached.
func maskPage(ctx context.Context, page *rod.Page, secrets []string) (int, error) {
	var n int
	err := evalJSON(ctx, page, false, &n, jsMask, secrets, secretMask)
	return n, err
}

// jsMask is maskPage's script: (secrets, mask) → the JSON number of replacements.
const jsMask = `function (secrets, mask) {
  let count = 0;
  const scrub = (s) => {
    if (typeof s !== "string" || s === "") return s;
    for (const v of secrets) {
      if (s.includes(v)) {
        count += s.split(v).length - 1;
        s = s.split(v).join(mask);
      }
    }
    return s;
  };
  const visit = (root) => {
    if (!root) return;
    const walker = root.ownerDocument.createTreeWalker(root, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT | NodeFilter.SHOW_COMMENT);
    for (let n = root; n; n = walker.nextNode()) {
      if (n.nodeType === Node.TEXT_NODE || n.nodeType === Node.COMMENT_NODE) {
        const v = scrub(n.nodeValue);
        if (v !== n.nodeValue) n.nodeValue = v;
        continue;
      }
      if (n.nodeType !== Node.ELEMENT_NODE) continue;
      for (const a of Array.from(n.attributes)) {
        const v = scrub(a.value);
        if (v !== a.value) n.setAttribute(a.name, v);
      }
      const tag = n.localName;
      if (tag === "input" && String(n.type).toLowerCase() === "password") {
        if (n.value !== "") count++;
        n.value = "";
        if (n.hasAttribute("value")) n.setAttribute("value", "");
      } else if (tag === "input" || tag === "textarea") {
        const v = scrub(n.value);
        if (v !== n.value) n.value = v;
      }
      if (tag === "template") visit(n.content);
      if (n.shadowRoot) visit(n.shadowRoot);
      if (tag === "iframe" || tag === "frame") {
        try { visit(n.contentDocument && n.contentDocument.documentElement); } catch (e) { /* cross-origin */ }
      }
    }
  };
  visit(document.documentElement);
  const t = scrub(document.title);
  if (t !== document.title) document.title = t;
  return JSON.stringify(count);
}`

// maskHTML replaces in a page's HTML text every secret's value, in the forms it may take there
// (as is, HTML-escaped as browsers and Go escape it, URL-encoded, JSON-escaped), with secretMask.
func maskHTML(doc string, secrets []string) string {
	var forms []string
	for _, v := range secrets {
		forms = append(forms, encodedForms(v)...)
	}
	slices.SortFunc(forms, func(a, b string) int { return len(b) - len(a) })
	for _, f := range slices.Compact(forms) {
		doc = strings.ReplaceAll(doc, f, secretMask)
	}
	return doc
}

// browserEscaper escapes text as Chromium serialises it in HTML (text and attribute values).
var browserEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "\u00a0", "&nbsp;")

// encodedForms returns v and the distinct encodings of it that a page's HTML may hold.
func encodedForms(v string) []string {
	forms := []string{v, html.EscapeString(v), browserEscaper.Replace(v), url.QueryEscape(v), url.PathEscape(v)}
	if q, err := json.Marshal(v); err == nil {
		forms = append(forms, string(q[1:len(q)-1]))
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if enc.Encode(v) == nil {
		q := strings.TrimSpace(b.String())
		forms = append(forms, q[1:len(q)-1])
	}
	var out []string
	for _, f := range forms {
		if f != "" && !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}
