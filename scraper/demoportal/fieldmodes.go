package demoportal

import (
	"encoding/json"
	"fmt"
	"html/template"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Extra is what the field-mode pages show beyond the standard fields: custom fields of every
// type, the visit's time of day, and detail-only fields.
type Extra struct {
	Priority   string   // text: "High", "Normal" or "Low"
	Dispensers int      // integer; the list shows it with a thousands separator ("1,204")
	DueDate    string   // date, YYYY-MM-DD; the list shows MM/DD/YYYY
	VisitTime  string   // HH:MM in FieldZone; the list shows "Mon 02 Mar 2026 14:30"
	Tags       []string // list
	County     string   // detail page only (text)
	Project    string   // detail page only (text)
	UpdatedAt  string   // detail page only, "YYYY-MM-DD HH:MM" in FieldZone; shown "02.01.2006 15:04"
}

// FieldZone is the time zone of the field-mode pages' times.
const FieldZone = "America/Chicago"

var (
	priorities = []string{"High", "Normal", "Low"}
	tagNames   = []string{"after-hours", "ladder", "permit", "photos", "escort", "parts-on-site"}
	counties   = []string{"Cook", "Travis", "Multnomah", "Dane", "Ada", "Pima", "Wake", "Polk"}
	projects   = []string{"Spring refresh", "LED retrofit", "Cooler upgrade", "Safety audit"}
)

// generateExtra returns the extra fields of order i of seed's data set; they come from their
// own random stream, so the standard fields stay as they were.
func generateExtra(seed uint64, start time.Time, i int) Extra {
	r := rand.New(rand.NewPCG(seed^0x9e3779b97f4a7c15, uint64(i)))
	pick := func(l []string) string { return l[r.IntN(len(l))] }
	var tags []string
	for _, t := range tagNames {
		if r.IntN(3) == 0 {
			tags = append(tags, t)
		}
	}
	return Extra{
		Priority:   pick(priorities),
		Dispensers: r.IntN(2500),
		DueDate:    start.AddDate(0, 0, 5+r.IntN(60)).Format(time.DateOnly),
		VisitTime:  fmt.Sprintf("%02d:%02d", 6+r.IntN(12), 15*r.IntN(4)),
		Tags:       tags,
		County:     pick(counties),
		Project:    pick(projects),
		UpdatedAt:  start.AddDate(0, 0, -r.IntN(30)).Add(time.Duration(r.IntN(24*60)) * time.Minute).Format("2006-01-02 15:04"),
	}
}

// ShownInstructions is the text the field-mode pages show as an order's instructions: two
// paragraphs, the visit's heading and the instructions, with a blank line between them.
func ShownInstructions(o Order) string {
	return "Visit for " + o.Number + "\n\n" + o.Instructions
}

// VisitAt returns the instant of o's visit (its date and Extra.VisitTime in FieldZone).
func VisitAt(o Order) time.Time {
	t, _ := time.ParseInLocation("2006-01-02 15:04", o.VisitDate+" "+o.Extra.VisitTime, fieldZone())
	return t
}

// UpdatedAt returns the instant of Extra.UpdatedAt.
func UpdatedAt(o Order) time.Time {
	t, _ := time.ParseInLocation("2006-01-02 15:04", o.Extra.UpdatedAt, fieldZone())
	return t
}

func fieldZone() *time.Location {
	loc, err := time.LoadLocation(FieldZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// fieldRow is one row of the field-mode list.
type fieldRow struct {
	O            Order
	Visit, Due   string
	Dispensers   string
	Instructions string
	Link         string
}

// thousands formats n with a comma between thousands.
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func (p *Portal) fieldListPage(w http.ResponseWriter, r *http.Request) {
	s := p.session(r)
	if s == nil {
		p.redirectToLogin(w, r)
		return
	}
	js := r.URL.Query().Get("detail") == "js"
	p.mu.Lock()
	p.stats.ListPageLoads++
	rows := make([]fieldRow, 0, len(p.orders))
	for _, o := range p.orders {
		row := fieldRow{O: o.clone(), Visit: VisitAt(o).Format("Mon 02 Jan 2006 15:04"), Dispensers: thousands(o.Extra.Dispensers),
			Instructions: ShownInstructions(o)}
		if d, err := time.Parse(time.DateOnly, o.Extra.DueDate); err == nil {
			row.Due = d.Format("01/02/2006")
		}
		if !slices.Contains(p.modes.noDetailLink, o.ID) {
			row.Link = "/f/orders/" + o.ID
			if js {
				row.Link = "/f/js/orders/" + o.ID
			}
		}
		rows = append(rows, row)
	}
	p.mu.Unlock()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_ = fieldListTmpl.Execute(w, map[string]any{"User": s.email, "Rows": rows, "Dialog": r.URL.Query().Get("dialog")})
}

func (p *Portal) fieldDetailPage(w http.ResponseWriter, r *http.Request) {
	if p.session(r) == nil {
		p.redirectToLogin(w, r)
		return
	}
	id := r.PathValue("id")
	p.mu.Lock()
	p.stats.DetailVisits++
	p.stats.DetailsByID[id]++
	i := p.index(id)
	var o Order
	if i >= 0 {
		o = p.orders[i].clone()
	}
	broken := slices.Contains(p.modes.brokenDetails, id)
	p.mu.Unlock()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	switch {
	case broken:
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprint(w, errorPageHTML)
		return
	case i < 0:
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, notFoundHTML)
		return
	}
	updated := UpdatedAt(o).Format("02.01.2006 15:04")
	if strings.HasPrefix(r.URL.Path, "/f/js/") {
		data, _ := json.Marshal(map[string]string{"number": o.Number, "county": o.Extra.County, "project": o.Extra.Project,
			"updated": updated, "instructions": ShownInstructions(o)})
		_ = fieldJSDetailTmpl.Execute(w, map[string]any{"Data": template.JS(data)})
		return
	}
	_ = fieldDetailTmpl.Execute(w, map[string]any{"O": o, "Updated": updated, "Instructions": ShownInstructions(o)})
}

var fieldListTmpl = template.Must(template.New("flist").Parse(head + `<span class="user">{{.User}}</span> <a href="/logout">Sign out</a></header>
<main>
<h1>Work orders</h1>
{{if .Rows}}<table class="wo-list"><thead><tr><th>Order</th><th>Customer</th><th>Site</th><th>Service</th><th>Items</th>
<th>Priority</th><th>Dispensers</th><th>Due</th><th>Visit</th><th>Tags</th><th>Notes</th><th></th></tr></thead><tbody>
{{range .Rows}}<tr class="wo" data-id="{{.O.ID}}">
<td class="num">{{.O.Number}}</td><td class="cust">{{.O.Customer}}</td>
<td class="site"><span class="name">{{.O.SiteName}}</span><br><span class="street">{{.O.Street}}</span><br><span class="city">{{.O.City}}</span>, <span class="state">{{.O.State}}</span> <span class="zip">{{.O.Zip}}</span></td>
<td class="svc"><span class="code">{{.O.ServiceCode}}</span> <span class="name">{{.O.ServiceName}}</span></td>
<td class="items"><ul>{{range .O.Items}}<li>{{.}}</li>{{end}}</ul></td>
<td class="prio"><span class="badge">{{.O.Extra.Priority}}</span></td>
<td class="disp">{{.Dispensers}}</td><td class="due">{{.Due}}</td><td class="visit">{{.Visit}}</td>
<td class="tags"><ul>{{range .O.Extra.Tags}}<li>{{.}}</li>{{end}}</ul></td>
<td class="notes"><span class="tip-icon" title="{{.Instructions}}">&#9432;</span><div class="tooltip" hidden>{{.Instructions}}</div></td>
<td>{{with .Link}}<a class="open" href="{{.}}">Open</a>{{end}}</td>
</tr>
{{end}}</tbody></table>{{else}}<p class="none">No open work orders.</p>{{end}}
</main>
{{with .Dialog}}<script>
(function () {
  const kind = {{.}};
  if (kind === "alert") alert("Scheduled maintenance tonight from 22:00");
  if (kind === "confirm") confirm("Show only urgent work orders?");
  if (kind === "beforeunload") window.addEventListener("beforeunload", (e) => { e.preventDefault(); e.returnValue = "Leave the work-order list?"; });
})();
</script>{{end}}
</body></html>`))

var fieldDetailTmpl = template.Must(template.New("fdetail").Parse(head + `<a href="/f/orders">Work orders</a></header>
<main class="wo-detail" data-id="{{.O.ID}}">
<h1 class="title">{{.O.Number}}</h1>
<dl><dt>County</dt><dd class="county">{{.O.Extra.County}}</dd>
<dt>Project</dt><dd class="project">{{.O.Extra.Project}}</dd>
<dt>Updated</dt><dd class="updated">{{.Updated}}</dd></dl>
<h2>Instructions</h2><div class="instructions-text">{{.Instructions}}</div>
</main></body></html>`))

var fieldJSDetailTmpl = template.Must(template.New("fjsdetail").Parse(head + `<a href="/f/orders">Work orders</a></header>
<main id="app"><p class="loading">Loading…</p></main>
<script>
(function () {
  const d = {{.Data}};
  setTimeout(() => {
    const app = document.getElementById("app");
    app.className = "wo-detail";
    app.innerHTML = "";
    const add = (tag, cls, text) => { const e = document.createElement(tag); e.className = cls; e.textContent = text; app.append(e); };
    add("h1", "title", d.number);
    add("dd", "county", d.county);
    add("dd", "project", d.project);
    add("dd", "updated", d.updated);
    add("div", "instructions-text", d.instructions);
  }, 50);
})();
</script></body></html>`))
