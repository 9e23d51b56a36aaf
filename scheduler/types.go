package scheduler

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// Trigger says what started a run.
type Trigger string

// The triggers of a run.
const (
	TriggerScheduled Trigger = "scheduled" // a slot at its time (or late within the grace period)
	TriggerCatchUp   Trigger = "catch-up"  // one run after missed slots, or a slot started late within grace
	TriggerRetry     Trigger = "retry"     // a later attempt at a failed slot
	TriggerManual    Trigger = "manual"    // "Scrape now" from the tray, a window or the CLI
)

// RunStatus is the state of a run record.
type RunStatus string

// The statuses of a run record.
const (
	StatusRunning     RunStatus = "running"
	StatusSucceeded   RunStatus = "succeeded"
	StatusFailed      RunStatus = "failed"
	StatusCanceled    RunStatus = "canceled"
	StatusInterrupted RunStatus = "interrupted" // left "running" by a process that died
	StatusMissed      RunStatus = "missed"      // one coalesced record for slots that passed the grace period with no run
)

// Finished reports whether the status is final.
func (s RunStatus) Finished() bool { return s != StatusRunning && s != "" }

// ErrorClass classifies why a run failed, so the UI and alerts can say what to do.
type ErrorClass string

// The error classes of a failed run.
const (
	ClassLoginFailed   ErrorClass = "login_failed"
	ClassTimeout       ErrorClass = "timeout"
	ClassPortalError   ErrorClass = "portal_error"
	ClassLayoutChanged ErrorClass = "layout_changed"
	ClassBrowserFailed ErrorClass = "browser_failed"
	ClassCanceled      ErrorClass = "canceled"
	// ClassStorageFailed: the store could not be written (disk full, I/O error, damaged file).
	// Never blamed on the portal.
	ClassStorageFailed ErrorClass = "storage_failed"
	// ClassConfig: the configuration cannot be used (no portal set up, a profile file missing,
	// unreadable or invalid); the user must act, retrying alone will not help.
	ClassConfig ErrorClass = "config_error"
)

// Stage names a step of a scrape, for progress and timings.
type Stage string

// The stages of a scrape.
const (
	StageStarting Stage = "starting"
	StageBrowser  Stage = "browser"
	StageLogin    Stage = "login"
	StageList     Stage = "list"
	StageDetails  Stage = "details"
	StageSaving   Stage = "saving"
)

// StageTiming is how long one stage of a run took.
type StageTiming struct {
	Stage    Stage         `json:"stage"`
	Duration time.Duration `json:"duration_ns"`
}

// Run is the record of one run (or of a coalesced set of missed slots). Every instant is UTC.
type Run struct {
	ID          uint64      `json:"id"`
	Trigger     Trigger     `json:"trigger"`
	Slot        time.Time   `json:"slot,omitzero"` // the slot this run is for; zero for manual runs
	Attempt     int         `json:"attempt"`       // 1 for the first attempt at a slot
	Started     time.Time   `json:"started,omitzero"`
	Finished    time.Time   `json:"finished,omitzero"`
	Status      RunStatus   `json:"status"`
	ErrorClass  ErrorClass  `json:"error_class,omitempty"`
	Message     string      `json:"message,omitempty"`
	MissedSlots []time.Time `json:"missed_slots,omitempty"` // for StatusMissed: every slot it stands for
	// CoveredSlots are earlier slots, still within their grace period when the run started,
	// that the run also stands for: one scrape brings the orders up to date for all of them.
	// They are claimed with Slot (first attempts only).
	CoveredSlots []time.Time `json:"covered_slots,omitempty"`
	CatchUp      bool        `json:"catch_up,omitempty"` // for StatusMissed: a scrape follows (or is running)
	Found        int         `json:"found"`
	New          int         `json:"new"`
	Changed      int         `json:"changed"`
	Removed      int         `json:"removed"`
	// Missing is how many active orders this complete read lacked for the first time: kept,
	// and removed only if the next complete read lacks them too.
	Missing   int           `json:"missing,omitempty"`
	LargeDrop bool          `json:"large_drop,omitempty"` // more than half of the stored orders disappeared
	Duration  time.Duration `json:"duration_ns"`
	Stages    []StageTiming `json:"stages,omitempty"`
	PID       int           `json:"pid"`
	Artifacts []string      `json:"artifacts,omitempty"` // screenshot and HTML files kept for a failure
	// Alive is the last time (UTC) the process running it recorded progress (at most every
	// AliveEvery while it runs). An interrupted run's duration ends here: at the crash, not at
	// the restart that found it.
	Alive time.Time `json:"alive,omitzero"`
	// Incomplete is set when the scraper did not report a complete read of the list
	// (ScrapeResult.Complete false): the orders it read are applied, but none is marked missing
	// or removed.
	Incomplete bool `json:"incomplete,omitempty"`
	// ListReads is how many complete reads of the list the scrape made (ScrapeResult.ListReads):
	// with 2 or more, an order every read lacked is removed at once instead of being marked
	// missing until the next scrape.
	ListReads int `json:"list_reads,omitempty"`
}

