package notify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"worktray/scheduler"
)

// Outbox is the store's alert outbox as the Notifier uses it. The real store implements it; each
// method is one transaction.
type Outbox interface {
	// PendingAlerts returns up to limit undelivered alerts, oldest first.
	PendingAlerts(limit int) ([]scheduler.Alert, error)
	// UpdateAlert rewrites an alert's delivery bookkeeping (Attempts, NextTry, LastError).
	UpdateAlert(a scheduler.Alert) error
	// AckAlert marks an alert delivered (it leaves the pending set for good).
	AckAlert(id uint64, at time.Time) error
}

// SettingsSource reads a stored setting into v; found is false when it was never stored.
type SettingsSource interface {
	Setting(key string, v any) (found bool, err error)
}

// Credentials returns the Pushover application token and user key (empty when not set).
// *secret.Store implements it.
type Credentials interface {
	PushoverCredentials() (token, user string, err error)
}

// StateStore is the scheduler state as the re-notify reminder needs it.
type StateStore interface {
	State() (scheduler.State, error)
	// UpdateStateAndEnqueue saves the state fn left and the alerts it returned in one
	// transaction.
	UpdateStateAndEnqueue(fn func(*scheduler.State) []scheduler.Alert) (scheduler.State, error)
}

// DeliveryStore keeps the Notifier's scheduler.AlertDelivery; the real store implements it.
type DeliveryStore interface {
	AlertDelivery() (scheduler.AlertDelivery, error)
	SaveAlertDelivery(scheduler.AlertDelivery) error
}

// Config configures a Notifier. Outbox and Settings are required.
type Config struct {
	Outbox   Outbox
	Settings SettingsSource
	// Credentials supplies the Pushover keys; nil means none (Pushover alerts then wait with a
	// settings error while Pushover is enabled).
	Credentials Credentials
	// Desktop shows desktop notifications; nil means none.
	Desktop Desktop
	// Policy and State, when both set, make the Notifier raise the re-notify reminders
	// (Policy.Tick) and keep the policy's settings in step with the stored ones.
	Policy *Policy
	State  StateStore
	// Delivery, when set, keeps the delivery state (a refused key, held alerts) in the store,
	// so it survives restarts and is shown while no owner runs.
	Delivery DeliveryStore
	// Clock defaults to the real clock.
	Clock clockwork.Clock
	// Logger defaults to discarding.
	Logger *slog.Logger
	// Redactor, if set, scrubs error texts before they are stored or logged.
	Redactor Redactor
	// PushoverEndpoint defaults to DefaultPushoverEndpoint.
	PushoverEndpoint string
	// HTTPClient defaults to a client with its own transport (closed when Run returns).
	HTTPClient *http.Client
	// SendTimeout bounds each Pushover send and each desktop notification (default 15 s).
	SendTimeout time.Duration
	// PollInterval is how often the outbox is looked at without a Kick (default 1 min).
	PollInterval time.Duration
	// Backoff is the first retry delay after a failed send (default 30 s); it doubles per
	// attempt up to MaxBackoff (default 10 min), with ±20 % jitter.
	Backoff, MaxBackoff time.Duration
}

// Status is what the Notifier reports about delivery, for the status window and the CLI.
type Status struct {
	// SettingsError is set while Pushover rejects (or lacks) the token or user key; it is a
	// *scheduler.FieldError naming the field. Pushover delivery waits until they change.
	SettingsError error
	// RetryAt is when the next Pushover attempt is due after a failure or a rate limit.
	RetryAt time.Time
	// HeldUntil is when quiet hours end while Pushover alerts are held.
	HeldUntil time.Time
	// LastError is the last delivery failure in plain words, empty after a success.
	LastError string
	// LastSent is when an alert was last delivered to Pushover.
	LastSent time.Time
	// Remaining is Pushover's "messages left this month" from the last reply, -1 when unknown.
	Remaining int
}

