package orderlist

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"worktray/scheduler"
	"worktray/store"
)

// DefaultSort is the sort key of every list of orders unless the user picks another: the visit,
// soonest first (store.CompareVisit).
const DefaultSort = "visit"

// Sort sorts orders in place by the column key (a key of Columns(orders), or "visit" for the
// visit date and time together); a leading "-" reverses the order. Ties are broken by visit,
// then number, then portal id, so the result is the same whatever the input order. An empty key
// means DefaultSort. An unknown key is an error naming the keys there are.
func Sort(orders []scheduler.Order, key string) error {
	desc := strings.HasPrefix(key, "-")
	key = strings.TrimPrefix(key, "-")
	if key == "" {
		key = DefaultSort
	}
	var value func(scheduler.Order) string
	if key != DefaultSort && key != "visit_date" {
		for _, c := range Columns(orders) {
			if c.Key == key {
				value = c.Value
				break
			}
		}
		if value == nil {
			return fmt.Errorf("sort: no column %q; the columns are %s", key, strings.Join(SortKeys(orders), ", "))
		}
	}
	slices.SortStableFunc(orders, func(a, b scheduler.Order) int {
		c := 0
		if value != nil {
			c = compareText(value(a), value(b))
		}
		if c == 0 {
			c = store.CompareVisit(a, b)
			if value == nil && desc {
				c = -c
			}
			return c
		}
		if desc {
			return -c
		}
		return c
	})
	return nil
}

// compareText compares column texts, empty last, case-insensitively, numbers by value.
func compareText(a, b string) int {
	if (a == "") != (b == "") {
		if a == "" {
			return 1
		}
		return -1
	}
	if isNumber(a) && isNumber(b) {
		x, errX := strconv.ParseFloat(a, 64)
		y, errY := strconv.ParseFloat(b, 64)
		if errX == nil && errY == nil {
			return cmp.Compare(x, y)
		}
	}
	return cmp.Or(cmp.Compare(strings.ToLower(a), strings.ToLower(b)), cmp.Compare(a, b))
}

func isNumber(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r >= '0' && r <= '9' || r == '.' || (r == '-' && i == 0)) {
			return false
		}
	}
	return true
}

// SortKeys returns the keys Sort accepts for orders: "visit", then every column key.
func SortKeys(orders []scheduler.Order) []string {
	keys := []string{DefaultSort}
	for _, c := range Columns(orders) {
		keys = append(keys, c.Key)
	}
	return keys
}

// Filter says which orders a list shows.
type Filter struct {
	New     bool // only orders marked new (not yet seen since they appeared)
	Changed bool // only orders marked changed (not yet seen since they changed); with New: either
	Removed bool // include removed orders
}

// Apply returns the orders f lets through, in their order.
func (f Filter) Apply(orders []scheduler.Order) []scheduler.Order {
	out := make([]scheduler.Order, 0, len(orders))
	for _, o := range orders {
		if !f.Removed && !o.RemovedAt.IsZero() {
			continue
		}
		if f.New || f.Changed {
			if !(f.New && o.Mark == scheduler.MarkNew || f.Changed && o.Mark == scheduler.MarkChanged) {
				continue
			}
		}
		out = append(out, o)
	}
	return out
}
