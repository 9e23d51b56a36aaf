package control

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"worktray/scheduler"
	"worktray/store"
)

// Client talks to the owner over the control socket. Every method honours ctx and, when ctx has
// no deadline, bounds the request with a timeout: RequestTimeout for most; a longer one for the
// calls that take long by nature (Backup, Diagnose, TestLogin, SendTestAlert), during which the
// client checks every PingInterval that the owner still answers. The event stream must deliver
// a line (an event or the server's heartbeat) at least every StreamTimeout. An owner that does
// not answer in time (stopped with SIGSTOP, hung) gives a *NotRespondingError, which matches
// ErrNotResponding and names the owner's pid. A Client is safe for concurrent use and keeps its
// connection open between calls; Close releases it. Set the timeouts before the first call.
type Client struct {
	socket string
	hc     *http.Client
	pid    atomic.Int64 // the owner's pid, from the peer credentials of the latest connection
	// RequestTimeout bounds a request whose ctx has no deadline, and the wait for the event
	// stream's first answer. Default 5 s; 0 waits on ctx alone.
	RequestTimeout time.Duration
	// StreamTimeout is how long an event stream may stay silent (no event, no heartbeat)
	// before Next gives up with a *NotRespondingError. Default 3 heartbeats (6 s); 0 never.
	StreamTimeout time.Duration
	// PingInterval is how often a long call checks that the owner still answers. Default 2 s;
	// 0 never.
	PingInterval time.Duration
}

// DialTimeout bounds connecting to the socket.
const DialTimeout = time.Second

// NewClient returns a client of the owner listening on socket. It does not connect; the first
// call does, and fails with an error matching ErrNoOwner when nothing listens there, and one
// matching ErrForeignSocket when the process listening there runs as another user (nothing is
// sent to it then).
func NewClient(socket string) *Client {
	uid := os.Getuid()
	c := &Client{socket: socket, RequestTimeout: 5 * time.Second, StreamTimeout: 3 * Heartbeat, PingInterval: 2 * time.Second}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			conn, err := dialOwner(ctx, socket, uid)
			if err == nil {
				if cred, err := PeerCred(conn); err == nil {
					c.pid.Store(int64(cred.Pid))
				}
			}
			return conn, err
		},
		MaxIdleConns:          4,
		IdleConnTimeout:       30 * time.Second,
		ResponseHeaderTimeout: 0,
		DisableCompression:    true,
	}
	c.hc = &http.Client{Transport: tr}
	return c
}

// dialOwner connects to the unix socket and checks, with SO_PEERCRED, that the process serving
// it runs as uid; otherwise it closes the connection before anything is written and returns an
// error matching ErrForeignSocket that names the socket. It blocks up to DialTimeout.
func dialOwner(ctx context.Context, socket string, uid int) (net.Conn, error) {
	d := net.Dialer{Timeout: DialTimeout}
	c, err := d.DialContext(ctx, "unix", socket)
	if err != nil {
		return nil, err
	}
	cred, err := PeerCred(c)
	if err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("control socket %s: %w", socket, err)
	}
	if int(cred.Uid) != uid {
		_ = c.Close()
		return nil, fmt.Errorf("%w: %s is served by user id %d (pid %d), not by this user (%d)",
			ErrForeignSocket, socket, cred.Uid, cred.Pid, uid)
	}
	return c, nil
}

// Dial returns a client of the owner on socket after checking that it answers (GET
// /api/status, whose answer it returns). It fails with an error matching ErrNoOwner when no owner
// runs.
func Dial(ctx context.Context, socket string) (*Client, Status, error) {
	c := NewClient(socket)
	st, err := c.Status(ctx)
	if err != nil {
		c.Close()
		return nil, Status{}, err
	}
	return c, st, nil
}

// Socket returns the socket path the client talks to.
func (c *Client) Socket() string { return c.socket }

// Close closes idle connections. The client stays usable.
func (c *Client) Close() { c.hc.CloseIdleConnections() }

// do sends a request, bounded by RequestTimeout when ctx has no deadline, and decodes a 2xx
// JSON answer into out (may be nil). An error answer becomes *Error.
func (c *Client) do(ctx context.Context, method, path string, in, out any, hdr ...string) error {
	if _, ok := ctx.Deadline(); !ok && c.RequestTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.RequestTimeout)
		defer cancel()
	}
	return c.exchange(ctx, method, path, in, out, hdr...)
}

// ifMatchHeader is the header of a settings write at revision rev.
func ifMatchHeader(rev uint64) []string {
	return []string{"If-Match", strconv.Quote(strconv.FormatUint(rev, 10))}
}

