package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gregdel/pushover"
)

// DefaultPushoverEndpoint is Pushover's API base URL; messages go to <endpoint>/messages.json.
const DefaultPushoverEndpoint = "https://api.pushover.net/1"

// pushoverKey is the format of an application token and a user key.
var pushoverKey = regexp.MustCompile(`^[A-Za-z0-9]{30}$`)

// pushoverClient speaks Pushover's messages.json protocol with net/http.
//
// Why not github.com/gregdel/pushover's SendMessage: it always uses http.DefaultClient and takes
// no context (a send cannot be bounded without leaking a goroutine blocked in it), its endpoint
// is a package global (tests could not run in parallel, and STYLE forbids global state), and it
// drops the response headers of a 429, so X-Limit-App-Reset could not be honoured. The protocol
// is one form POST; we use the library's vocabulary (priorities, length limits, Errors) and own
// the request. See PLATFORM.md, "Pushover".
type pushoverClient struct {
	endpoint string
	http     *http.Client
}

// pushMessage is one message to send.
type pushMessage struct {
	Title, Message string
	Priority       int
	Timestamp      time.Time // when the alert was raised; shown by the phone for held messages
}

// pushResult is the outcome of a successful send.
type pushResult struct {
	Remaining int       // messages left this month, -1 when the reply had no limit headers
	Reset     time.Time // when the monthly limit resets, zero when unknown
}

// Kinds of send failure.
type sendErrKind int

const (
	errTransient sendErrKind = iota // network, timeout, 5xx: retry with backoff
	errRateLimit                    // 429: retry after the reset
	errSettings                     // token or user key rejected or missing: retry only after the settings change
	errMessage                      // the message itself was rejected: retrying cannot help
)

// sendError is a classified send failure. Its text never contains the token or user key.
type sendError struct {
	kind  sendErrKind
	field string    // for errSettings: "pushover_token" or "pushover_user_key"
	reset time.Time // for errRateLimit: X-Limit-App-Reset, zero when absent
	msg   string
	err   error
}

func (e *sendError) Error() string {
	if e.err != nil {
		return e.msg + ": " + e.err.Error()
	}
	return e.msg
}

func (e *sendError) Unwrap() error { return e.err }

// send posts one message. It blocks until Pushover answers or ctx is done. A 2xx reply counts as
// sent, whatever its body and headers say (an ambiguous reply must not be sent twice).
func (c *pushoverClient) send(ctx context.Context, token, user string, m pushMessage) (pushResult, error) {
	if token == "" {
		return pushResult{}, &sendError{kind: errSettings, field: "pushover_token", msg: "the Pushover API token is not set"}
	}
	if !pushoverKey.MatchString(token) {
		return pushResult{}, &sendError{kind: errSettings, field: "pushover_token", msg: "the Pushover API token must be 30 letters and digits"}
	}
	if user == "" {
		return pushResult{}, &sendError{kind: errSettings, field: "pushover_user_key", msg: "the Pushover user key is not set"}
	}
	if !pushoverKey.MatchString(user) {
		return pushResult{}, &sendError{kind: errSettings, field: "pushover_user_key", msg: "the Pushover user key must be 30 letters and digits"}
	}
	form := url.Values{
		"token":    {token},
		"user":     {user},
		"title":    {truncate(m.Title, pushover.MessageTitleMaxLength)},
		"message":  {truncate(m.Message, pushover.MessageMaxLength)},
		"priority": {strconv.Itoa(min(max(m.Priority, pushover.PriorityLowest), pushover.PriorityHigh))},
	}
	if !m.Timestamp.IsZero() {
		form.Set("timestamp", strconv.FormatInt(m.Timestamp.Unix(), 10))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(c.endpoint, "/")+"/messages.json", strings.NewReader(form.Encode()))
	if err != nil {
		return pushResult{}, &sendError{kind: errMessage, msg: "could not build the Pushover request", err: err}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.http.Do(req)
	if err != nil {
		// url.Error repeats the URL, which holds no secret (the form is in the body).
		return pushResult{}, &sendError{kind: errTransient, msg: "could not reach Pushover", err: err}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))

	var reply struct {
		Status int             `json:"status"`
		Errors pushover.Errors `json:"errors"`
		User   string          `json:"user"`
		Token  string          `json:"token"`
	}
	_ = json.Unmarshal(body, &reply)
	limit := parseLimit(resp.Header)

	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		return limit, nil
	case code == http.StatusTooManyRequests:
		return pushResult{}, &sendError{kind: errRateLimit, reset: limit.Reset,
			msg: "Pushover's message limit for this application is used up"}
	case code >= 400 && code < 500:
		text := strings.ToLower(strings.Join(reply.Errors, " "))
		switch {
		case reply.Token == "invalid" || strings.Contains(text, "application token") || strings.Contains(text, "token is invalid"):
			return pushResult{}, &sendError{kind: errSettings, field: "pushover_token", msg: "Pushover rejected the API token", err: reply.Errors}
		case reply.User == "invalid" || strings.Contains(text, "user"):
			return pushResult{}, &sendError{kind: errSettings, field: "pushover_user_key", msg: "Pushover rejected the user key", err: reply.Errors}
		case code == http.StatusUnauthorized || code == http.StatusForbidden:
			return pushResult{}, &sendError{kind: errSettings, field: "pushover_token", msg: fmt.Sprintf("Pushover refused the request (HTTP %d)", code), err: reply.Errors}
		default:
			return pushResult{}, &sendError{kind: errMessage, msg: fmt.Sprintf("Pushover rejected the message (HTTP %d)", code), err: errOrNil(reply.Errors)}
		}
	default:
		return pushResult{}, &sendError{kind: errTransient, msg: fmt.Sprintf("Pushover is unavailable (HTTP %d)", resp.StatusCode), err: pushover.ErrHTTPPushover}
	}
}

func errOrNil(e pushover.Errors) error {
	if len(e) == 0 {
		return nil
	}
	return e
}

// parseLimit reads the X-Limit-App-* headers; missing ones are reported as unknown.
func parseLimit(h http.Header) pushResult {
	r := pushResult{Remaining: -1}
	if v, err := strconv.Atoi(h.Get("X-Limit-App-Remaining")); err == nil {
		r.Remaining = v
	}
	if v, err := strconv.ParseInt(h.Get("X-Limit-App-Reset"), 10, 64); err == nil && v > 0 {
		r.Reset = time.Unix(v, 0).UTC()
	}
	return r
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// classify returns err as a *sendError, treating anything else as transient.
func classify(err error) *sendError {
	var se *sendError
	if errors.As(err, &se) {
		return se
	}
	return &sendError{kind: errTransient, msg: "sending failed", err: err}
}