// Notifier delivers the outbox: each alert to the desktop (once, best effort) and to Pushover
// (in order, retried with backoff until sent).
//
// Delivery guarantees. An alert stays in the store's outbox until Pushover answered 2xx for it
// (a 2xx without limit headers counts as sent) and is acknowledged right after that reply, so it
// survives restarts and outages: never lost. The acknowledgement is a separate transaction after
// the reply, so a crash in the few milliseconds between them, or a reply lost after Pushover
// accepted the message (a timeout), sends it again: at-least-once, with that window as the only
// source of duplicates (Pushover has no idempotency key). Pushover alerts go strictly oldest
// first: while the oldest cannot be sent nothing behind it is, so after an outage they arrive in
// the order they were raised. The retry schedule is kept in the alert (NextTry), so a restart
// does not reset backoff or a rate-limit wait.
//
// Desktop notifications are at-most-once: the alert is marked (Attempts 1) before it is shown,
// and a failure (no session bus, no notification server) is logged, not retried.
//
// Pushover alerts are held during quiet hours and sent when they end. Alerts for Pushover while
// Pushover is disabled are acknowledged after their desktop notification.
//
// Run is the loop; Kick, Status and SendTest are safe for concurrent use with it.
type Notifier struct {
	cfg     Config
	clock   clockwork.Clock
	log     *slog.Logger
	client  pushoverClient
	ownHTTP bool
	kick    chan struct{}

	mu        sync.Mutex
	status    Status
	blockedFP [32]byte // fingerprint of the credentials Pushover rejected; zero when none
	blocked   bool
	lastGood  Settings
	// unacked holds alerts Pushover accepted whose acknowledgement in the outbox failed: later
	// passes retry only the acknowledgement, never the send.
	unacked map[uint64]bool
	// withdrawDue is set by ScrapesWork until a pass has withdrawn the failure notifications.
	withdrawDue bool
	// problem is the refused key while blocked; holdReason why the oldest Pushover alert waits
	// for its NextTry (rate limit or outage).
	problem    *scheduler.DeliveryProblem
	holdReason scheduler.HoldReason
	delivery   scheduler.AlertDelivery // as last computed
	saved      string                  // JSON of the delivery last saved, without Updated
	loaded     bool                    // the saved delivery was read at the start of Run

	// idle, when set by tests, is called each time Run waits, after its timer is armed, with the
	// instant it will wake at the latest.
	idle func(wake time.Time)
}

// New returns a Notifier. It does not start delivering until Run.
func New(cfg Config) (*Notifier, error) {
	if cfg.Outbox == nil || cfg.Settings == nil {
		return nil, errors.New("notify: Config.Outbox and Config.Settings are required")
	}
	if cfg.Clock == nil {
		cfg.Clock = clockwork.NewRealClock()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.PushoverEndpoint == "" {
		cfg.PushoverEndpoint = DefaultPushoverEndpoint
	}
	if cfg.SendTimeout <= 0 {
		cfg.SendTimeout = 15 * time.Second
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = time.Minute
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = 30 * time.Second
	}
	if cfg.MaxBackoff < cfg.Backoff {
		cfg.MaxBackoff = max(10*time.Minute, cfg.Backoff)
	}
	n := &Notifier{cfg: cfg, clock: cfg.Clock, log: cfg.Logger, kick: make(chan struct{}, 1), lastGood: DefaultSettings()}
	n.status.Remaining = -1
	n.delivery.Remaining = -1
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
		n.ownHTTP = true
	}
	n.client = pushoverClient{endpoint: cfg.PushoverEndpoint, http: hc}
	return n, nil
}

// Kick asks Run to look at the outbox now (call it on scheduler.EventAlertsQueued and after the
// alert settings or secrets change). It never blocks.
func (n *Notifier) Kick() {
	select {
	case n.kick <- struct{}{}:
	default:
	}
}

// Status returns the delivery status.
func (n *Notifier) Status() Status {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.status
}