// doLong is do for a call that may take up to d by nature (a backup, the checks, a login test)
// when ctx has no deadline. While it waits, the client asks the owner for its status every
// PingInterval and gives up with a *NotRespondingError as soon as the owner stops answering.
func (c *Client) doLong(ctx context.Context, d time.Duration, method, path string, in, out any) error {
	ctx, cancel := withDefaultTimeout(ctx, d)
	defer cancel()
	if c.PingInterval <= 0 || c.RequestTimeout <= 0 {
		return c.exchange(ctx, method, path, in, out)
	}
	// The owner must start the call within RequestTimeout, as any other: the client gives up on
	// a silent owner that soon (watch), and the owner must not apply the call after that.
	start := startDeadline(ctx, time.Now().Add(c.RequestTimeout))
	wctx, stop := context.WithCancelCause(ctx)
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		c.watch(wctx, stop)
	}()
	err := c.exchange(wctx, method, path, in, out, start...)
	cause := context.Cause(wctx)
	stop(nil)
	<-watched
	if errors.Is(cause, ErrNotResponding) {
		return cause
	}
	if errors.Is(err, ErrNotResponding) && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		// The owner kept answering the pings: it is busy, not silent.
		return fmt.Errorf("control API %s %s: the owner answers but did not finish in time: %w", method, path, context.DeadlineExceeded)
	}
	return err
}

// watch asks for the owner's status every PingInterval until ctx is done; when a ping goes
// unanswered for RequestTimeout it stops ctx with the *NotRespondingError.
func (c *Client) watch(ctx context.Context, stop context.CancelCauseFunc) {
	t := time.NewTicker(c.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, c.RequestTimeout)
		resp, err := c.send(pctx, http.MethodGet, "/api/status", nil)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		cancel()
		if errors.Is(err, ErrNotResponding) {
			stop(err)
			return
		}
	}
}

// exchange sends a request (with the header name, value pairs hdr) and decodes a 2xx JSON answer
// into out (may be nil). An error answer becomes *Error.
func (c *Client) exchange(ctx context.Context, method, path string, in, out any, hdr ...string) error {
	resp, err := c.send(ctx, method, path, in, hdr...)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		if ne := c.notResponding(ctx, err, method+" "+path); ne != nil {
			return ne
		}
		return fmt.Errorf("control API %s %s: reading the answer: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		return decodeError(resp.StatusCode, data)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("control API %s %s: decoding the answer: %w", method, path, err)
	}
	return nil
}

func (c *Client) send(ctx context.Context, method, path string, in any, hdr ...string) (*http.Response, error) {
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return nil, fmt.Errorf("control API %s %s: %w", method, path, err)
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://worktray"+path, body)
	if err != nil {
		return nil, fmt.Errorf("control API %s %s: %w", method, path, err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	if req.Header.Get(DeadlineHeader) == "" {
		setDeadline(ctx, req.Header)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if noOwner(err) {
			return nil, fmt.Errorf("%w (nothing answers on %s)", ErrNoOwner, c.socket)
		}
		if ne := c.notResponding(ctx, err, method+" "+path); ne != nil {
			return nil, ne
		}
		return nil, fmt.Errorf("control API %s %s: %w", method, path, err)
	}
	return resp, nil
}

// notResponding returns a *NotRespondingError when err comes from the request's deadline
// passing or the connection attempt timing out, and nil otherwise (a cancel is not silence).
func (c *Client) notResponding(ctx context.Context, err error, op string) error {
	var ne net.Error
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) ||
		(errors.As(err, &ne) && ne.Timeout()) {
		return c.notRespondingError(op)
	}
	return nil
}

func (c *Client) notRespondingError(op string) *NotRespondingError {
	return &NotRespondingError{PID: int(c.pid.Load()), Socket: c.socket, Op: op}
}

// noOwner reports whether a request failed because nothing listens on the socket: the file is
// missing, or left behind by an owner that died.
func noOwner(err error) bool {
	return errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOTSOCK)
}

func decodeError(status int, data []byte) error {
	var b errorBody
	if err := json.Unmarshal(data, &b); err != nil || b.Error == "" {
		return &Error{Status: status, Message: fmt.Sprintf("control API: %d %s", status, http.StatusText(status))}
	}
	e := &Error{Status: status, Code: b.Code, Message: b.Error, Field: b.Field, Run: b.Run,
		Setting: b.Setting, Based: b.Based, Revision: b.Revision}
	for _, f := range b.Fields {
		e.Fields = append(e.Fields, &scheduler.FieldError{Field: f.Field, Msg: f.Error})
	}
	return e
}

