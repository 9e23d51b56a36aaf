// Package control is worktray's local control API: an HTTP server on a unix socket that the owner
// process runs, and the client that the CLI, the windows process and a second launch use to talk
// to it. The owner holds the store and runs the scheduler; every other process is a client (see
// DESIGN.md, "One owner, many clients").
//
// The socket lives in a directory of mode 0700 and has mode 0600, and the server refuses any
// connection whose peer (SO_PEERCRED) is another user id. Every response is JSON; an error is
// {"error": "...", "code": "...", "field": "..."} with a 4xx or 5xx status. A command the scheduler
// cannot take while it is starting or stopping is answered 503 with code unavailable.
//
// Settings (schedule, portal, alerts, retention) carry a revision in their answers; a PUT with
// `If-Match: "N"` is applied only if the setting is still at revision N, else it is answered 409
// with code stale_revision and nothing changes (revision.go). The event stream sends an empty
// line every Heartbeat when idle; a client treats a silent owner as not responding
// (NotRespondingError).
//
// Routes (all under /api):
//
//	GET  /api/status              Status
//	POST /api/scrape              202 {"run": Run}; 409 code already_running with the running run
//	POST /api/cancel              200; 409 code not_running
//	POST /api/pause, /api/resume  200 Status
//	GET  /api/history?n=20&failed=true   {"runs": [Run]}
//	GET  /api/runs/{id}           Run; 404 code not_found
//	GET  /api/orders?removed=true&new=true&changed=true&sort=COLUMN  {"orders": [Order]} (soonest visit first)
//	GET  /api/orders/{id}[?by=number]  OrderDetail {"order", "history"}; 404 code not_found
//	GET  /api/orders/{id}/history  {"history": [OrderChange]} (newest first)
//	POST /api/marks/seen          {"portal_ids": [...]} or {"all": true} → {"cleared": n}
//	GET  /api/schedule            ScheduleInfo
//	PUT  /api/schedule            ScheduleInfo; 422 code invalid naming the fields, 409 code stale_revision; nothing saved
//	POST /api/schedule/preview?n=5  ScheduleInfo (not saved); 422 as above
//	GET  /api/events              NDJSON stream of StreamEvent, an empty line every Heartbeat
//	POST /api/window              {"window": "status"}; 501 code no_windows for a headless owner
//	GET  /api/scheduler/health    Health; 200 healthy, 503 unhealthy (PublicHealth on ServeHealth's listener)
//	POST /api/backup              {"path": "/abs/file"} → BackupResult
//	POST /api/diagnose            {"fix": bool} → Diagnosis (fix starts an overdue slot)
//	GET  /api/portal, PUT /api/portal, POST /api/portal/test
//	GET  /api/alerts, PUT /api/alerts, POST /api/alerts/test
//	GET  /api/alerts/outbox       OutboxResponse {"pending", "sent", "delivery"}
//	GET  /api/retention           RetentionInfo
//	PUT  /api/retention           RetentionInfo; 422 code invalid naming keep_runs, 409 stale_revision; nothing saved
package control

import (
	"encoding/json"
	"time"

	"worktray/scheduler"
	"worktray/store"
)

// OwnerInfo describes the owner process.
type OwnerInfo struct {
	PID      int       `json:"pid"`
	Started  time.Time `json:"started"` // UTC
	Headless bool      `json:"headless"`
	Demo     bool      `json:"demo,omitempty"`
	Version  string    `json:"version,omitempty"`
	DataDir  string    `json:"data_dir,omitempty"`
	LogDir   string    `json:"log_dir,omitempty"`
	Socket   string    `json:"socket,omitempty"`
	// VisitsFile is the iCalendar file of the visits the owner keeps current (visits.ics).
	VisitsFile string `json:"visits_file,omitempty"`
}

// Status is the answer to GET /api/status: the scheduler's snapshot and who the owner is.
type Status struct {
	scheduler.Snapshot
	// Owner is the running owner; nil when the status was read from the store because no owner
	// runs.
	Owner *OwnerInfo `json:"owner,omitempty"`
	// MissedWhileStopped lists slots that passed with no owner running (read from the store only;
	// the owner records them as missed when it starts).
	MissedWhileStopped []time.Time `json:"missed_while_stopped,omitempty"`
	// StaleRuns are runs still marked running although no owner runs (read from the store only;
	// the owner marks them interrupted when it starts).
	StaleRuns []scheduler.Run `json:"stale_runs,omitempty"`
	// Alerts is the alert delivery state when something in it needs the user (Pushover refuses
	// a key, alerts are held); nil while alerts flow.
	Alerts *scheduler.AlertDelivery `json:"alerts,omitempty"`
	// NeedsSetup is true while no portal is set up (no portal address stored): nothing can be
	// scraped until the user sets one (Settings → Portal, or `worktray portal set`).
	NeedsSetup bool `json:"needs_setup,omitempty"`
}