// Changes says what a succeeded run changed in the stored orders: "3 new, 2 changed, 1
// removed, 2 missing", or "" when nothing changed.
func (r Run) Changes() string {
	var ch []string
	for _, c := range []struct {
		n    int
		what string
	}{{r.New, "new"}, {r.Changed, "changed"}, {r.Removed, "removed"}, {r.Missing, "missing"}} {
		if c.n > 0 {
			ch = append(ch, fmt.Sprintf("%d %s", c.n, c.what))
		}
	}
	return strings.Join(ch, ", ")
}

// Address is a work order's site address.
// FieldType is the type a profile gives a custom field.
type FieldType string

const (
	FieldText     FieldType = "text"
	FieldInteger  FieldType = "integer"
	FieldDate     FieldType = "date"      // Value is YYYY-MM-DD
	FieldDateTime FieldType = "date-time" // Value is RFC 3339 in UTC
	FieldList     FieldType = "list"      // Items holds the entries; Value joins them with ", "
)

// CustomField is one value of a field a profile names beyond the built-in ones.
type CustomField struct {
	Name  string    `json:"name"`            // the profile's key, e.g. "dispenser_count"
	Label string    `json:"label,omitempty"` // the heading shown to the user; Name when empty
	Type  FieldType `json:"type"`
	Value string    `json:"value"`           // normalised text (see FieldType)
	Items []string  `json:"items,omitempty"` // for FieldList
}

// OrderMark is what the user has not yet seen of an order.
type OrderMark string

const (
	MarkNone    OrderMark = ""
	MarkNew     OrderMark = "new"
	MarkChanged OrderMark = "changed"
)

// OrderChange is one entry of an order's change history: a field that changed in a scrape.
type OrderChange struct {
	PortalID string    `json:"portal_id"`
	At       time.Time `json:"at"`    // UTC, the scrape that saw the change
	Field    string    `json:"field"` // built-in json name (e.g. "visit_date") or a custom field's name
	Old      string    `json:"old"`
	New      string    `json:"new"`
}

type Address struct {
	Street string `json:"street"`
	City   string `json:"city"`
	State  string `json:"state"`
	Zip    string `json:"zip"`
}

// String formats the address on one line.
func (a Address) String() string {
	parts := []string{a.Street, a.City, strings.TrimSpace(a.State + " " + a.Zip)}
	out := parts[:0]
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, ", ")
}

// Order is a work order as read from the portal and kept in the store.
type Order struct {
	PortalID     string   `json:"portal_id"`
	Number       string   `json:"number"` // e.g. W-123456
	Customer     string   `json:"customer"`
	StoreNumber  string   `json:"store_number"`
	SiteName     string   `json:"site_name"`
	Address      Address  `json:"address"`
	ServiceCode  string   `json:"service_code"`
	ServiceName  string   `json:"service_name"`
	Items        []string `json:"items,omitempty"`
	VisitDate    string   `json:"visit_date"` // as the portal shows it, normalised to YYYY-MM-DD where it parses
	VisitURL     string   `json:"visit_url"`
	Instructions string   `json:"instructions,omitempty"` // from the order's detail page
	// VisitAt is the visit's instant (UTC) when the portal shows a time of day, read in the
	// portal's zone; zero when it shows only a date (VisitDate then holds it).
	VisitAt time.Time `json:"visit_at,omitzero"`
	// Custom holds the profile's own fields beyond the built-in ones, in the profile's order.
	Custom []CustomField `json:"custom,omitempty"`
	// DetailMissing says why the detail page could not be read in the last scrape (the order
	// was stored from its list fields); empty when the detail was read or not needed.
	DetailMissing string `json:"detail_missing,omitempty"`
	// DetailReadAt is when the detail page was last read (UTC); zero when never.
	DetailReadAt time.Time `json:"detail_read_at,omitzero"`

	FirstSeen time.Time `json:"first_seen,omitzero"`
	LastSeen  time.Time `json:"last_seen,omitzero"`
	RemovedAt time.Time `json:"removed_at,omitzero"` // soft removal: set when a second complete read still lacks it
	// MissingSince is set when one complete read lacked the order; a second complete read that
	// also lacks it removes it (RemovedAt), a read that lists it clears it.
	MissingSince time.Time `json:"missing_since,omitzero"`
	// Mark is "new" or "changed" until the user has seen the order (SeenAt), then empty.
	Mark      OrderMark `json:"mark,omitempty"`
	SeenAt    time.Time `json:"seen_at,omitzero"`
	ChangedAt time.Time `json:"changed_at,omitzero"` // when its content last changed
	Hash      string    `json:"hash"`                // ContentHash at LastSeen
}

