// Package orderlist is the work-order list as people see it, shared by the command line and
// the work orders window so that both say the same thing: the columns (built-in fields, then
// the profile's custom fields) and their text, CSV export with those columns, sorting by any
// column (soonest visit first by default) and the new/changed filter of the marks that stay
// until the user has seen an order.
//
// It is pure (no I/O beyond the writer or file it is given, no Fyne) and safe for concurrent
// use.
package orderlist
