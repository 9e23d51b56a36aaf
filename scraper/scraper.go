// Package scraper reads the work-order list of a portal with a real headless Chromium, as a
// profile describes it. It implements scheduler.Scraper.
//
// One browser is started per scrape and always killed and cleaned up before Scrape returns,
// whatever happened (success, failure, timeout, cancellation or panic). It speaks DevTools over
// a pipe, never a TCP port (pipe.go), and dies with the process that started it; Sweep removes
// what an owner killed mid-scrape left (process.go, sweep.go). Session cookies are kept
// between scrapes through a CookieJar; being sent back to the login page logs in again. Detail
// pages are read only for orders that are new or whose list fields changed.
package scraper

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/cdp"
	"github.com/go-rod/rod/lib/launcher"
	"github.com/go-rod/rod/lib/proto"

	"worktray/scheduler"
)

// CookieJar keeps the portal's session cookies between scrapes (the store implements it). The
// bytes are opaque to the jar. LoadCookies returns nil bytes when nothing is saved.
type CookieJar interface {
	LoadCookies() ([]byte, error)
	SaveCookies([]byte) error
}

// MemoryCookieJar is a CookieJar in memory, for tests and one-off scrapes. It is safe for
// concurrent use.
type MemoryCookieJar struct {
	mu sync.Mutex
	b  []byte
}

// LoadCookies returns the saved cookies.
func (j *MemoryCookieJar) LoadCookies() ([]byte, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]byte(nil), j.b...), nil
}

// SaveCookies replaces the saved cookies.
func (j *MemoryCookieJar) SaveCookies(b []byte) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.b = append([]byte(nil), b...)
	return nil
}

// Config configures a Scraper.
type Config struct {
	// Profile describes the portal; required (see LoadProfile and DemoProfile).
	Profile *Profile
	// BaseURL is the portal's address, e.g. https://portal.example.com; it overrides
	// Profile.BaseURL.
	BaseURL string
	// Username and Password sign in to the portal. The password is never logged or put in an
	// error.
	Username string
	Password string
	// BrowserPath is Chromium's or Chrome's executable; empty looks for one on the system. A
	// browser is never downloaded.
	BrowserPath string
	// ArtifactDir receives a screenshot and the page's HTML of each failed scrape; empty keeps
	// none. Only the newest KeepArtifacts failures are kept (default 20).
	ArtifactDir   string
	KeepArtifacts int
	// Cookies keeps the session between scrapes; nil logs in on every scrape.
	Cookies CookieJar
	// Logger receives debug and warning records; nil discards them.
	Logger *slog.Logger
	// Location is the zone the portal's dates and times are read in when the profile sets no
	// timezone (the owner passes the schedule's zone); nil means the system's zone.
	Location *time.Location
	// DataDir is the owner's data directory. The browser's profile directory is named after it,
	// so that Sweep(DataDir) finds what an owner killed mid-scrape left. Empty is allowed.
	DataDir string
	// Secrets are further secret values (besides Password) that are masked in failure artifacts.
	Secrets []string
}

// Scraper scrapes one portal. Scrape may be called again after it returns; calls must not
// overlap (the scheduler runs one scrape at a time).
type Scraper struct {
	cfg      Config
	prof     *Profile
	base     *url.URL
	loginURL string
	listURL  string
	log      *slog.Logger

	listFields   []fieldSpec
	detailFields []fieldSpec
	total        *fieldSpec
	loc          *time.Location // the portal's zone: the profile's timezone, else Config.Location
}

// jsSpec is the selector part of a field as the page scripts take it: [selector, attribute,
// all, multiline].
func (f fieldSpec) jsSpec() []any { return []any{f.Selector, f.Attribute, f.All, f.Multiline} }