// Run delivers the outbox until ctx is done, then returns nil. It blocks; call it once.
func (n *Notifier) Run(ctx context.Context) error {
	if n.ownHTTP {
		defer n.client.http.CloseIdleConnections()
	}
	n.loadDelivery()
	for {
		wake := n.pass(ctx)
		if ctx.Err() != nil {
			return nil
		}
		now := n.clock.Now()
		d := n.cfg.PollInterval
		if !wake.IsZero() {
			d = min(d, wake.Sub(now))
		}
		if d <= 0 {
			// A wake-up already due that the pass did not act on: wait, never spin.
			d = min(n.cfg.PollInterval, time.Second)
		}
		timer := n.clock.NewTimer(d)
		if n.idle != nil {
			n.idle(now.Add(d))
		}
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-n.kick:
			timer.Stop()
		case <-timer.Chan():
		}
	}
}

// settings reads the alert settings, falling back to the last good ones.
func (n *Notifier) settings() Settings {
	s := DefaultSettings()
	found, err := n.cfg.Settings.Setting(SettingsKey, &s)
	n.mu.Lock()
	defer n.mu.Unlock()
	switch {
	case err != nil:
		n.log.Warn("notify: reading alert settings failed; using the last ones", "err", n.scrub(err.Error()))
		return n.lastGood
	case !found:
		s = DefaultSettings()
	}
	n.lastGood = s
	return s
}