// Status returns the owner's status.
func (c *Client) Status(ctx context.Context) (Status, error) {
	var st Status
	err := c.do(ctx, http.MethodGet, "/api/status", nil, &st)
	if err == nil {
		_ = st.Schedule.Validate() // loads the zone, for Next and Location
	}
	return st, err
}

// Scrape asks for a manual run and returns its record. While another run is in progress it
// returns that run and an error matching scheduler.ErrAlreadyRunning.
func (c *Client) Scrape(ctx context.Context) (scheduler.Run, error) {
	var res RunResponse
	err := c.do(ctx, http.MethodPost, "/api/scrape", nil, &res)
	var e *Error
	if errors.As(err, &e) && e.Run != nil {
		return *e.Run, err
	}
	return res.Run, err
}

// Cancel cancels the run in progress; it fails with scheduler.ErrNotRunning when none is.
func (c *Client) Cancel(ctx context.Context) error {
	return c.do(ctx, http.MethodPost, "/api/cancel", nil, nil)
}

// Pause pauses scheduled runs and returns the new status.
func (c *Client) Pause(ctx context.Context) (Status, error) {
	var st Status
	err := c.do(ctx, http.MethodPost, "/api/pause", nil, &st)
	return st, err
}

// Resume resumes scheduled runs and returns the new status.
func (c *Client) Resume(ctx context.Context) (Status, error) {
	var st Status
	err := c.do(ctx, http.MethodPost, "/api/resume", nil, &st)
	return st, err
}

// History returns the n newest runs (only failed ones with failed), newest first.
func (c *Client) History(ctx context.Context, n int, failed bool) ([]scheduler.Run, error) {
	q := url.Values{"n": {strconv.Itoa(n)}}
	if failed {
		q.Set("failed", "true")
	}
	var res RunsResponse
	err := c.do(ctx, http.MethodGet, "/api/history?"+q.Encode(), nil, &res)
	return res.Runs, err
}

// Run returns one run; the error matches scheduler.ErrNotFound when there is none.
func (c *Client) Run(ctx context.Context, id uint64) (scheduler.Run, error) {
	var r scheduler.Run
	err := c.do(ctx, http.MethodGet, "/api/runs/"+strconv.FormatUint(id, 10), nil, &r)
	return r, err
}

// Orders returns the stored orders (with the removed ones when includeRemoved is set).
func (c *Client) Orders(ctx context.Context, includeRemoved bool) ([]scheduler.Order, error) {
	path := "/api/orders"
	if includeRemoved {
		path += "?removed=true"
	}
	var res OrdersResponse
	err := c.do(ctx, http.MethodGet, path, nil, &res)
	return res.Orders, err
}

// Schedule returns the schedule in force (validated, so its zone is loaded) and its next runs.
func (c *Client) Schedule(ctx context.Context) (ScheduleInfo, error) {
	var si ScheduleInfo
	err := c.do(ctx, http.MethodGet, "/api/schedule", nil, &si)
	if err == nil {
		_ = si.Schedule.Validate()
	}
	return si, err
}

// SetSchedule saves and applies a schedule whatever its revision (the last writer wins; prefer
// SetScheduleAt). An invalid one changes nothing and returns an error that errors.As turns into
// a scheduler.ValidationError naming the fields.
func (c *Client) SetSchedule(ctx context.Context, sc scheduler.Schedule) (ScheduleInfo, error) {
	return c.setSchedule(ctx, sc)
}

// SetScheduleAt saves and applies a schedule if the stored one is still at revision rev (from
// ScheduleInfo.Revision), and returns it with its new revision. When someone else saved the
// schedule since, nothing changes and the error matches store.ErrStaleRevision (errors.As gives
// a *store.StaleRevisionError with the current revision). The owner applies a write it has
// begun wholly even if ctx ends meanwhile; after a timeout, read the schedule to see which.
func (c *Client) SetScheduleAt(ctx context.Context, sc scheduler.Schedule, rev uint64) (ScheduleInfo, error) {
	return c.setSchedule(ctx, sc, ifMatchHeader(rev)...)
}

func (c *Client) setSchedule(ctx context.Context, sc scheduler.Schedule, hdr ...string) (ScheduleInfo, error) {
	var si ScheduleInfo
	err := c.do(ctx, http.MethodPut, "/api/schedule", sc, &si, hdr...)
	if err == nil {
		_ = si.Schedule.Validate()
	}
	return si, err
}

// Preview validates sc and returns its next n runs without saving it.
func (c *Client) Preview(ctx context.Context, sc scheduler.Schedule, n int) ([]time.Time, error) {
	var si ScheduleInfo
	err := c.do(ctx, http.MethodPost, "/api/schedule/preview?n="+strconv.Itoa(n), sc, &si)
	return si.NextRuns, err
}

