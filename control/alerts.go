package control

import (
	"context"
	"net/http"

	"worktray/scheduler"
	"worktray/store"
)

// OutboxSent is how many delivered alerts GET /api/alerts/outbox returns.
const OutboxSent = 20

// OutboxResponse answers GET /api/alerts/outbox: the alerts waiting for delivery (oldest
// first), the last OutboxSent delivered ones (newest first) and the delivery state (a refused
// Pushover key, held alerts).
type OutboxResponse struct {
	Pending  []scheduler.Alert       `json:"pending"`
	Sent     []store.SentAlert       `json:"sent"`
	Delivery scheduler.AlertDelivery `json:"delivery"`
}

// alertsOutbox answers GET /api/alerts/outbox.
func (s *Server) alertsOutbox(w http.ResponseWriter, r *http.Request) {
	pending, err := s.cfg.Store.PendingAlerts(0)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	sent, err := s.cfg.Store.SentAlerts(OutboxSent)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d, err := s.cfg.Store.AlertDelivery()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, OutboxResponse{Pending: nonNil(pending), Sent: nonNil(sent), Delivery: d})
}

// alertDelivery returns the saved delivery state when something in it needs the user, for the
// status; nil when alerts flow or it cannot be read (the status must not fail for it).
func (s *Server) alertDelivery() *scheduler.AlertDelivery {
	d, err := s.cfg.Store.AlertDelivery()
	if err != nil {
		s.log.Warn("control: reading the alert delivery state failed", "err", err)
		return nil
	}
	if len(d.Problems()) == 0 {
		return nil
	}
	return &d
}

// AlertsOutbox returns the alert outbox: pending alerts, the last delivered ones and the
// delivery state.
func (c *Client) AlertsOutbox(ctx context.Context) (OutboxResponse, error) {
	var res OutboxResponse
	err := c.do(ctx, http.MethodGet, "/api/alerts/outbox", nil, &res)
	return res, err
}