// pass delivers what can be delivered now and returns when the next pass is due (zero: poll).
func (n *Notifier) pass(ctx context.Context) (wake time.Time) {
	s := n.settings()
	earliest := func(t time.Time) {
		if !t.IsZero() && (wake.IsZero() || t.Before(wake)) {
			wake = t
		}
	}
	earliest(n.remind(s))
	n.mu.Lock()
	withdraw := n.withdrawDue
	n.withdrawDue = false
	n.mu.Unlock()
	if withdraw {
		wctx, cancel := context.WithTimeout(ctx, n.cfg.SendTimeout)
		n.withdraw(wctx)
		cancel()
	}

	n.mu.Lock()
	blocked := n.blocked
	n.mu.Unlock()
	if blocked && n.cfg.Credentials != nil {
		// New keys lift a refusal at once, also when no alert waits to prove them.
		if token, user, err := n.cfg.Credentials.PushoverCredentials(); err == nil {
			n.isBlocked(fingerprint(token, user))
		}
	}
	alerts, err := n.cfg.Outbox.PendingAlerts(100)
	if err != nil {
		n.log.Error("notify: reading the outbox failed", "err", err)
		return n.clock.Now().Add(n.cfg.Backoff)
	}
	var (
		pushBlocked bool
		credsRead   bool
		token, user string
		credsErr    error
		pending     int
		held        *scheduler.DeliveryHold
	)
	defer func() {
		if ctx.Err() == nil {
			n.recordDelivery(s, pending, held)
		}
	}()
	for _, a := range alerts {
		if ctx.Err() != nil {
			return wake
		}
		if n.wasSent(a.ID) {
			n.ack(a, "sent to Pushover earlier")
			continue
		}
		if a.Attempts == 0 {
			a.Attempts = 1 // marks the desktop notification as done before it is shown
			if err := n.cfg.Outbox.UpdateAlert(a); err != nil {
				n.log.Error("notify: updating the outbox failed", "alert", a.ID, "err", err)
				return n.clock.Now().Add(n.cfg.Backoff)
			}
			if a.Desktop && s.DesktopEnabled && n.cfg.Desktop != nil {
				n.showDesktop(ctx, a)
			}
		}
		if !a.Pushover || !s.PushoverEnabled {
			n.ack(a, "delivered without Pushover")
			continue
		}
		pending++
		if pushBlocked {
			continue
		}
		now := n.clock.Now().UTC()
		if until := s.QuietUntil(now); !until.IsZero() {
			pushBlocked = true
			n.setStatus(func(st *Status) { st.HeldUntil = until })
			held = &scheduler.DeliveryHold{Reason: scheduler.HoldQuietHours, Until: until,
				Message: "Pushover alerts are held during quiet hours, until " + until.Local().Format("15:04")}
			earliest(until)
			continue
		}
		n.setStatus(func(st *Status) { st.HeldUntil = time.Time{} })
		if a.NextTry.After(now) {
			pushBlocked = true
			n.setStatus(func(st *Status) { st.RetryAt = a.NextTry })
			held = n.hold(a)
			earliest(a.NextTry)
			continue
		}
		if !credsRead {
			credsRead = true
			if n.cfg.Credentials != nil {
				token, user, credsErr = n.cfg.Credentials.PushoverCredentials()
			}
		}
		if credsErr != nil {
			pushBlocked = true
			a.NextTry = n.retryLater(a, now, fmt.Sprintf("could not read the Pushover keys from the secret store: %v", credsErr))
			held = n.hold(a)
			earliest(a.NextTry)
			continue
		}
		fp := fingerprint(token, user)
		if n.isBlocked(fp) {
			pushBlocked = true
			continue
		}
		sendCtx, cancel := context.WithTimeout(ctx, n.cfg.SendTimeout)
		res, err := n.client.send(sendCtx, token, user, pushMessage{Title: a.Title, Message: a.Message, Priority: a.Priority, Timestamp: a.Created})
		cancel()
		if err == nil {
			n.markSent(a.ID)
			n.ack(a, "sent to Pushover")
			pending--
			n.setStatus(func(st *Status) {
				st.LastSent, st.LastError, st.RetryAt, st.Remaining = now, "", time.Time{}, res.Remaining
			})
			n.mu.Lock()
			n.holdReason = ""
			n.mu.Unlock()
			continue
		}
		if ctx.Err() != nil {
			return wake // shutting down: the attempt does not count
		}
		pushBlocked = true
		se := classify(err)
		switch se.kind {
		case errRateLimit:
			reset := se.reset
			if !reset.After(now) {
				reset = now.Add(time.Hour)
			}
			a.Attempts++
			a.NextTry, a.LastError = reset, n.scrub(fmt.Sprintf("%s; next try after %s", se.Error(), reset.Format(time.RFC3339)))
			n.update(a)
			n.setStatus(func(st *Status) { st.RetryAt, st.LastError = reset, a.LastError })
			n.mu.Lock()
			n.holdReason = scheduler.HoldRateLimit
			n.mu.Unlock()
			held = n.hold(a)
			n.log.Warn("notify: Pushover rate limit reached", "alert", a.ID, "retry_at", reset)
			earliest(reset)
		case errSettings:
			ferr := &scheduler.FieldError{Field: se.field, Msg: se.msg + "; fix it in Settings → Alerts (or `worktray alerts set`)"}
			a.Attempts++
			a.LastError = n.scrub(ferr.Error())
			n.update(a)
			n.mu.Lock()
			fresh := !n.blocked || n.blockedFP != fp
			n.blocked, n.blockedFP = true, fp
			n.status.SettingsError, n.status.LastError = ferr, a.LastError
			if fresh || n.problem == nil {
				n.problem = &scheduler.DeliveryProblem{Field: se.field, Since: now, Message: n.scrub(ferr.Msg)}
			}
			n.mu.Unlock()
			if fresh {
				n.log.Error("notify: Pushover settings are wrong; alerts wait until they are fixed", "field", se.field, "err", n.scrub(se.Error()))
			}
		case errMessage:
			a.LastError = n.scrub(se.Error())
			n.update(a)
			n.log.Error("notify: Pushover rejected an alert; it is dropped", "alert", a.ID, "kind", a.Kind, "err", a.LastError)
			n.ack(a, "rejected by Pushover")
			pending--
			pushBlocked = false
		default:
			a.NextTry = n.retryLater(a, now, se.Error())
			n.mu.Lock()
			n.holdReason = scheduler.HoldOutage
			n.mu.Unlock()
			held = n.hold(a)
			earliest(a.NextTry)
		}
	}
	return wake
}

// retryLater records a transient failure of a and returns its next try.
func (n *Notifier) retryLater(a scheduler.Alert, now time.Time, reason string) time.Time {
	a.Attempts++
	a.NextTry = now.Add(n.backoff(a.Attempts - 1))
	a.LastError = n.scrub(reason)
	n.update(a)
	n.setStatus(func(st *Status) { st.RetryAt, st.LastError = a.NextTry, a.LastError })
	n.log.Warn("notify: Pushover send failed; will retry", "alert", a.ID, "attempt", a.Attempts-1, "retry_at", a.NextTry, "err", a.LastError)
	return a.NextTry
}