// ShowWindow asks the owner to show a window (status, history, orders, settings). A headless
// owner answers with an error matching ErrNoWindows.
func (c *Client) ShowWindow(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodPost, "/api/window", WindowRequest{Window: name}, nil)
}

// Health returns the owner's health verdict (also when it is unhealthy: err is nil then).
func (c *Client) Health(ctx context.Context) (Health, error) {
	var h Health
	if _, ok := ctx.Deadline(); !ok && c.RequestTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.RequestTimeout)
		defer cancel()
	}
	resp, err := c.send(ctx, http.MethodGet, "/api/scheduler/health", nil)
	if err != nil {
		return h, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		if ne := c.notResponding(ctx, err, "GET /api/scheduler/health"); ne != nil {
			return h, ne
		}
		return h, fmt.Errorf("control API health: %w", err)
	}
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusServiceUnavailable {
		return h, decodeError(resp.StatusCode, data)
	}
	if err := json.Unmarshal(data, &h); err != nil {
		return h, fmt.Errorf("control API health: %w", err)
	}
	return h, nil
}

// Backup makes the owner write a consistent copy of the store to path, which must be absolute.
// It waits up to ten minutes unless ctx says otherwise, and gives up early when the owner stops
// answering.
func (c *Client) Backup(ctx context.Context, path string) (BackupResult, error) {
	var res BackupResult
	err := c.doLong(ctx, 10*time.Minute, http.MethodPost, "/api/backup", BackupRequest{Path: path}, &res)
	return res, err
}

// Diagnose runs the owner's checks (and its repairs with fix). It waits up to two minutes unless
// ctx says otherwise (the checks may start a browser), and gives up early when the owner stops
// answering.
func (c *Client) Diagnose(ctx context.Context, fix bool) (Diagnosis, error) {
	var d Diagnosis
	err := c.doLong(ctx, 2*time.Minute, http.MethodPost, "/api/diagnose", DiagnoseRequest{Fix: fix}, &d)
	return d, err
}

// Portal returns the portal settings (never the password).
func (c *Client) Portal(ctx context.Context) (PortalInfo, error) {
	var p PortalInfo
	err := c.do(ctx, http.MethodGet, "/api/portal", nil, &p)
	return p, err
}

// SetPortal saves the portal settings whatever their revision (prefer SetPortalAt); see
// PortalInput. A URL with credentials or a bad user name is refused naming the field
// (ValidatePortalInput).
func (c *Client) SetPortal(ctx context.Context, in PortalInput) (PortalInfo, error) {
	var p PortalInfo
	err := c.do(ctx, http.MethodPut, "/api/portal", in, &p)
	return p, err
}

// SetPortalAt is SetPortal if the portal settings are still at revision rev (from
// PortalInfo.Revision); see SetScheduleAt for a stale revision.
func (c *Client) SetPortalAt(ctx context.Context, in PortalInput, rev uint64) (PortalInfo, error) {
	var p PortalInfo
	err := c.do(ctx, http.MethodPut, "/api/portal", in, &p, ifMatchHeader(rev)...)
	return p, err
}

// TestLogin signs in to the portal with the saved settings. A failed login is returned as a
// *scheduler.RunError with its class.
func (c *Client) TestLogin(ctx context.Context) error {
	var res struct {
		OK         bool                 `json:"ok"`
		ErrorClass scheduler.ErrorClass `json:"error_class"`
		Error      string               `json:"error"`
	}
	if err := c.doLong(ctx, 2*time.Minute, http.MethodPost, "/api/portal/test", nil, &res); err != nil {
		return err
	}
	if !res.OK {
		return &scheduler.RunError{Class: res.ErrorClass, Msg: res.Error}
	}
	return nil
}

// Alerts returns the alert settings and whether the Pushover keys are set (never the keys).
func (c *Client) Alerts(ctx context.Context) (AlertsInfo, error) {
	var a AlertsInfo
	err := c.do(ctx, http.MethodGet, "/api/alerts", nil, &a)
	return a, err
}

// SetAlerts saves the alert settings whatever their revision (prefer SetAlertsAt); see
// AlertsInput.
func (c *Client) SetAlerts(ctx context.Context, in AlertsInput) (AlertsInfo, error) {
	var a AlertsInfo
	err := c.do(ctx, http.MethodPut, "/api/alerts", in, &a)
	return a, err
}