// New checks cfg and returns a Scraper. It does not start a browser; a missing browser is
// reported by Scrape (and by FindBrowser).
func New(cfg Config) (*Scraper, error) {
	if cfg.Profile == nil {
		return nil, errors.New("scraper: no profile")
	}
	s := &Scraper{cfg: cfg, prof: cfg.Profile, log: cfg.Logger}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.cfg.KeepArtifacts <= 0 {
		s.cfg.KeepArtifacts = 20
	}
	base := cfg.BaseURL
	if base == "" {
		base = s.prof.BaseURL
	}
	if base != "" {
		u, err := url.Parse(base)
		if err != nil || !u.IsAbs() || (u.Scheme != "http" && u.Scheme != "https") {
			return nil, fmt.Errorf("scraper: the portal URL %q is not an http or https URL", base)
		}
		s.base = u
	}
	var err error
	if s.loginURL, err = resolve(s.base, s.prof.Login.URL); err != nil {
		return nil, fmt.Errorf("scraper: login.url: %w", err)
	}
	if s.listURL, err = resolve(s.base, s.prof.List.URL); err != nil {
		return nil, fmt.Errorf("scraper: list.url: %w", err)
	}
	s.loc = cfg.Location
	if s.prof.loc != nil {
		s.loc = s.prof.loc
	}
	if s.loc == nil {
		s.loc = time.Local
	}
	for _, name := range fieldOrder(s.prof.List.Fields, s.prof.keyOrder) {
		f := newFieldSpec(name, s.prof.List.Fields[name])
		if len(s.prof.Detail.Fields) > 0 && name == s.prof.Detail.URLField {
			// A row without its detail link is an order whose detail is missing (readDetails
			// says so), not a changed layout; most rows without one fail the run there.
			f.Optional = true
		}
		s.listFields = append(s.listFields, f)
	}
	for _, name := range fieldOrder(s.prof.Detail.Fields, s.prof.keyOrder) {
		s.detailFields = append(s.detailFields, newFieldSpec(name, s.prof.Detail.Fields[name]))
	}
	if t := s.prof.List.Total; t != nil {
		if t.Regex != "" && t.re == nil {
			// A profile built in code (not parsed) has no compiled regex yet.
			if err := s.prof.validate("profile"); err != nil {
				return nil, err
			}
		}
		s.total = &fieldSpec{name: "total", Field: *s.prof.List.Total}
	}
	for _, fs := range [][]fieldSpec{s.listFields, s.detailFields} {
		for _, f := range fs {
			if f.Regex != "" && f.re == nil {
				return nil, fmt.Errorf("scraper: the profile was not validated (use LoadProfile, ParseProfile or DemoProfile)")
			}
		}
	}
	return s, nil
}

// FindBrowser returns the browser executable to use: path when it is set and exists, else a
// Chromium or Chrome found on the system. It never downloads one.
func FindBrowser(path string) (string, error) {
	if path != "" {
		st, err := os.Stat(path)
		if err != nil {
			return "", fmt.Errorf("the configured browser %s does not exist", path)
		}
		if st.IsDir() || st.Mode()&0o111 == 0 {
			return "", fmt.Errorf("the configured browser %s is not an executable file", path)
		}
		return path, nil
	}
	if p, ok := launcher.LookPath(); ok {
		return p, nil
	}
	return "", errors.New("no Chromium or Google Chrome is installed; install one (e.g. `apt install chromium`) or set the browser path in the settings")
}

// Scrape reads the whole work-order list; see scheduler.Scraper. It blocks until done and is
// not safe for concurrent use. Errors are *FailureError (which unwraps to *scheduler.RunError).
func (s *Scraper) Scrape(ctx context.Context, req scheduler.ScrapeRequest) (scheduler.ScrapeResult, error) {
	r := &run{s: s, ctx: ctx, req: req, log: s.log.With("run", req.RunID), stageStart: time.Now()}
	// The browser is closed on every path, also when a panic unwinds through here.
	defer r.close()
	r.enter(scheduler.StageStarting)
	res, err := r.scrape()
	if err != nil {
		fe := r.failure(err)
		if w := r.takeWarnings(); len(w) > 0 {
			fe.Msg += " (also: " + strings.Join(w, "; ") + ")"
		}
		r.close()
		r.finishStages()
		return scheduler.ScrapeResult{Logins: r.logins, DetailVisits: int(r.detailVisits.Load()), Pages: r.pages, Stages: r.stages}, fe
	}
	r.close()
	r.finishStages()
	res.Logins = r.logins
	res.Warnings = r.takeWarnings()
	res.DetailVisits = int(r.detailVisits.Load())
	res.Pages = r.pages
	res.Stages = r.stages
	r.progress(scheduler.Progress{Stage: scheduler.StageSaving, Orders: len(res.Orders), Percent: 100, Message: "done"})
	return res, nil
}

