package screens

import (
	"encoding/csv"
	"io"
	"strings"
	"time"

	"worktray/scheduler"
)

// CSVHeader is the header row of an exported CSV file before the custom fields, which follow
// as one column each, named by their profile keys, in the order they first appear.
var CSVHeader = []string{"number", "portal_id", "mark", "visit_date", "visit_at", "customer", "store_number", "site_name",
	"street", "city", "state", "zip", "service_code", "service_name", "items", "visit_url",
	"instructions", "first_seen", "last_seen", "changed_at", "removed_at"}

// WriteCSV writes orders as CSV with a header row; instants are RFC 3339 UTC, list values are
// joined with "; ". It returns the first write error.
func WriteCSV(w io.Writer, orders []scheduler.Order) error {
	var custom []string
	seen := map[string]bool{}
	for i := range orders {
		for _, f := range orders[i].Custom {
			if !seen[f.Name] {
				seen[f.Name] = true
				custom = append(custom, f.Name)
			}
		}
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(append(append([]string(nil), CSVHeader...), custom...)); err != nil {
		return err
	}
	ts := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	for _, o := range orders {
		row := []string{o.Number, o.PortalID, string(o.Mark), o.VisitDate, ts(o.VisitAt), o.Customer, o.StoreNumber, o.SiteName,
			o.Address.Street, o.Address.City, o.Address.State, o.Address.Zip, o.ServiceCode, o.ServiceName,
			strings.Join(o.Items, "; "), o.VisitURL, o.Instructions,
			ts(o.FirstSeen), ts(o.LastSeen), ts(o.ChangedAt), ts(o.RemovedAt)}
		for _, name := range custom {
			v := ""
			for _, f := range o.Custom {
				if f.Name == name {
					v = f.Value
					if f.Type == scheduler.FieldList {
						v = strings.Join(f.Items, "; ")
					}
				}
			}
			row = append(row, v)
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
