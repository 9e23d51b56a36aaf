package scraper

import "strings"

// A field's text is what a person sees on the page, not the raw textContent of its element: a
// <br> or a block boundary between two words is a line break, never nothing ("…29" and "Lake
// Tamsin" in two <div>s read "…29 Lake Tamsin", not "…29Lake Tamsin"), a paragraph (<p>) is
// set off by a blank line, and hidden parts of a visible element are left out. The work is
// split in two: jsVisibleText runs in the page and keeps the structure as line breaks;
// visibleText, in Go, turns that into the field's value (one line, or lines for a multiline
// field).

// jsVisibleText is a JavaScript function expression, (element, multiline) => string, that other
// scripts of the scraper embed to read an element's text. It walks the element's subtree:
//   - a <br> gives "\n"; a block box (display block, list-item, table row, flex, grid…) gives
//     a line break before and after it; a <p> gives a blank line before and after it (as
//     HTMLElement.innerText does), a table cell a space after it;
//   - in a rendered document (the element is laid out), the computed style decides: what is
//     display:none or visibility:hidden is skipped, white space collapses unless the element's
//     white-space is pre, pre-wrap, pre-line or break-spaces;
//   - in a document that is not rendered (a page fetched and parsed with DOMParser, or an
//     element that is itself hidden, such as a tooltip's text), tag names decide what is a
//     block, elements with the hidden attribute are skipped, and the line breaks of the source
//     text are kept (the page's stylesheet, which may say pre-line, cannot be consulted).
//
// <script>, <style>, <template> and <noscript> never count. An element without child elements
// is read directly (the common case, and the fast one).
const jsVisibleText = `((root, multiline) => {
  const view = root.ownerDocument && root.ownerDocument.defaultView;
  const live = !!view && root.isConnected && root.getClientRects().length > 0;
  const preWS = (ws) => ws.startsWith("pre") || ws === "break-spaces";
  if (!root.firstElementChild) {
    const t = root.textContent || "";
    if (!multiline || !live || preWS(view.getComputedStyle(root).whiteSpace)) return t;
    return t.replace(/[ \t\n\r\f]+/g, " ");
  }
  const SKIP = /^(SCRIPT|STYLE|TEMPLATE|NOSCRIPT|HEAD|TITLE)$/;
  const BLOCK = /^(ADDRESS|ARTICLE|ASIDE|BLOCKQUOTE|CAPTION|DD|DETAILS|DIALOG|DIV|DL|DT|FIELDSET|FIGCAPTION|FIGURE|FOOTER|FORM|H[1-6]|HEADER|HGROUP|HR|LEGEND|LI|MAIN|MENU|NAV|OL|P|PRE|SECTION|SUMMARY|TABLE|TBODY|TFOOT|THEAD|TR|UL)$/;
  const out = [];
  const brk = (n) => out.push(n);
  const walk = (node, pre) => {
    if (node.nodeType === 3) {
      let t = node.data;
      if (live) t = pre ? t : t.replace(/[ \t\n\r\f]+/g, " ");
      else t = pre ? t : t.replace(/[ \t\r\f]+/g, " ");
      if (t) out.push(t);
      return;
    }
    if (node.nodeType !== 1 || SKIP.test(node.tagName)) return;
    if (node.tagName === "BR") {
      out.push("\n");
      return;
    }
    let block, cell, para = node.tagName === "P";
    if (live) {
      const cs = view.getComputedStyle(node);
      if (cs.display === "none" || cs.visibility === "hidden" || cs.visibility === "collapse") return;
      pre = preWS(cs.whiteSpace);
      cell = cs.display === "table-cell";
      block = !cell && !cs.display.startsWith("inline") && cs.display !== "contents";
    } else {
      if (node !== root && node.hasAttribute("hidden")) return;
      pre = pre || node.tagName === "PRE" || node.tagName === "TEXTAREA";
      cell = node.tagName === "TD" || node.tagName === "TH";
      block = BLOCK.test(node.tagName);
    }
    if (block) brk(para ? 2 : 1);
    for (let c = node.firstChild; c; c = c.nextSibling) walk(c, pre);
    if (block) brk(para ? 2 : 1);
    else if (cell) out.push(" ");
  };
  walk(root, false);
  // Runs of line-break requests become the largest of them; none at either end.
  let s = "", want = 0;
  for (const p of out) {
    if (typeof p === "number") {
      want = Math.max(want, p);
      continue;
    }
    if (want > 0 && s !== "") s += "\n".repeat(want);
    want = 0;
    s += p;
  }
  return s;
})`

// visibleText turns the text jsVisibleText read into a field's value. A single-line value has
// every run of white space (line breaks included) made one space and is trimmed. A multiline
// value keeps its lines, each trimmed with its inner white space collapsed, and keeps one blank
// line where the text had one or more between paragraphs; leading and trailing blank lines go.
// It is a pure function, safe for concurrent use.
func visibleText(s string, multiline bool) string {
	if !multiline {
		return strings.Join(strings.Fields(s), " ")
	}
	s = strings.NewReplacer("\r\n", "\n", "\r", "\n", "\u2028", "\n", "\u2029", "\n\n").Replace(s)
	var b strings.Builder
	blank := false
	for _, line := range strings.Split(s, "\n") {
		line = strings.Join(strings.Fields(line), " ")
		if line == "" {
			blank = b.Len() > 0
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('\n')
			if blank {
				b.WriteByte('\n')
			}
		}
		blank = false
		b.WriteString(line)
	}
	return b.String()
}
