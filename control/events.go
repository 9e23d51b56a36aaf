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

// Heartbeat is how often the event stream sends a heartbeat (an empty line) when no event is
// due, so that a client can tell a quiet owner from one that stopped answering: a client that
// hears nothing for a few heartbeats (EventStream's StreamTimeout) treats the stream as dead.
const Heartbeat = 2 * time.Second

// events streams the scheduler's events as NDJSON lines, with an empty line every heartbeat.
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
	beat := time.NewTicker(s.cfg.Heartbeat)
	defer beat.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-beat.C:
			_ = rc.SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout))
			if _, err := w.Write([]byte("\n")); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
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
