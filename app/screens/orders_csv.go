package screens

import (
	"io"

	"worktray/orderlist"
	"worktray/scheduler"
)

// WriteCSV writes orders as CSV with a header row: the columns of orderlist.Columns (the
// built-in fields, then one per custom field, named by its profile key, in the order the fields
// first appear), exactly what `worktray orders --csv` writes. Instants are RFC 3339 UTC. It
// returns the first write error.
func WriteCSV(w io.Writer, orders []scheduler.Order) error {
	_, err := orderlist.WriteCSV(w, orders)
	return err
}
