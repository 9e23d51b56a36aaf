package scraper

import (
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"worktray/scheduler"
	"worktray/scraper/demoportal"
)

// exampleProfile is the path of an example profile under docs/profiles.
func exampleProfile(name string) string { return filepath.Join("..", "docs", "profiles", name) }

// newProfileScraper returns a scraper of the demo portal at base with the profile file; mod
// may change the profile and config.
func newProfileScraper(t testing.TB, p *demoportal.Portal, base, file string, mod func(*Profile, *Config)) (*Scraper, *MemoryCookieJar) {
	t.Helper()
	prof, err := LoadProfile(file)
	if err != nil {
		t.Fatal(err)
	}
	email, pw := p.Credentials()
	jar := &MemoryCookieJar{}
	cfg := Config{Profile: prof, BaseURL: base, Username: email, Password: pw, Cookies: jar,
		ArtifactDir: filepath.Join(t.TempDir(), "artifacts")}
	if mod != nil {
		mod(prof, &cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s, jar
}

// wantFieldMode is what a scrape with docs/profiles/demo-fields.toml must read of o; detail
// says whether its detail page was read.
func wantFieldMode(base string, o demoportal.Order, detail bool) scheduler.Order {
	w := scheduler.Order{
		PortalID: o.ID, Number: o.Number, Customer: o.Customer, SiteName: o.SiteName,
		Address:     scheduler.Address{Street: o.Street, City: o.City, State: o.State, Zip: o.Zip},
		ServiceCode: o.ServiceCode, ServiceName: o.ServiceName, Items: slices.Clone(o.Items),
		VisitDate: o.VisitDate, VisitAt: demoportal.VisitAt(o).UTC(),
	}
	tags := slices.Clone(o.Extra.Tags)
	w.Custom = []scheduler.CustomField{
		{Name: "priority", Label: "Priority", Type: scheduler.FieldText, Value: o.Extra.Priority},
		{Name: "dispenser_count", Label: "Dispensers", Type: scheduler.FieldInteger, Value: strconv.Itoa(o.Extra.Dispensers)},
		{Name: "due_date", Label: "Due", Type: scheduler.FieldDate, Value: o.Extra.DueDate},
		{Name: "tags", Label: "Tags", Type: scheduler.FieldList, Value: strings.Join(tags, ", "), Items: tags},
	}
	if detail {
		w.Instructions = demoportal.ShownInstructions(o)
		w.Custom = append(w.Custom,
			scheduler.CustomField{Name: "county", Label: "County", Type: scheduler.FieldText, Value: o.Extra.County},
			scheduler.CustomField{Name: "project", Label: "Project", Type: scheduler.FieldText, Value: o.Extra.Project},
			scheduler.CustomField{Name: "updated_at", Label: "Updated", Type: scheduler.FieldDateTime,
				Value: demoportal.UpdatedAt(o).UTC().Format(time.RFC3339)})
	}
	return w
}

// assertFieldOrders compares got with want field by field, ignoring when details were read.
func assertFieldOrders(t *testing.T, got, want []scheduler.Order) {
	t.Helper()
	clean := func(os []scheduler.Order) []scheduler.Order {
		out := slices.Clone(os)
		for i := range out {
			out[i].DetailReadAt = time.Time{}
			if len(out[i].Items) == 0 {
				out[i].Items = nil
			}
			for j := range out[i].Custom {
				if len(out[i].Custom[j].Items) == 0 {
					out[i].Custom[j].Items = nil
				}
			}
		}
		return out
	}
	assertOrders(t, clean(got), clean(want))
}

// TestCustomFieldsOfEveryType reads custom fields of each type from the list and the detail
// page, and the visit's time in the portal's zone, with the example profile as a user wrote it.
func TestCustomFieldsOfEveryType(t *testing.T) {
	p, base := startPortal(t, demoportal.Options{Seed: 21, Count: 40})
	s, _ := newProfileScraper(t, p, base, exampleProfile("demo-fields.toml"), nil)
	res, err := s.Scrape(testCtx(t, 2*time.Minute), scheduler.ScrapeRequest{RunID: 1})
	if err != nil {
		t.Fatal(err)
	}
	var want []scheduler.Order
	for _, o := range p.Orders() {
		want = append(want, wantFieldMode(base, o, true))
	}
	assertFieldOrders(t, res.Orders, want)
	for _, o := range res.Orders {
		if o.DetailReadAt.IsZero() || o.DetailMissing != "" {
			t.Errorf("order %s: detail read at %v, missing %q", o.Number, o.DetailReadAt, o.DetailMissing)
		}
		if !strings.Contains(o.Instructions, "\n\n") {
			t.Errorf("order %s: the instructions lost their blank line: %q", o.Number, o.Instructions)
		}
	}
	if st := p.Stats(); st.DetailVisits != 40 {
		t.Errorf("%d detail pages read, want 40", st.DetailVisits)
	}
}

// TestInstructionsFromTheList reads everything, instructions included, from the list rows (a
// tooltip attribute, or a hidden tooltip element): no detail page is loaded.
func TestInstructionsFromTheList(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*Profile, *Config)
	}{
		{"tooltip attribute", nil},
		{"hidden tooltip element", func(p *Profile, _ *Config) {
			p.List.Fields["instructions"] = Field{Selector: ".notes .tooltip", Multiline: true}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, base := startPortal(t, demoportal.Options{Seed: 22, Count: 30})
			s, _ := newProfileScraper(t, p, base, exampleProfile("demo-instructions-in-list.toml"), tc.mod)
			res, err := s.Scrape(testCtx(t, 2*time.Minute), scheduler.ScrapeRequest{RunID: 1})
			if err != nil {
				t.Fatal(err)
			}
			got := byID(res.Orders)
			for _, o := range p.Orders() {
				g := got[o.ID]
				if g.Instructions != demoportal.ShownInstructions(o) {
					t.Errorf("order %s: instructions %q, want %q", o.Number, g.Instructions, demoportal.ShownInstructions(o))
				}
				if !g.VisitAt.Equal(demoportal.VisitAt(o)) || g.VisitDate != o.VisitDate {
					t.Errorf("order %s: visit %s %v, want %s %v", o.Number, g.VisitDate, g.VisitAt, o.VisitDate, demoportal.VisitAt(o))
				}
				if c, _ := customValue(g, "priority"); c.Value != o.Extra.Priority {
					t.Errorf("order %s: priority %q, want %q", o.Number, c.Value, o.Extra.Priority)
				}
			}
			if len(res.Orders) != 30 || res.DetailVisits != 0 {
				t.Errorf("%d orders, %d detail visits; want 30 and 0", len(res.Orders), res.DetailVisits)
			}
			if st := p.Stats(); st.DetailVisits != 0 {
				t.Errorf("the portal served %d detail pages; want none", st.DetailVisits)
			}
		})
	}
}

