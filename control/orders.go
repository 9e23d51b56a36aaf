package control

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"worktray/orderlist"
	"worktray/scheduler"
)

// OrderDetail answers GET /api/orders/{id}: one order with its change history, newest first.
type OrderDetail struct {
	Order   scheduler.Order         `json:"order"`
	History []scheduler.OrderChange `json:"history"`
}

// OrderHistoryResponse answers GET /api/orders/{id}/history.
type OrderHistoryResponse struct {
	History []scheduler.OrderChange `json:"history"`
}

// SeenRequest is the body of POST /api/marks/seen: the portal ids of the orders the user has
// seen, or All for "Mark all seen".
type SeenRequest struct {
	PortalIDs []string `json:"portal_ids,omitempty"`
	All       bool     `json:"all,omitempty"`
}

// SeenResponse answers POST /api/marks/seen: how many new/changed marks were cleared.
type SeenResponse struct {
	Cleared int `json:"cleared"`
}

// OrdersQuery selects and orders the list of GET /api/orders (see orderlist.Filter and
// orderlist.Sort).
type OrdersQuery struct {
	Removed bool   // include removed orders
	New     bool   // only orders marked new
	Changed bool   // only orders marked changed (with New: either)
	Sort    string // a column key, "-" first to reverse; empty: soonest visit first
}

func (q OrdersQuery) values() url.Values {
	v := url.Values{}
	for name, on := range map[string]bool{"removed": q.Removed, "new": q.New, "changed": q.Changed} {
		if on {
			v.Set(name, "true")
		}
	}
	if q.Sort != "" {
		v.Set("sort", q.Sort)
	}
	return v
}

// orders answers GET /api/orders?removed=&new=&changed=&sort=.
func (s *Server) orders(w http.ResponseWriter, r *http.Request) {
	var f orderlist.Filter
	for name, dst := range map[string]*bool{"removed": &f.Removed, "new": &f.New, "changed": &f.Changed} {
		v, ok := boolParam(w, r, name)
		if !ok {
			return
		}
		*dst = v
	}
	orders, err := s.cfg.Store.Orders(f.Removed)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	orders = f.Apply(orders)
	if err := orderlist.Sort(orders, r.URL.Query().Get("sort")); err != nil {
		writeError(w, http.StatusBadRequest, codeBadRequest, err.Error(), "sort")
		return
	}
	writeJSON(w, http.StatusOK, OrdersResponse{Orders: nonNil(orders)})
}

// order answers GET /api/orders/{id}: the order with portal id {id}, or with ?by=number the
// order whose work-order number is {id}; 404 code not_found when there is none.
func (s *Server) order(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var (
		o   scheduler.Order
		err error
	)
	switch by := r.URL.Query().Get("by"); by {
	case "", "portal_id":
		o, err = s.cfg.Store.Order(id)
	case "number":
		o, err = s.cfg.Store.OrderByNumber(id)
	default:
		writeError(w, http.StatusBadRequest, codeBadRequest, `by must be "number" or "portal_id", got `+by, "by")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	hist, err := s.cfg.Store.OrderHistory(o.PortalID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, OrderDetail{Order: o, History: nonNil(hist)})
}

// orderHistory answers GET /api/orders/{id}/history; 404 when no order has portal id {id}.
func (s *Server) orderHistory(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, err := s.cfg.Store.Order(id); err != nil {
		s.fail(w, r, err)
		return
	}
	hist, err := s.cfg.Store.OrderHistory(id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, OrderHistoryResponse{History: nonNil(hist)})
}

// markSeen answers POST /api/marks/seen.
func (s *Server) markSeen(w http.ResponseWriter, r *http.Request) {
	var req SeenRequest
	if !decodeBody(w, r, &req) {
		return
	}
	var (
		n   int
		err error
	)
	switch {
	case req.All && len(req.PortalIDs) > 0:
		writeError(w, http.StatusBadRequest, codeBadRequest, "give portal_ids or all, not both", "all")
		return
	case req.All:
		n, err = s.cfg.Store.MarkAllSeen()
	case len(req.PortalIDs) > 0:
		n, err = s.cfg.Store.MarkSeen(req.PortalIDs...)
	default:
		writeError(w, http.StatusBadRequest, codeBadRequest, "give the portal_ids of the orders seen, or all: true", "portal_ids")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, SeenResponse{Cleared: n})
}

// OrdersWhere returns the stored orders q selects, in q's order (GET /api/orders).
func (c *Client) OrdersWhere(ctx context.Context, q OrdersQuery) ([]scheduler.Order, error) {
	path := "/api/orders"
	if v := q.values(); len(v) > 0 {
		path += "?" + v.Encode()
	}
	var res OrdersResponse
	err := c.do(ctx, http.MethodGet, path, nil, &res)
	return res.Orders, err
}

// Order returns the order with the given portal id and its change history; the error wraps
// scheduler.ErrNotFound when there is none.
func (c *Client) Order(ctx context.Context, portalID string) (OrderDetail, error) {
	var d OrderDetail
	err := c.do(ctx, http.MethodGet, "/api/orders/"+url.PathEscape(portalID), nil, &d)
	return d, err
}

// OrderByNumber returns the order whose work-order number is number (any case) and its change
// history; the error wraps scheduler.ErrNotFound when there is none.
func (c *Client) OrderByNumber(ctx context.Context, number string) (OrderDetail, error) {
	var d OrderDetail
	err := c.do(ctx, http.MethodGet, "/api/orders/"+url.PathEscape(number)+"?by=number", nil, &d)
	return d, err
}

// OrderHistory returns the change history of the order with the given portal id, newest first.
func (c *Client) OrderHistory(ctx context.Context, portalID string) ([]scheduler.OrderChange, error) {
	var res OrderHistoryResponse
	err := c.do(ctx, http.MethodGet, "/api/orders/"+url.PathEscape(portalID)+"/history", nil, &res)
	return res.History, err
}

// MarkSeen records that the user has seen the orders with the given portal ids and returns how
// many new/changed marks it cleared. An unknown id fails with scheduler.ErrNotFound and clears
// nothing.
func (c *Client) MarkSeen(ctx context.Context, portalIDs ...string) (int, error) {
	if len(portalIDs) == 0 {
		return 0, errors.New("mark seen: no portal ids")
	}
	var res SeenResponse
	err := c.do(ctx, http.MethodPost, "/api/marks/seen", SeenRequest{PortalIDs: portalIDs}, &res)
	return res.Cleared, err
}

// MarkAllSeen clears every order's new/changed mark ("Mark all seen") and returns how many.
func (c *Client) MarkAllSeen(ctx context.Context) (int, error) {
	var res SeenResponse
	err := c.do(ctx, http.MethodPost, "/api/marks/seen", SeenRequest{All: true}, &res)
	return res.Cleared, err
}
