package control

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"worktray/store"
)

// TestScheduleAndRetentionRevisions: a settings GET carries the revision; a write at that
// revision is applied and moves it on; a write at the old one is refused with 409
// stale_revision naming both revisions, and changes nothing; a write without a revision still
// applies; a malformed If-Match is a 400 naming the header.
func TestScheduleAndRetentionRevisions(t *testing.T) {
	h := newHarness(t, Hooks{})
	ctx := ctxT(t)
	si, err := h.client.Schedule(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r0 := si.Revision
	sc := si.Schedule
	sc.Minute = 10
	got, err := h.client.SetScheduleAt(ctx, sc, r0)
	if err != nil || got.Revision != r0+1 || got.Schedule.Minute != 10 {
		t.Fatalf("SetScheduleAt at the current revision: %+v, %v", got, err)
	}
	sc.Minute = 20
	_, err = h.client.SetScheduleAt(ctx, sc, r0)
	var se *store.StaleRevisionError
	if !errors.Is(err, store.ErrStaleRevision) || !errors.As(err, &se) || se.Based != r0 || se.Current != r0+1 || se.Setting != "schedule" {
		t.Fatalf("SetScheduleAt at an old revision: %v (%+v)", err, se)
	}
	if now := h.svc.Schedule(); now.Minute != 10 {
		t.Fatalf("a refused write changed the schedule: minute %d", now.Minute)
	}
	if got, err := h.client.SetSchedule(ctx, sc); err != nil || got.Revision != r0+2 {
		t.Fatalf("SetSchedule without a revision: %+v, %v", got, err)
	}

	ri, err := h.client.RetentionInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.client.SetRetentionAt(ctx, store.Retention{KeepRuns: 500}, ri.Revision); err != nil {
		t.Fatal(err)
	}
	if _, err := h.client.SetRetentionAt(ctx, store.Retention{KeepRuns: 700}, ri.Revision); !errors.Is(err, store.ErrStaleRevision) {
		t.Fatalf("retention at an old revision: %v", err)
	}
	if r, _ := h.db.Retention(); r.KeepRuns != 500 {
		t.Fatalf("retention %d after the refused write, want 500", r.KeepRuns)
	}

	// The wire: 409 with the code and both revisions; a bad If-Match is a 400.
	for _, tc := range []struct {
		ifMatch string
		status  int
		code    string
	}{{`"0"`, http.StatusConflict, codeStaleRevision}, {"yesterday", http.StatusBadRequest, codeBadRequest}} {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPut, "http://worktray/api/retention", strings.NewReader(`{"keep_runs":900}`))
		req.Header.Set("If-Match", tc.ifMatch)
		resp, err := h.client.hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var b errorBody
		_ = json.NewDecoder(resp.Body).Decode(&b)
		resp.Body.Close()
		if resp.StatusCode != tc.status || b.Code != tc.code {
			t.Errorf("If-Match %s: %d %+v, want %d %s", tc.ifMatch, resp.StatusCode, b, tc.status, tc.code)
		}
		if tc.code == codeStaleRevision && (b.Setting != store.RetentionKey || b.Based != 0 || b.Revision != ri.Revision+1) {
			t.Errorf("stale answer %+v", b)
		}
		if tc.code == codeBadRequest && b.Field != "If-Match" {
			t.Errorf("bad If-Match answer names %q", b.Field)
		}
	}
	if r, _ := h.db.Retention(); r.KeepRuns != 500 {
		t.Fatalf("retention %d after refused writes, want 500", r.KeepRuns)
	}
}

// memAlerts is the owner's alert settings hook over a value in memory with a revision; apply
// blocks while gate is set, so a test can hold a write in progress.
type memAlerts struct {
	mu      sync.Mutex
	rev     uint64
	value   int
	applied atomic.Int32
	gate    chan struct{}
	entered chan struct{}
	ctxErr  atomic.Value
}

func (m *memAlerts) hooks() Hooks {
	return Hooks{
		Alerts: func(context.Context) (AlertsInfo, error) {
			m.mu.Lock()
			defer m.mu.Unlock()
			b, _ := json.Marshal(map[string]int{"failure_threshold": m.value})
			return AlertsInfo{Settings: b, Revision: m.rev}, nil
		},
		SetAlerts: func(ctx context.Context, in AlertsInput) (AlertsInfo, error) {
			if m.gate != nil {
				m.entered <- struct{}{}
				<-m.gate
			}
			m.ctxErr.Store(errBox{ctx.Err()})
			m.mu.Lock()
			defer m.mu.Unlock()
			if in.FailureThreshold != nil {
				m.value = *in.FailureThreshold
			}
			m.rev++
			m.applied.Add(1)
			return AlertsInfo{Revision: m.rev}, nil
		},
	}
}

type errBox struct{ err error }

// TestSettingsWriteOutlivesItsClient: a write the owner has begun is applied wholly although
// its client timed out meanwhile (the client hears "not responding"), and the revision then
// says it was applied; a write at the revision the timed-out client had read is then refused.
func TestSettingsWriteOutlivesItsClient(t *testing.T) {
	m := &memAlerts{gate: make(chan struct{}), entered: make(chan struct{}, 2)}
	h := newHarness(t, m.hooks())
	n := 5
	errA := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		_, err := h.client.SetAlertsAt(ctx, AlertsInput{FailureThreshold: &n}, 0)
		errA <- err
	}()
	<-m.entered
	if err := <-errA; !errors.Is(err, ErrNotResponding) {
		t.Fatalf("the timed-out client got %v, want ErrNotResponding", err)
	}
	close(m.gate)
	eventually(t, "the write applied", func() bool { return m.applied.Load() == 1 })
	if e, _ := m.ctxErr.Load().(errBox); e.err != nil {
		t.Errorf("the write ran with a canceled context: %v", e.err)
	}
	ai, err := h.client.Alerts(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if ai.Revision != 1 || !strings.Contains(string(ai.Settings), `"failure_threshold":5`) {
		t.Fatalf("after the timed-out write: %+v %s; want it applied at revision 1", ai, ai.Settings)
	}
	other := 9
	if _, err := h.client.SetAlertsAt(ctxT(t), AlertsInput{FailureThreshold: &other}, 0); !errors.Is(err, store.ErrStaleRevision) {
		t.Fatalf("a retry at the revision read before: %v, want ErrStaleRevision", err)
	}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}