// TestVisitTimeZone reads the same portal in another zone: the instant moves with it.
func TestVisitTimeZone(t *testing.T) {
	p, base := startPortal(t, demoportal.Options{Seed: 23, Count: 3})
	ny, _ := time.LoadLocation("America/New_York")
	s, _ := newProfileScraper(t, p, base, exampleProfile("demo-instructions-in-list.toml"), func(p *Profile, c *Config) {
		p.Timezone, p.loc = "", nil
		c.Location = ny // the schedule's zone, used when the profile names none
	})
	res, err := s.Scrape(testCtx(t, time.Minute), scheduler.ScrapeRequest{RunID: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range p.Orders() {
		g := byID(res.Orders)[o.ID]
		// The portal shows Chicago's wall time; read as New York's it is an hour earlier.
		if want := demoportal.VisitAt(o).Add(-time.Hour); !g.VisitAt.Equal(want) {
			t.Errorf("order %s: visit at %v, want %v", o.Number, g.VisitAt, want)
		}
	}
}

// TestValueConversion checks each type's normalisation and its errors, as a table.
func TestValueConversion(t *testing.T) {
	chicago, _ := time.LoadLocation("America/Chicago")
	for _, tc := range []struct {
		f       Field
		name    string
		in      string
		want    string
		wantAt  time.Time
		wantErr string
	}{
		{f: Field{Type: scheduler.FieldInteger}, name: "n", in: "1,204", want: "1204"},
		{f: Field{Type: scheduler.FieldInteger}, name: "n", in: "12 dispensers", wantErr: "not a whole number"},
		{f: Field{Type: scheduler.FieldDate, DateLayouts: []string{"01/02/2006"}}, name: "d", in: "03/15/2026", want: "2026-03-15"},
		{f: Field{Type: scheduler.FieldDate}, name: "d", in: "2026-03-15", want: "2026-03-15"},
		{f: Field{Type: scheduler.FieldDate, DateLayouts: []string{"01/02/2006"}}, name: "d", in: "soon", wantErr: "none of its date_layouts"},
		{f: Field{Type: scheduler.FieldDateTime, DateLayouts: []string{"Mon 02 Jan 2006 15:04"}}, name: "dt", in: "Mon 02 Mar 2026 14:30",
			want: "2026-03-02T20:30:00Z", wantAt: time.Date(2026, 3, 2, 20, 30, 0, 0, time.UTC)},
		{f: Field{DateLayouts: []string{"Mon 02 Jan 2006 15:04"}}, name: "visit_date", in: "Mon 02 Mar 2026 14:30",
			want: "2026-03-02", wantAt: time.Date(2026, 3, 2, 20, 30, 0, 0, time.UTC)},
		{f: Field{DateLayouts: []string{"01/02/2006"}}, name: "visit_date", in: "03/02/2026", want: "2026-03-02"},
		{f: Field{DateLayouts: []string{"01/02/2006"}}, name: "visit_date", in: "next week", want: "next week"},
		{f: Field{Type: scheduler.FieldText}, name: "t", in: "as is", want: "as is"},
	} {
		fs := newFieldSpec(tc.name, tc.f)
		got, at, why := fs.convert(tc.in, chicago)
		if tc.wantErr != "" {
			if !strings.Contains(why, tc.wantErr) {
				t.Errorf("%s %q: error %q, want %q", tc.name, tc.in, why, tc.wantErr)
			}
			continue
		}
		if why != "" || got != tc.want || !at.Equal(tc.wantAt) {
			t.Errorf("%s %q = %q %v %q; want %q %v", tc.name, tc.in, got, at, why, tc.want, tc.wantAt)
		}
	}
	ml := newFieldSpec("instructions", Field{Multiline: true})
	if got, _ := ml.clean("\n  Day 2  of 2 \n\n\n Bring the  ladder.\n line two\n\n"); got != "Day 2 of 2\n\nBring the ladder.\nline two" {
		t.Errorf("multiline: %q", got)
	}
}
