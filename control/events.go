package control

import (
	"encoding/json"
	"net/http"
	"time"

	"worktray/scheduler"
)

// EventDropped is the kind of the stream line that says the client fell behind and lost events
// (a scheduler.Event with only Kind and At set, and Dropped in StreamEvent). A client should
// re-read the status.
const EventDropped scheduler.EventKind = "events_dropped"

// StreamEvent is one line of GET /api/events.
type StreamEvent struct {
	scheduler.Event
	Dropped int64 `json:"dropped,omitempty"` // for EventDropped: events lost so far
}

func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	sub := s.cfg.Scheduler.Subscribe(s.cfg.EventBuffer)
	defer sub.Close()
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	if err := rc.Flush(); err != nil {
		return
	}
	enc := json.NewEncoder(w)
	var dropped int64
	for {
		select {
		case <-r.Context().Done():
			return
		case ev, ok := <-sub.C:
			if !ok {
				return
			}
			_ = rc.SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout))
			if d := sub.Dropped(); d != dropped {
				dropped = d
				if err := enc.Encode(StreamEvent{Event: scheduler.Event{Kind: EventDropped, At: time.Now().UTC()}, Dropped: d}); err != nil {
					return
				}
			}
			if err := enc.Encode(StreamEvent{Event: ev}); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
		}
	}
}
