package scraper

import (
	"errors"
	"fmt"

	"worktray/scheduler"
)

// A read of the list can lack an order that is still open: an order closed on page 1 while
// page 2 was read moves every later row up by one, and one row is never shown. So a read that
// lacks known orders is not trusted alone: the list is read once more at once, and the result
// is the union of both reads. A known order the result lacks was then lacking from two
// complete reads (ListReads = 2), which is what confirms a removal; an order that one read
// lacked and the other listed stays. A read whose count of orders does not add up is likewise
// read once more before it fails.

// listResult is the list as the scrape returns it.
type listResult struct {
	orders []scheduler.Order
	empty  bool // every read showed the portal's empty marker
	reads  int  // complete reads whose union orders is
}

// readList reads the whole list, and once more when the first read lacks known orders
// (ScrapeRequest.Known) or its count did not add up.
func (r *run) readList() (listResult, error) {
	first, err := r.readListSignedIn()
	var shifted *errListShifted
	if errors.As(err, &shifted) {
		r.log.Warn("the list did not add up; reading it again", "err", err)
		r.progress(scheduler.Progress{Stage: scheduler.StageList, Percent: 10,
			Message: "the list changed while it was read; reading it again"})
		first, err = r.readListSignedIn()
	}
	if err != nil {
		return listResult{}, err
	}
	missing := r.missingKnown(first.orders)
	if missing == 0 {
		return listResult{orders: first.orders, empty: first.empty, reads: 1}, nil
	}
	r.log.Info("known orders are missing from the list; reading it again to confirm", "missing", missing, "known", len(r.req.Known))
	r.progress(scheduler.Progress{Stage: scheduler.StageList, Orders: len(first.orders), Percent: 35,
		Message: fmt.Sprintf("%d known orders were not in the list; reading it again to confirm", missing)})
	second, err := r.readListSignedIn()
	if err != nil {
		if r.ctx.Err() != nil || !errors.As(err, &shifted) {
			return listResult{}, err
		}
		// The confirming read did not add up: the first read stands alone, and the orders it
		// lacks are only marked missing.
		r.log.Warn("the confirming read of the list did not add up; keeping the first read", "err", err)
		return listResult{orders: first.orders, empty: first.empty, reads: 1}, nil
	}
	return listResult{orders: unionOrders(second.orders, first.orders), empty: first.empty && second.empty, reads: 2}, nil
}

// missingKnown counts the known orders that orders lacks.
func (r *run) missingKnown(orders []scheduler.Order) int {
	if len(r.req.Known) == 0 {
		return 0
	}
	in := make(map[string]bool, len(orders))
	for _, o := range orders {
		in[o.PortalID] = true
	}
	n := 0
	for id := range r.req.Known {
		if !in[id] {
			n++
		}
	}
	return n
}

// unionOrders returns the orders of newer, then those of older that newer lacks, each in list
// order.
func unionOrders(newer, older []scheduler.Order) []scheduler.Order {
	in := make(map[string]bool, len(newer))
	out := make([]scheduler.Order, 0, len(newer))
	for _, o := range newer {
		in[o.PortalID] = true
		out = append(out, o)
	}
	for _, o := range older {
		if !in[o.PortalID] {
			out = append(out, o)
		}
	}
	return out
}