// backoff returns the delay after the failures-th failed attempt: Backoff doubling up to
// MaxBackoff, ±20 % jitter.
func (n *Notifier) backoff(failures int) time.Duration {
	d := n.cfg.Backoff
	for i := 1; i < failures && d < n.cfg.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, n.cfg.MaxBackoff)
	jitter := 0.8 + 0.4*rand.Float64()
	return time.Duration(float64(d) * jitter)
}

// showDesktop shows a's desktop notification, replacing the one of its kind; a recovery first
// withdraws the failing and missed notifications still on screen.
func (n *Notifier) showDesktop(ctx context.Context, a scheduler.Alert) {
	dctx, cancel := context.WithTimeout(ctx, n.cfg.SendTimeout)
	defer cancel()
	if a.Kind == scheduler.AlertRecovered {
		n.withdraw(dctx)
	}
	if err := n.cfg.Desktop.Show(dctx, NotificationOf(a)); err != nil {
		n.log.Warn("notify: desktop notification not shown", "alert", a.ID, "kind", a.Kind, "err", n.scrub(err.Error()))
	}
}

// withdraw closes the failing and missed desktop notifications still on screen.
func (n *Notifier) withdraw(ctx context.Context) {
	if n.cfg.Desktop == nil {
		return
	}
	if err := n.cfg.Desktop.Withdraw(ctx, scheduler.AlertFailing, scheduler.AlertMissed); err != nil {
		n.log.Warn("notify: desktop notifications not withdrawn", "err", n.scrub(err.Error()))
	}
}

// ScrapesWork tells the Notifier that a scrape succeeded: the "failing" and "missed" desktop
// notifications still on screen are withdrawn by the next delivery pass, which it starts at
// once. The owner calls it on every run that finished with success. It never blocks.
func (n *Notifier) ScrapesWork() {
	n.mu.Lock()
	n.withdrawDue = true
	n.mu.Unlock()
	n.Kick()
}

func (n *Notifier) ack(a scheduler.Alert, how string) {
	if err := n.cfg.Outbox.AckAlert(a.ID, n.clock.Now().UTC()); err != nil {
		n.log.Error("notify: acknowledging an alert failed; the acknowledgement is retried, the alert is not sent again",
			"alert", a.ID, "err", err)
		return
	}
	n.mu.Lock()
	delete(n.unacked, a.ID)
	n.mu.Unlock()
	n.log.Info("notify: alert delivered", "alert", a.ID, "kind", a.Kind, "how", how, "attempts", a.Attempts)
}

// markSent remembers that Pushover accepted alert id, until its acknowledgement is stored.
func (n *Notifier) markSent(id uint64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.unacked == nil {
		n.unacked = map[uint64]bool{}
	}
	n.unacked[id] = true
}

func (n *Notifier) wasSent(id uint64) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.unacked[id]
}

func (n *Notifier) update(a scheduler.Alert) {
	if err := n.cfg.Outbox.UpdateAlert(a); err != nil {
		n.log.Error("notify: updating the outbox failed", "alert", a.ID, "err", err)
	}
}

func (n *Notifier) setStatus(f func(*Status)) {
	n.mu.Lock()
	f(&n.status)
	n.mu.Unlock()
}

// isBlocked reports whether Pushover rejected exactly these credentials; different credentials
// lift the block.
func (n *Notifier) isBlocked(fp [32]byte) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.blocked {
		return false
	}
	if n.blockedFP == fp {
		return true
	}
	n.blocked, n.blockedFP, n.status.SettingsError, n.problem = false, [32]byte{}, nil, nil
	return false
}

func (n *Notifier) scrub(s string) string {
	if n.cfg.Redactor != nil {
		return n.cfg.Redactor.Redact(s)
	}
	return s
}

// fingerprint identifies a pair of credentials in memory without keeping them.
func fingerprint(token, user string) [32]byte {
	return sha256.Sum256([]byte(token + "\x00" + user))
}