// ScheduleInfo is a schedule with its next runs and its revision.
type ScheduleInfo struct {
	Schedule scheduler.Schedule `json:"schedule"`
	NextRuns []time.Time        `json:"next_runs"`
	// Revision counts the schedule's saves (store.DB.Revision); send it back with
	// Client.SetScheduleAt so that a save based on an older one is refused. Zero in a preview.
	Revision uint64 `json:"revision"`
}

// RunResponse answers POST /api/scrape.
type RunResponse struct {
	Run scheduler.Run `json:"run"`
}

// RunsResponse answers GET /api/history.
type RunsResponse struct {
	Runs []scheduler.Run `json:"runs"`
}

// OrdersResponse answers GET /api/orders.
type OrdersResponse struct {
	Orders []scheduler.Order `json:"orders"`
}

// WindowRequest is the body of POST /api/window.
type WindowRequest struct {
	Window string `json:"window"` // status, history, orders, settings, or portal (settings at its Portal tab)
}

// Windows lists the window names WindowRequest accepts.
var windows = []string{"status", "history", "orders", "settings", "portal"}

// BackupRequest is the body of POST /api/backup.
type BackupRequest struct {
	Path string `json:"path"` // absolute; the owner writes the copy there
}

// BackupResult answers POST /api/backup.
type BackupResult struct {
	Path  string `json:"path"`
	Bytes int64  `json:"bytes"`
}

// DiagnoseRequest is the body of POST /api/diagnose.
type DiagnoseRequest struct {
	Fix bool `json:"fix"`
}

// CheckStatus is the outcome of one diagnostic check.
type CheckStatus string

// The outcomes of a check.
const (
	CheckOK   CheckStatus = "ok"
	CheckInfo CheckStatus = "info"
	CheckWarn CheckStatus = "warn"
	CheckFail CheckStatus = "fail"
)

// Check is one line of a diagnosis.
type Check struct {
	Name   string      `json:"name"`   // e.g. "store integrity", "chromium"
	Status CheckStatus `json:"status"` // ok, info, warn or fail
	Detail string      `json:"detail"` // what was found; never a secret
	Fix    string      `json:"fix,omitempty"`
}

// Diagnosis answers POST /api/diagnose: the owner's checks and what --fix repaired.
type Diagnosis struct {
	Checks []Check  `json:"checks"`
	Fixed  []string `json:"fixed,omitempty"`
}

// Health answers GET /api/scheduler/health on the control socket.
type Health struct {
	Healthy             bool           `json:"healthy"`
	Status              string         `json:"status"` // ok, paused, overdue, missed, failing, stuck, storage_failed or not_running
	Problems            []string       `json:"problems,omitempty"`
	Now                 time.Time      `json:"now"`
	Paused              bool           `json:"paused"`
	Next                time.Time      `json:"next,omitzero"`
	LastRun             *scheduler.Run `json:"last_run,omitempty"`
	LastSuccess         time.Time      `json:"last_success,omitzero"`
	OverdueSlot         time.Time      `json:"overdue_slot,omitzero"`
	ConsecutiveFailures int            `json:"consecutive_failures"`
	FailureThreshold    int            `json:"failure_threshold"`
	// Stuck is why the scheduler cannot arm its next slot (scheduler.Snapshot.Stuck), since
	// StuckSince; empty when it can.
	Stuck      string    `json:"stuck,omitempty"`
	StuckSince time.Time `json:"stuck_since,omitzero"`
	// StorageError is the last failure to write the store (scheduler.Snapshot.StorageError);
	// Unrecorded counts the runs that could not be recorded since.
	StorageError string `json:"storage_error,omitempty"`
	Unrecorded   int    `json:"unrecorded,omitempty"`
}

// PublicHealth answers GET /api/scheduler/health on the loopback TCP listener (ServeHealth),
// which any local user can reach: the verdict and its counts, with no run record and no error
// text. Its fields are those of Health with the same names.
type PublicHealth struct {
	Healthy             bool     `json:"healthy"`
	Status              string   `json:"status"` // as in Health
	Problems            []string `json:"problems,omitempty"`
	ConsecutiveFailures int      `json:"consecutive_failures"`
	FailureThreshold    int      `json:"failure_threshold"`
}