// ListHash hashes the fields the work-order list shows (everything but the detail page's
// instructions). The scraper compares it with the stored order's to decide whether the detail
// page must be visited again.
func (o Order) ListHash() string {
	h := sha256.New()
	for _, f := range []string{o.PortalID, o.Number, o.Customer, o.StoreNumber, o.SiteName,
		o.Address.Street, o.Address.City, o.Address.State, o.Address.Zip,
		o.ServiceCode, o.ServiceName, strings.Join(o.Items, "\x1f"), o.VisitDate, o.VisitURL} {
		h.Write([]byte(f))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// ContentHash hashes every content field, for change detection: the list fields, the
// instructions, the visit's time and the custom fields. The visit's time and the custom fields
// are hashed only when present, so an order that has neither keeps the hash earlier versions
// gave it (an upgrade does not make every stored order look changed).
func (o Order) ContentHash() string {
	h := sha256.New()
	h.Write([]byte(o.ListHash()))
	h.Write([]byte{0})
	h.Write([]byte(o.Instructions))
	if !o.VisitAt.IsZero() {
		h.Write([]byte{0, 'T'})
		h.Write([]byte(o.VisitAt.UTC().Format(time.RFC3339)))
	}
	for _, c := range o.Custom {
		h.Write([]byte{0, 'C'})
		for _, f := range []string{c.Name, string(c.Type), c.Value, strings.Join(c.Items, "\x1f")} {
			h.Write([]byte(f))
			h.Write([]byte{0x1e})
		}
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// Diff is what applying a scrape changed in the store.
type Diff struct {
	Found int      `json:"found"`
	New   []string `json:"new,omitempty"` // portal ids
	// NewNumbers are the work-order numbers of the new orders, in portal list order, for
	// notifications ("W-100231, W-100232 and 3 more").
	NewNumbers []string `json:"new_numbers,omitempty"`
	Changed    []string `json:"changed,omitempty"` // portal ids
	Removed    []string `json:"removed,omitempty"` // portal ids
	Previous   int      `json:"previous"`          // orders that were active before the scrape
	// NewSites are the site names of the new orders, index for index with NewNumbers.
	NewSites []string `json:"new_sites,omitempty"`
	// Missing are the portal ids a complete read lacked for the first time: they stay active,
	// marked MissingSince, and are removed only if the next complete read lacks them too.
	Missing []string `json:"missing,omitempty"`
	// Reappeared are the portal ids of removed orders listed again: active again with their
	// first-seen time, not new.
	Reappeared []string `json:"reappeared,omitempty"`
	// Incomplete is set when the read was not complete (Run.Incomplete): nothing was marked
	// missing or removed.
	Incomplete bool `json:"incomplete,omitempty"`
}

// Progress is where a running scrape is.
type Progress struct {
	RunID   uint64 `json:"run_id"`
	Stage   Stage  `json:"stage"`
	Page    int    `json:"page,omitempty"`  // 1-based page of the list being read
	Pages   int    `json:"pages,omitempty"` // total pages when known
	Orders  int    `json:"orders"`          // orders read so far
	Percent int    `json:"percent"`         // 0..100, an estimate
	Message string `json:"message,omitempty"`
}

// State is the scheduler's persistent state beside the runs.
type State struct {
	Paused              bool       `json:"paused"`
	ConsecutiveFailures int        `json:"consecutive_failures"`
	FailingSince        time.Time  `json:"failing_since,omitzero"`
	LastError           string     `json:"last_error,omitempty"`
	LastErrorClass      ErrorClass `json:"last_error_class,omitempty"`
	// Cursor is the latest slot instant the scheduler has dealt with (run, claimed or recorded
	// as missed). Slots after it and not in the future are due.
	Cursor time.Time `json:"cursor,omitzero"`
	// FailureAlerted is set while a failure alert has been raised and no success followed.
	FailureAlerted   bool      `json:"failure_alerted,omitempty"`
	LastFailureAlert time.Time `json:"last_failure_alert,omitzero"`
	// AlertedFailingSince is FailingSince as it was when the failure alert was raised, kept
	// (by the alert policy) until recovery so the recovery alert can say how long scrapes
	// failed: the scheduler clears FailingSince before the policy sees the success.
	AlertedFailingSince time.Time `json:"alerted_failing_since,omitzero"`
	// Owed lists slots that came due and were not yet run nor recorded missed when the
	// schedule changed (an overdue slot, or slots that passed while no owner ran): each is
	// run or recorded missed whatever the schedule in force, unless the scheduler is paused.
	// Saving a schedule (store SaveScheduleAt) fills it.
	Owed []time.Time `json:"owed,omitempty"`
	// Retry is the retry armed for a failed run, kept so that it survives a restart.
	Retry *PendingRetry `json:"retry,omitempty"`
}

// PendingRetry is a retry of a failed run that is armed but has not started. Every instant is
// UTC.
type PendingRetry struct {
	Slot    time.Time `json:"slot,omitzero"` // the slot retried; zero for a catch-up run
	Attempt int       `json:"attempt"`       // the attempt the retry will be (2 for the first retry)
	At      time.Time `json:"at"`            // when it starts
	// NextSlot is the slot after the failure: the retry is dropped once it has come.
	NextSlot time.Time `json:"next_slot,omitzero"`
}

// AlertKind names what an alert is about.
type AlertKind string

// The kinds of alert.
const (
	AlertMissed    AlertKind = "missed"
	AlertFailing   AlertKind = "failing"
	AlertRecovered AlertKind = "recovered"
	AlertLargeDrop AlertKind = "large_drop"
	AlertNewOrders AlertKind = "new_orders"
	AlertTest      AlertKind = "test"
	// AlertStuck: the scheduler cannot arm its next slot (see Snapshot.Stuck).
	AlertStuck AlertKind = "stuck"
)

// Alert is a message for the user, kept in the store's outbox until it is delivered.
type Alert struct {
	ID       uint64    `json:"id"` // outbox sequence, set by the store
	Kind     AlertKind `json:"kind"`
	Title    string    `json:"title"`
	Message  string    `json:"message"`
	Priority int       `json:"priority"` // Pushover priority: 1 high, 0 normal, -1 low
	Pushover bool      `json:"pushover"` // deliver to Pushover
	Desktop  bool      `json:"desktop"`  // deliver as a desktop notification
	Created  time.Time `json:"created"`
	RunID    uint64    `json:"run_id,omitempty"`
	// Delivery bookkeeping, owned by the notifier.
	Attempts  int       `json:"attempts,omitempty"`
	NextTry   time.Time `json:"next_try,omitzero"`
	LastError string    `json:"last_error,omitempty"`
}

// AlertDelivery is the state of alert delivery to Pushover as the notifier last saw it. The
// notifier keeps it in the store, so `worktray status`, `diagnose`, `alerts show`, the alerts
// control route and the settings window show it, also while no owner runs.
type AlertDelivery struct {
	// NeedsUser is set while Pushover refuses the API token or the user key (HTTP 400), or they
	// are missing: no alert reaches Pushover until the user changes them.
	NeedsUser *DeliveryProblem `json:"needs_user,omitempty"`
	// Held is set while Pushover alerts wait: quiet hours, Pushover's rate limit, or an outage
	// (sends failing, retried with backoff).
	Held *DeliveryHold `json:"held,omitempty"`
	// Pending is how many alerts wait in the outbox for Pushover.
	Pending   int       `json:"pending"`
	LastSent  time.Time `json:"last_sent,omitzero"`
	LastError string    `json:"last_error,omitempty"`
	// Remaining is Pushover's count of messages left this month from its last reply; -1 when
	// unknown.
	Remaining int       `json:"remaining"`
	Updated   time.Time `json:"updated,omitzero"`
	// CredentialsFP identifies the keys Pushover refused (a truncated SHA-256 of both, not a
	// secret), so a restart keeps the block for the same keys and lifts it for new ones.
	CredentialsFP string `json:"credentials_fp,omitempty"`
}

// DeliveryProblem is a delivery failure that only the user can fix.
type DeliveryProblem struct {
	Field   string    `json:"field"`   // pushover_token or pushover_user_key
	Message string    `json:"message"` // what is wrong and where to fix it, in words
	Since   time.Time `json:"since"`
}

// HoldReason says why Pushover alerts wait.
type HoldReason string

// The reasons alerts are held.
const (
	HoldQuietHours HoldReason = "quiet_hours"
	HoldRateLimit  HoldReason = "rate_limit"
	HoldOutage     HoldReason = "outage"
)

// DeliveryHold is a wait of the Pushover alerts that ends by itself.
type DeliveryHold struct {
	Reason  HoldReason `json:"reason"`
	Until   time.Time  `json:"until,omitzero"` // UTC, when delivery is tried again
	Message string     `json:"message"`        // in words
}

// Problems returns what the user should know about alert delivery, one sentence each: a
// refused key first, then held alerts; none when alerts flow.
func (d AlertDelivery) Problems() []string {
	var out []string
	if p := d.NeedsUser; p != nil {
		out = append(out, p.Message)
	}
	if h := d.Held; h != nil {
		msg := h.Message
		if d.Pending > 0 {
			msg = fmt.Sprintf("%s (%d waiting)", msg, d.Pending)
		}
		out = append(out, msg)
	}
	return out
}