// remind raises the re-notify reminder through the policy when it is due and returns when the
// next one is due (zero when none).
func (n *Notifier) remind(s Settings) time.Time {
	p, ss := n.cfg.Policy, n.cfg.State
	if p == nil || ss == nil {
		return time.Time{}
	}
	p.SetSettings(s)
	now := n.clock.Now().UTC()
	st, err := ss.State()
	if err != nil {
		n.log.Error("notify: reading the scheduler state failed", "err", err)
		return time.Time{}
	}
	probe := st
	if len(p.Tick(now, &probe)) == 0 {
		return nextReminder(st, s)
	}
	// Tick is a pure function of (now, state): run it again inside the transaction that saves
	// the state and queues what it raised, so the reminder and its record are never apart.
	var alerts []scheduler.Alert
	st, err = ss.UpdateStateAndEnqueue(func(st *scheduler.State) []scheduler.Alert {
		alerts = p.Tick(now, st)
		return alerts
	})
	if err != nil {
		n.log.Error("notify: queueing the failure reminder failed", "err", err)
		return now.Add(n.cfg.Backoff)
	}
	if len(alerts) > 0 {
		n.log.Info("notify: failure reminder queued", "failing_since", st.FailingSince, "consecutive_failures", st.ConsecutiveFailures)
	}
	return nextReminder(st, s)
}

func nextReminder(st scheduler.State, s Settings) time.Time {
	// A raised threshold can leave an alerted failure below it: then no reminder is due (Tick
	// would raise none), and a time in the past would spin the loop.
	if !st.FailureAlerted || st.Paused || s.renotify() <= 0 || st.ConsecutiveFailures < max(s.FailureThreshold, 1) {
		return time.Time{}
	}
	return st.LastFailureAlert.Add(s.renotify())
}

// SendTest sends a test alert now, straight to Pushover (bypassing the outbox, quiet hours and
// any backoff) and to the desktop, and returns a sentence saying what happened. The error, when
// not nil, is the user-facing reason (a *scheduler.FieldError for wrong Pushover keys). It blocks
// for at most the send timeout per channel. A successful Pushover test lifts a settings error.
func (n *Notifier) SendTest(ctx context.Context) (string, error) {
	s := n.settings()
	const title = "worktray test alert"
	body := fmt.Sprintf("This is a test from worktray, sent %s. Alerts reach you here.", n.clock.Now().Format("2006-01-02 15:04"))

	desktop := "desktop notifications are off"
	if n.cfg.Desktop != nil && s.DesktopEnabled {
		dctx, cancel := context.WithTimeout(ctx, n.cfg.SendTimeout)
		err := n.cfg.Desktop.Show(dctx, Notification{Kind: scheduler.AlertTest, Title: title, Body: body})
		cancel()
		if err != nil {
			desktop = "the desktop notification could not be shown (" + n.scrub(err.Error()) + ")"
		} else {
			desktop = "a desktop notification was shown"
		}
	}
	if !s.PushoverEnabled {
		if desktop == "a desktop notification was shown" {
			return "Pushover is turned off; " + desktop + ".", nil
		}
		return "", fmt.Errorf("nothing was sent: Pushover is turned off and %s", desktop)
	}
	var token, user string
	if n.cfg.Credentials != nil {
		var err error
		if token, user, err = n.cfg.Credentials.PushoverCredentials(); err != nil {
			return "", fmt.Errorf("could not read the Pushover keys from the secret store: %s", n.scrub(err.Error()))
		}
	}
	sctx, cancel := context.WithTimeout(ctx, n.cfg.SendTimeout)
	res, err := n.client.send(sctx, token, user, pushMessage{Title: title, Message: body, Priority: 0})
	cancel()
	if err != nil {
		se := classify(err)
		switch se.kind {
		case errSettings:
			return "", &scheduler.FieldError{Field: se.field, Msg: se.msg + "; fix it in Settings → Alerts (or `worktray alerts set`)"}
		case errRateLimit:
			when := "later"
			if !se.reset.IsZero() {
				when = "after " + se.reset.Local().Format("2006-01-02 15:04")
			}
			return "", fmt.Errorf("%s; Pushover accepts messages again %s (%s)", se.msg, when, desktop)
		default:
			return "", fmt.Errorf("the test alert was not sent: %s (%s)", n.scrub(se.Error()), desktop)
		}
	}
	if n.isBlocked(fingerprint(token, user)) {
		n.mu.Lock()
		n.blocked, n.blockedFP, n.status.SettingsError, n.problem = false, [32]byte{}, nil, nil
		n.mu.Unlock()
	}
	n.Kick()
	msg := "Test alert sent to Pushover"
	if res.Remaining >= 0 {
		msg += fmt.Sprintf(" (%d messages left this month)", res.Remaining)
	}
	return msg + "; " + desktop + ".", nil
}