// run is the state of one scrape.
type run struct {
	s   *Scraper
	ctx context.Context
	req scheduler.ScrapeRequest
	log *slog.Logger

	proc         *browserProcess
	dataDir      string
	closing      chan struct{}           // closed when close begins
	loseBrowser  context.CancelCauseFunc // ends ctx with the browser's failure
	watchers     sync.WaitGroup          // watch
	connecting   chan struct{}           // closed when launch's Connect returned
	crashMu      sync.Mutex
	crashed      map[proto.TargetTargetID]bool // pages whose renderer crashed
	browser      *rod.Browser
	stopBlocking func()         // stops the loop that fails image, font and media requests
	blockers     sync.WaitGroup // that loop and its answers
	page         *rod.Page
	closeOnce    sync.Once

	stage      scheduler.Stage
	stageStart time.Time
	stages     []scheduler.StageTiming

	logins        int
	relogins      int
	loginErr      error // a sign-in the portal refused; never tried again in this run
	atList        bool  // the main page shows the list: signing in was proven there
	sessionLoaded bool  // a kept session of this account was put into the browser
	pages         int
	netWatched    bool // jsNetWatch is installed in the list tab
	detailVisits  atomic.Int64

	failMu   sync.Mutex
	failPage *rod.Page // the page to keep as an artifact

	progMu     sync.Mutex
	detailMu   sync.Mutex
	detailURLs map[string]string // detail page URLs by portal id, when list.fields.detail_url is used

	drawnOnce sync.Once // the check of a detail page drawn by JavaScript (fetch mode)
	drawnErr  error

	warnMu   sync.Mutex
	warnings []string // for the run's message: details not read, dialogs the portal opened
}

// warn adds a warning to the run's result; it is scrubbed of the password. Safe for
// concurrent use.
func (r *run) warn(msg string) {
	msg = r.scrub(msg)
	r.warnMu.Lock()
	defer r.warnMu.Unlock()
	if !slices.Contains(r.warnings, msg) {
		r.warnings = append(r.warnings, msg)
	}
}

// takeWarnings returns the warnings so far.
func (r *run) takeWarnings() []string {
	r.warnMu.Lock()
	defer r.warnMu.Unlock()
	return slices.Clone(r.warnings)
}

// enter starts a stage and records the time of the previous one.
func (r *run) enter(st scheduler.Stage) {
	now := time.Now()
	if r.stage != "" && r.stage != st {
		r.addStage(r.stage, now.Sub(r.stageStart))
	}
	if r.stage != st {
		r.stage, r.stageStart = st, now
	}
}

func (r *run) addStage(st scheduler.Stage, d time.Duration) {
	for i := range r.stages {
		if r.stages[i].Stage == st {
			r.stages[i].Duration += d
			return
		}
	}
	r.stages = append(r.stages, scheduler.StageTiming{Stage: st, Duration: d})
}

func (r *run) finishStages() {
	if r.stage != "" {
		r.addStage(r.stage, time.Since(r.stageStart))
		r.stage = ""
	}
}

// progress reports p; reports from detail workers are serialised.
func (r *run) progress(p scheduler.Progress) {
	if r.req.Progress == nil {
		return
	}
	p.RunID = r.req.RunID
	r.progMu.Lock()
	defer r.progMu.Unlock()
	r.req.Progress(p)
}

// step returns a context for one step under parent, bounded by d.
func (r *run) step(parent context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(parent, d)
}

// setFailPage remembers the page a failure happened on, for the artifacts.
func (r *run) setFailPage(p *rod.Page) {
	r.failMu.Lock()
	defer r.failMu.Unlock()
	if r.failPage == nil {
		r.failPage = p
	}
}

// isFailPage reports whether p is the page kept for the artifacts.
func (r *run) isFailPage(p *rod.Page) bool {
	r.failMu.Lock()
	defer r.failMu.Unlock()
	return r.failPage == p
}

func (r *run) scrape() (scheduler.ScrapeResult, error) {
	if err := r.ctx.Err(); err != nil {
		return scheduler.ScrapeResult{}, r.ctxErr(err, "starting")
	}
	if r.s.cfg.Username == "" || r.s.cfg.Password == "" {
		return scheduler.ScrapeResult{}, scheduler.Errorf(scheduler.ClassLoginFailed,
			"no portal username or password is set; enter them in the portal settings")
	}
	r.enter(scheduler.StageBrowser)
	r.progress(scheduler.Progress{Stage: scheduler.StageBrowser, Percent: 2, Message: "starting the browser"})
	if err := r.launch(); err != nil {
		return scheduler.ScrapeResult{}, err
	}
	defer r.watchDialogs()()
	// Every document of the list tab is watched, the one a sign-in ends on included.
	if err := r.watchRequests(); err != nil {
		return scheduler.ScrapeResult{}, err
	}
	if !r.sessionLoaded {
		// Without a kept session the list would only send the browser to the login page.
		if err := r.login(); err != nil {
			return scheduler.ScrapeResult{}, err
		}
	}
	r.enter(scheduler.StageList)
	r.progress(scheduler.Progress{Stage: scheduler.StageList, Percent: 8, Message: "opening the work-order list"})
	list, err := r.readList()
	if err != nil {
		return scheduler.ScrapeResult{}, err
	}
	orders := list.orders
	r.enter(scheduler.StageDetails)
	if err := r.readDetails(orders); err != nil {
		return scheduler.ScrapeResult{}, err
	}
	r.enter(scheduler.StageSaving)
	r.saveCookies()
	return scheduler.ScrapeResult{Orders: orders, EmptyState: list.empty, Complete: true, ListReads: list.reads}, nil
}

