package ui

import (
	"strings"
	"testing"
)

// The summary says how many rows were read and puts the fields that matched nothing first,
// with their first problem; optional fields never count as failures.
func TestProfileSummary(t *testing.T) {
	raw := []byte(`{"pages":1,"rows":25,"details":3,"warnings":["list.total matched nothing"],"fields":[
		{"name":"number","where":"list","matched":25,"of":25,"samples":["W-100001"]},
		{"name":"county","where":"detail","matched":0,"of":3,"problems":["order 1: matched nothing"]},
		{"name":"priority","where":"list","optional":true,"matched":2,"of":25}]}`)
	got := profileSummary(raw)
	lines := strings.Split(got, "\n")
	if len(lines) != 5 || lines[0] != "Read 25 rows on 1 list page and 3 detail pages." ||
		!strings.HasPrefix(lines[1], "✗ county (detail): 0 of 3 — order 1: matched nothing") ||
		!strings.HasPrefix(lines[2], `✓ number (list): 25 of 25, e.g. "W-100001"`) ||
		!strings.HasPrefix(lines[3], "✓ priority") || lines[4] != "! list.total matched nothing" {
		t.Errorf("summary:\n%s", got)
	}
	if profileSummary(nil) != "" || profileSummary([]byte("not json")) != "" {
		t.Error("no report must give no summary")
	}
}