// hold describes why a waits for its NextTry: the reason of the last failure (rate limit or
// outage), an outage when unknown.
func (n *Notifier) hold(a scheduler.Alert) *scheduler.DeliveryHold {
	n.mu.Lock()
	reason := n.holdReason
	n.mu.Unlock()
	at := a.NextTry.Local().Format("15:04")
	switch reason {
	case scheduler.HoldRateLimit:
		return &scheduler.DeliveryHold{Reason: reason, Until: a.NextTry,
			Message: "Pushover's message limit is reached; alerts wait until " + at}
	default:
		msg := "Pushover could not be reached; alerts are retried at " + at
		if a.LastError != "" {
			msg += " (" + a.LastError + ")"
		}
		return &scheduler.DeliveryHold{Reason: scheduler.HoldOutage, Until: a.NextTry, Message: msg}
	}
}

// loadDelivery reads the saved delivery state once: a key refusal saved by an earlier run
// stays in force for the same keys (isBlocked lifts it for others), and the reason alerts wait
// is known again.
func (n *Notifier) loadDelivery() {
	if n.cfg.Delivery == nil || n.loaded {
		return
	}
	n.loaded = true
	d, err := n.cfg.Delivery.AlertDelivery()
	if err != nil {
		n.log.Warn("notify: reading the saved delivery state failed", "err", err)
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if d.NeedsUser != nil && d.CredentialsFP != "" {
		if fp, err := hex.DecodeString(d.CredentialsFP); err == nil && len(fp) == len(n.blockedFP) {
			copy(n.blockedFP[:], fp)
			n.blocked, n.problem = true, d.NeedsUser
			n.status.SettingsError = &scheduler.FieldError{Field: d.NeedsUser.Field, Msg: d.NeedsUser.Message}
		}
	}
	if d.Held != nil && d.Held.Reason != scheduler.HoldQuietHours {
		n.holdReason = d.Held.Reason
	}
	n.status.LastSent, n.status.LastError, n.status.Remaining = d.LastSent, d.LastError, d.Remaining
}

// recordDelivery computes the delivery state after a pass and saves it when it changed.
func (n *Notifier) recordDelivery(s Settings, pending int, held *scheduler.DeliveryHold) {
	n.mu.Lock()
	d := scheduler.AlertDelivery{Pending: max(pending, 0), Held: held, LastSent: n.status.LastSent,
		LastError: n.status.LastError, Remaining: n.status.Remaining}
	if !s.PushoverEnabled {
		d.Pending, d.Held = 0, nil
	}
	if n.blocked && s.PushoverEnabled && n.problem != nil {
		p := *n.problem
		d.NeedsUser = &p
		d.CredentialsFP = hex.EncodeToString(n.blockedFP[:])
		d.Held = nil // the refusal is what holds them
	}
	data, _ := json.Marshal(d)
	changed := string(data) != n.saved
	d.Updated = n.clock.Now().UTC()
	n.delivery = d
	n.mu.Unlock()
	if !changed || n.cfg.Delivery == nil {
		return
	}
	if err := n.cfg.Delivery.SaveAlertDelivery(d); err != nil {
		n.log.Warn("notify: saving the delivery state failed", "err", err)
		return
	}
	n.mu.Lock()
	n.saved = string(data)
	n.mu.Unlock()
}

// Delivery returns the delivery state as the last pass left it (before the first pass, the
// zero state with Remaining -1). Safe for concurrent use.
func (n *Notifier) Delivery() scheduler.AlertDelivery {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.delivery
}