// ctxErr classifies the end of the run's context.
func (r *run) ctxErr(err error, doing string) *scheduler.RunError {
	if lost := r.browserLost(); lost != nil {
		return &scheduler.RunError{Class: scheduler.ClassBrowserFailed, Msg: lost.Error() + " while " + doing}
	}
	if errors.Is(r.ctx.Err(), context.DeadlineExceeded) {
		return &scheduler.RunError{Class: scheduler.ClassTimeout, Msg: "the run's time limit passed while " + doing, Err: err}
	}
	return &scheduler.RunError{Class: scheduler.ClassCanceled, Msg: "the run was canceled while " + doing, Err: err}
}

// rodErr classifies an error of a browser call made under step (bounded by limit).
func (r *run) rodErr(step context.Context, err error, doing string, limit time.Duration) *scheduler.RunError {
	var re *scheduler.RunError
	var nav *rod.NavigationError
	var ev *rod.EvalError
	switch {
	case errors.As(err, &re):
		return re
	case r.ctx.Err() != nil || r.browserFailed():
		return r.ctxErr(err, doing)
	case step.Err() != nil || errors.Is(err, context.DeadlineExceeded):
		return &scheduler.RunError{Class: scheduler.ClassTimeout,
			Msg: fmt.Sprintf("the portal did not finish %s within %s; it may be slow or down (the profile's timeouts can be raised)", doing, limit), Err: err}
	case errors.As(err, &ev) && strings.Contains(err.Error(), "not a valid selector"):
		return &scheduler.RunError{Class: scheduler.ClassLayoutChanged,
			Msg: fmt.Sprintf("a selector of the profile is not valid CSS (%s); fix the profile", ev.Error())}
	case errors.As(err, &nav):
		return &scheduler.RunError{Class: scheduler.ClassPortalError,
			Msg: fmt.Sprintf("the portal could not be reached while %s (%s); check the portal URL and the network", doing, nav.Reason)}
	default:
		return &scheduler.RunError{Class: scheduler.ClassBrowserFailed,
			Msg: fmt.Sprintf("the browser failed while %s", doing), Err: err}
	}
}

// waitResult is what jsWait answers.
type waitResult struct {
	State      string              `json:"state"`
	Status     int                 `json:"status"`
	Text       string              `json:"text"`
	URL        string              `json:"url"`
	Rows       [][]json.RawMessage `json:"rows"`
	Next       bool                `json:"next"`
	Total      *string             `json:"total"`
	ReadyState string              `json:"readyState"`
	Loading    bool                `json:"loading"`
}

// evalJSON calls the JS function js with args (JSON values) in page's current document under
// ctx, awaits its promise and decodes the JSON string it returns into out. One Runtime.evaluate
// call does it all, in whatever document is current. A navigation during the call (the JS
// context destroyed) repeats the call in the new document when retry is set.
func evalJSON(ctx context.Context, page *rod.Page, retry bool, out any, js string, args ...any) error {
	a, err := json.Marshal(args)
	if err != nil {
		return err
	}
	expr := "(" + js + ")(..." + string(a) + ")"
	for {
		res, err := proto.RuntimeEvaluate{Expression: expr, AwaitPromise: true, ReturnByValue: true}.Call(page.Context(ctx))
		if err == nil && res.ExceptionDetails != nil {
			err = &rod.EvalError{RuntimeExceptionDetails: res.ExceptionDetails}
		}
		if err != nil {
			if retry && ctx.Err() == nil && isContextGone(err) {
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(10 * time.Millisecond):
				}
				continue
			}
			return err
		}
		if out == nil {
			return nil
		}
		return json.Unmarshal([]byte(res.Result.Value.Str()), out)
	}
}

// isContextGone reports errors that mean the page navigated while a call ran.
func isContextGone(err error) bool {
	if errors.Is(err, cdp.ErrCtxDestroyed) || errors.Is(err, cdp.ErrCtxNotFound) {
		return true
	}
	var ce *cdp.Error
	if errors.As(err, &ce) {
		m := strings.ToLower(ce.Message)
		return strings.Contains(m, "context") || strings.Contains(m, "navigated") || strings.Contains(m, "target closed")
	}
	var oe *rod.ObjectNotFoundError
	return errors.As(err, &oe)
}