// PortalInput is the body of PUT /api/portal. Empty fields are left as they are. Password is a
// secret: nil keeps the stored one; it is never returned.
type PortalInput struct {
	URL      string  `json:"url,omitempty"`
	Profile  string  `json:"profile,omitempty"` // a profile file path, or "demo" for the built-in one
	Username string  `json:"username,omitempty"`
	Password *string `json:"password,omitempty"`
}

// PortalInfo is the portal configuration as the API shows it: never the password.
type PortalInfo struct {
	URL         string `json:"url"`
	Profile     string `json:"profile"`
	Username    string `json:"username"`
	PasswordSet bool   `json:"password_set"`
	// Revision counts the portal settings' saves; see ScheduleInfo.Revision and SetPortalAt.
	Revision uint64 `json:"revision"`
}

// AlertsInput is the body of PUT /api/alerts: a partial update, nil fields are left as they are.
// The Pushover token and user key are secrets: write-only, never returned.
type AlertsInput struct {
	PushoverEnabled   *bool   `json:"pushover_enabled,omitempty"`
	DesktopEnabled    *bool   `json:"desktop_enabled,omitempty"`
	FailureThreshold  *int    `json:"failure_threshold,omitempty"`
	RenotifyMinutes   *int    `json:"renotify_minutes,omitempty"`
	QuietEnabled      *bool   `json:"quiet_enabled,omitempty"`
	QuietFrom         *string `json:"quiet_from,omitempty"`
	QuietTo           *string `json:"quiet_to,omitempty"`
	QuietZone         *string `json:"quiet_zone,omitempty"`
	NewOrdersDesktop  *bool   `json:"new_orders_desktop,omitempty"`
	NewOrdersPushover *bool   `json:"new_orders_pushover,omitempty"`
	LargeDropAlert    *bool   `json:"large_drop_alert,omitempty"`
	PushoverToken     *string `json:"pushover_token,omitempty"`
	PushoverUserKey   *string `json:"pushover_user_key,omitempty"`
}

// AlertsInfo is the alert configuration as the API shows it. Settings is the notifier's settings
// value as JSON (see notify.Settings); the keys are never included, only whether they are set.
type AlertsInfo struct {
	Settings        json.RawMessage `json:"settings,omitempty"`
	PushoverKeysSet bool            `json:"pushover_keys_set"`
	// Revision counts the alert settings' saves; see ScheduleInfo.Revision and SetAlertsAt.
	Revision uint64 `json:"revision"`
	// Delivery is the state of alert delivery: a Pushover key refused (HTTP 400), alerts held
	// (quiet hours, rate limit, outage), how many wait.
	Delivery *scheduler.AlertDelivery `json:"delivery,omitempty"`
}

// RetentionInfo answers GET and PUT /api/retention: the retention and its revision (see
// ScheduleInfo.Revision and SetRetentionAt).
type RetentionInfo struct {
	store.Retention
	Revision uint64 `json:"revision"`
}

// errorBody is the JSON of every error response.
type errorBody struct {
	Error  string         `json:"error"`
	Code   string         `json:"code,omitempty"`
	Field  string         `json:"field,omitempty"`
	Fields []fieldError   `json:"fields,omitempty"`
	Run    *scheduler.Run `json:"run,omitempty"`
	// For code stale_revision: the setting, the revision the write was based on and the
	// current one.
	Setting  string `json:"setting,omitempty"`
	Based    uint64 `json:"based_on,omitempty"`
	Revision uint64 `json:"revision,omitempty"`
}

type fieldError struct {
	Field string `json:"field"`
	Error string `json:"error"`
}

// The codes of error responses.
const (
	codeBadRequest     = "bad_request"     // 400: malformed JSON, a bad parameter
	codeInvalid        = "invalid"         // 422: a settings value failed validation
	codeAlreadyRunning = "already_running" // 409: a scrape is in progress (run included)
	codeStaleRevision  = "stale_revision"  // 409: a settings write based on an old revision; nothing changed
	codeNotRunning     = "not_running"     // 409: nothing to cancel
	codeNotFound       = "not_found"       // 404
	codeNoWindows      = "no_windows"      // 501: a headless owner has no windows
	codeNotSupported   = "not_supported"   // 501: the owner has no implementation for this
	codeUnavailable    = "unavailable"     // 503: the scheduler is not running (starting, stopping)
	codeInternal       = "internal"        // 500
	codeMethod         = "method_not_allowed"
	codeDeadlinePassed = "deadline_passed" // 408: the client's deadline passed before the request was handled; nothing applied
)
