package scraper

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"worktray/scraper/demoportal"
)

// TestProfileTestReport: the profile test reports per field what matched, with samples, and
// what matched nothing; it reads a few detail pages and outlines the list in a screenshot.
func TestProfileTestReport(t *testing.T) {
	p, base := startPortal(t, demoportal.Options{Seed: 51, Count: 12})
	s, _ := newProfileScraper(t, p, base, exampleProfile("demo-fields.toml"), func(prof *Profile, c *Config) {
		f := prof.List.Fields["priority"]
		f.Selector = ".no-such-priority"
		prof.List.Fields["priority"] = f
		c.Cookies = nil
	})
	rep, err := s.TestProfile(testCtx(t, 2*time.Minute), ProfileTestOptions{Screenshot: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Rows != 12 || rep.Pages != 1 || rep.Details != 3 {
		t.Errorf("rows %d, pages %d, details %d; want 12, 1, 3", rep.Rows, rep.Pages, rep.Details)
	}
	orders := p.Orders()
	byName := map[string]FieldReport{}
	for _, f := range rep.Fields {
		byName[f.Where+"."+f.Name] = f
	}
	if f := byName["list.number"]; f.Matched != 12 || f.Of != 12 || len(f.Samples) == 0 || f.Samples[0] != orders[0].Number || !f.OK() {
		t.Errorf("number: %+v", f)
	}
	if f := byName["list.priority"]; f.Matched != 0 || f.OK() || len(f.Problems) == 0 || !strings.Contains(f.Problems[0], "matched nothing") {
		t.Errorf("priority: %+v", f)
	}
	if f := byName["list.dispenser_count"]; f.Matched != 12 || len(f.Samples) == 0 {
		t.Errorf("dispenser_count: %+v", f)
	}
	if f := byName["detail.county"]; f.Matched != 3 || f.Of != 3 || f.Samples[0] != orders[0].Extra.County {
		t.Errorf("county: %+v", f)
	}
	if !bytes.HasPrefix(rep.Screenshot, []byte("\x89PNG")) {
		t.Errorf("screenshot of %d bytes is not a PNG", len(rep.Screenshot))
	}
	if st := p.Stats(); st.DetailVisits != 3 || st.Logins != 1 {
		t.Errorf("portal saw %d detail visits, %d sign-ins; want 3 and 1", st.DetailVisits, st.Logins)
	}
}
