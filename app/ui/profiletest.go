package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"worktray/app/view"
	"worktray/control"
)

// TestProfile implements screens.SettingsBackend: it signs in with the saved settings, reads the
// first list page and a few detail pages with the saved profile, storing nothing, and says per
// field how many rows matched. It blocks up to the client's deadline (minutes).
func (b ControlBackend) TestProfile(ctx context.Context) (string, error) {
	res, err := b.C.TestProfile(ctx, control.ProfileTestInput{Pages: 1, Details: 3})
	if err != nil {
		return "", err
	}
	summary := profileSummary(res.Report)
	if !res.OK {
		msg := view.ClassText(res.ErrorClass)
		if res.Error != "" {
			msg += ": " + res.Error
		}
		if summary != "" {
			msg += "\n" + summary
		}
		return "", fmt.Errorf("%s", msg)
	}
	return summary, nil
}

// profileReport is the part of the scraper's profile report (scraper.ProfileReport as JSON)
// the window shows; the windows binary does not link the scraper.
type profileReport struct {
	Pages    int  `json:"pages"`
	Rows     int  `json:"rows"`
	Empty    bool `json:"empty"`
	Details  int  `json:"details"`
	Warnings []string
	Fields   []struct {
		Name     string   `json:"name"`
		Where    string   `json:"where"`
		Optional bool     `json:"optional"`
		Matched  int      `json:"matched"`
		Of       int      `json:"of"`
		Samples  []string `json:"samples"`
		Problems []string `json:"problems"`
	} `json:"fields"`
}

// profileSummary words a profile report in a few lines: rows read, each field's matches with a
// sample, and the fields that matched nothing first. "" when raw is empty or not a report.
func profileSummary(raw json.RawMessage) string {
	var r profileReport
	if len(raw) == 0 || json.Unmarshal(raw, &r) != nil {
		return ""
	}
	var b strings.Builder
	switch {
	case r.Empty:
		fmt.Fprintf(&b, "The list shows its \"no work orders\" message (%s read).\n", view.Plural(r.Pages, "page", "pages"))
	default:
		fmt.Fprintf(&b, "Read %s on %s and %s.\n", view.Plural(r.Rows, "row", "rows"),
			view.Plural(r.Pages, "list page", "list pages"), view.Plural(r.Details, "detail page", "detail pages"))
	}
	var bad, good []string
	for _, f := range r.Fields {
		line := fmt.Sprintf("%s (%s): %d of %d", f.Name, f.Where, f.Matched, f.Of)
		if len(f.Samples) > 0 {
			line += fmt.Sprintf(", e.g. %q", f.Samples[0])
		}
		if f.Matched < f.Of && !f.Optional {
			if len(f.Problems) > 0 {
				line += " — " + f.Problems[0]
			}
			bad = append(bad, "✗ "+line)
		} else {
			good = append(good, "✓ "+line)
		}
	}
	for _, l := range append(bad, good...) {
		b.WriteString(l + "\n")
	}
	for _, w := range r.Warnings {
		b.WriteString("! " + w + "\n")
	}
	return strings.TrimRight(b.String(), "\n")
}