// SetAlertsAt is SetAlerts if the alert settings are still at revision rev (from
// AlertsInfo.Revision); see SetScheduleAt for a stale revision.
func (c *Client) SetAlertsAt(ctx context.Context, in AlertsInput, rev uint64) (AlertsInfo, error) {
	var a AlertsInfo
	err := c.do(ctx, http.MethodPut, "/api/alerts", in, &a, ifMatchHeader(rev)...)
	return a, err
}

// SendTestAlert sends a test alert through every enabled channel.
func (c *Client) SendTestAlert(ctx context.Context) error {
	return c.doLong(ctx, time.Minute, http.MethodPost, "/api/alerts/test", nil, nil)
}

// Retention returns how much run history the owner keeps.
func (c *Client) Retention(ctx context.Context) (store.Retention, error) {
	var r store.Retention
	err := c.do(ctx, http.MethodGet, "/api/retention", nil, &r)
	return r, err
}

// SetRetention saves how much run history the owner keeps; the owner prunes to it at once. An
// invalid value changes nothing and returns an error that errors.As turns into a
// scheduler.ValidationError naming keep_runs.
func (c *Client) SetRetention(ctx context.Context, r store.Retention) (store.Retention, error) {
	var out RetentionInfo
	err := c.do(ctx, http.MethodPut, "/api/retention", r, &out)
	return out.Retention, err
}

// RetentionInfo returns the retention with its revision.
func (c *Client) RetentionInfo(ctx context.Context) (RetentionInfo, error) {
	var r RetentionInfo
	err := c.do(ctx, http.MethodGet, "/api/retention", nil, &r)
	return r, err
}

// SetRetentionAt is SetRetention if the retention is still at revision rev (from
// RetentionInfo.Revision); see SetScheduleAt for a stale revision.
func (c *Client) SetRetentionAt(ctx context.Context, r store.Retention, rev uint64) (RetentionInfo, error) {
	var out RetentionInfo
	err := c.do(ctx, http.MethodPut, "/api/retention", r, &out, ifMatchHeader(rev)...)
	return out, err
}

func withDefaultTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, d)
}

// Events opens the event stream. The subscription is in place when Events returns, so a command
// sent afterwards has its events in the stream. The owner must answer within RequestTimeout, or
// Events returns a *NotRespondingError. The stream ends when ctx is done, the owner stops, the
// stream stays silent past StreamTimeout, or Close is called.
func (c *Client) Events(ctx context.Context) (*EventStream, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	var timer *time.Timer
	if c.RequestTimeout > 0 {
		timer = time.AfterFunc(c.RequestTimeout, func() { cancel(c.notRespondingError("GET /api/events")) })
	}
	resp, err := c.send(ctx, http.MethodGet, "/api/events", nil)
	if timer != nil && !timer.Stop() {
		// The answer did not come in time.
		if err == nil {
			resp.Body.Close()
		}
		err = context.Cause(ctx)
	}
	if err != nil {
		cancel(nil)
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		cancel(nil)
		return nil, decodeError(resp.StatusCode, data)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	return &EventStream{ctx: ctx, body: resp.Body, sc: sc, cancel: cancel, timeout: c.StreamTimeout,
		silent: func() error { return c.notRespondingError("the event stream") }}, nil
}

// EventStream is an open stream of scheduler events. Next is not safe for concurrent use; Close
// is safe to call from another goroutine.
type EventStream struct {
	ctx     context.Context
	body    io.ReadCloser
	sc      *bufio.Scanner
	cancel  context.CancelCauseFunc
	timeout time.Duration
	silent  func() error
}

// Next blocks until the next event and returns it; heartbeats (empty lines) are skipped. It
// returns io.EOF when the owner ended the stream (it stopped), a *NotRespondingError when no
// line came for the client's StreamTimeout, and the context's error when the stream's context
// is done.
func (s *EventStream) Next() (StreamEvent, error) {
	for {
		var t *time.Timer
		if s.timeout > 0 {
			t = time.AfterFunc(s.timeout, func() { s.cancel(s.silent()) })
		}
		ok := s.sc.Scan()
		if t != nil && !t.Stop() {
			return StreamEvent{}, context.Cause(s.ctx)
		}
		if !ok {
			break
		}
		line := s.sc.Bytes()
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var ev StreamEvent
		if err := json.Unmarshal(line, &ev); err != nil {
			return ev, fmt.Errorf("event stream: %w", err)
		}
		return ev, nil
	}
	if err := s.sc.Err(); err != nil {
		return StreamEvent{}, fmt.Errorf("event stream: %w", err)
	}
	return StreamEvent{}, io.EOF
}

// Close ends the stream.
func (s *EventStream) Close() error {
	s.cancel(nil)
	return s.body.Close()
}
