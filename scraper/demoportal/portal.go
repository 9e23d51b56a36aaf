// Package demoportal is a local work-order portal that behaves like a real one: a login form
// with a CSRF token and a session cookie, a work-order list rendered by JavaScript from a JSON
// endpoint with a page-size selector and "Next" pagination, a detail page per order, an explicit
// empty state, and fault switches. The demo (`worktray demo-portal`), the scraper's tests and its
// benchmarks run against it.
//
// Sign in with DefaultEmail and DefaultPassword unless Options say otherwise.
package demoportal

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// The demo credentials used when Options leave them empty.
const (
	DefaultEmail    = "demo@example.com"
	DefaultPassword = "demo-pass-4821" // long enough that redacting it from logs hides nothing else
)

// SessionCookie is the name of the portal's session cookie.
const SessionCookie = "demo_session"

// Options configure a Portal.
type Options struct {
	Seed uint64 // the data set's seed; the same seed, count and start give the same orders
	// Start is the first day visits may fall on; zero means the Monday of the current week
	// (UTC), so the demo's visits lie in the coming weeks and stay the same across restarts
	// within a week.
	Start    time.Time
	Count    int       // how many orders to generate, 0 to MaxOrders
	Email    string    // the login; DefaultEmail when empty
	Password string    // DefaultPassword when empty
	Faults   Faults    // the initial fault switches
	List     ListModes // the list page's shape and habits (listmodes.go)
}

// Faults are switches that make the portal misbehave the way real portals do. They can be
// changed while the portal runs (SetFaults).
type Faults struct {
	// Latency delays every response.
	Latency time.Duration
	// ServerErrorEvery makes every Nth request whose path starts with ServerErrorPrefix
	// (every request when the prefix is empty) answer HTTP 500. Zero turns it off.
	ServerErrorEvery  int
	ServerErrorPrefix string
	// LoginAlwaysFails rejects every login as if the credentials were wrong.
	LoginAlwaysFails bool
	// SessionMaxRequests ends a session after that many requests made with it. Zero: never.
	SessionMaxRequests int
	// ChangedLayout renders the list with other class names, as after a portal redesign.
	ChangedLayout bool
	// Hang makes the work-order list page start loading and never finish.
	Hang bool
	// EchoPassword makes a rejected sign-in page show the typed password back (echo.go).
	EchoPassword bool
	// PagerDelay makes the list page draw its pager (the page info and the Next button) that
	// long after its rows, as portals that render them in separate steps do.
	PagerDelay time.Duration
}

// Stats counts what clients did at the portal, for tests.
type Stats struct {
	Requests       int            // every HTTP request
	Logins         int            // successful sign-ins
	FailedLogins   int            // rejected sign-ins
	ListPageLoads  int            // loads of the work-order list page (HTML)
	ListAPICalls   int            // calls of the JSON list endpoint
	DetailVisits   int            // loads of order detail pages
	DetailsByID    map[string]int // detail page loads by portal id
	StaticRequests int            // images, fonts and media fetched
	ServerErrors   int            // HTTP 500 answers forced by Faults
}

type session struct {
	email    string
	requests int
}

// Portal is the demo portal. Its methods are safe for concurrent use.
type Portal struct {
	email, password string
	seed            uint64
	start           time.Time // first visit day (see Options.Start)
	csrfKey         []byte
	closed          chan struct{}
	closeOnce       sync.Once

	mu       sync.Mutex
	orders   []Order // in list order
	next     int     // index of the next generated order
	sessions map[string]*session
	faults   Faults
	errCount int // requests counted for ServerErrorEvery
	stats    Stats
	modes    modeState // the field and login modes' switches (modes.go)

	list         ListModes // listmodes.go
	closedOnPage bool      // ListModes.CloseOnPage has closed its order
	closedIDs    []string  // ids of the orders CloseOnPage closed
}

// New returns a portal with opts.Count generated orders (clamped to 0..MaxOrders).
func New(opts Options) *Portal {
	p := &Portal{
		email:    opts.Email,
		password: opts.Password,
		seed:     opts.Seed,
		start:    visitStart(opts.Start, time.Now()),
		csrfKey:  make([]byte, 32),
		closed:   make(chan struct{}),
		sessions: map[string]*session{},
		faults:   opts.Faults,
		list:     opts.List,
	}
	if p.email == "" {
		p.email = DefaultEmail
	}
	if p.password == "" {
		p.password = DefaultPassword
	}
	_, _ = rand.Read(p.csrfKey)
	n := min(max(opts.Count, 0), MaxOrders)
	p.orders = make([]Order, 0, n)
	for i := range n {
		p.orders = append(p.orders, generate(p.seed, p.start, i))
	}
	p.next = n
	p.stats.DetailsByID = map[string]int{}
	return p
}

// Close releases requests that Faults.Hang holds. It does not stop a server; the stop function
// of Start does both.
func (p *Portal) Close() { p.closeOnce.Do(func() { close(p.closed) }) }

// Credentials returns the email and password the portal accepts.
func (p *Portal) Credentials() (email, password string) { return p.email, p.password }

// Orders returns a copy of the current orders in list order.
func (p *Portal) Orders() []Order {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Order, len(p.orders))
	for i, o := range p.orders {
		out[i] = o.clone()
	}
	return out
}

// Add appends n newly generated orders and returns them.
func (p *Portal) Add(n int) []Order {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Order, 0, n)
	for range n {
		o := generate(p.seed, p.start, p.next)
		p.next++
		p.orders = append(p.orders, o)
		out = append(out, o.clone())
	}
	return out
}

// Edit changes the order with the given portal id in place; fn must not change the id.
func (p *Portal) Edit(id string, fn func(*Order)) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	i := p.index(id)
	if i < 0 {
		return fmt.Errorf("demoportal: no order %q", id)
	}
	o := p.orders[i].clone()
	fn(&o)
	o.ID = id
	p.orders[i] = o
	return nil
}

// Remove deletes the order with the given portal id.
func (p *Portal) Remove(id string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	i := p.index(id)
	if i < 0 {
		return fmt.Errorf("demoportal: no order %q", id)
	}
	p.orders = slices.Delete(p.orders, i, i+1)
	return nil
}

func (p *Portal) index(id string) int {
	return slices.IndexFunc(p.orders, func(o Order) bool { return o.ID == id })
}

// SetFaults replaces the fault switches and restarts the ServerErrorEvery count.
func (p *Portal) SetFaults(f Faults) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults = f
	p.errCount = 0
}

// Faults returns the current fault switches.
func (p *Portal) Faults() Faults {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.faults
}

// ExpireSessions ends every session, as a portal does overnight.
func (p *Portal) ExpireSessions() {
	p.mu.Lock()
	defer p.mu.Unlock()
	clear(p.sessions)
}

// Stats returns a copy of the counters.
func (p *Portal) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.stats
	s.DetailsByID = make(map[string]int, len(p.stats.DetailsByID))
	for k, v := range p.stats.DetailsByID {
		s.DetailsByID[k] = v
	}
	return s
}

// ResetStats sets every counter to zero.
func (p *Portal) ResetStats() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stats = Stats{DetailsByID: map[string]int{}}
}

// Handler returns the portal's HTTP handler.
func (p *Portal) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/orders", http.StatusFound)
	})
	mux.HandleFunc("GET /login", p.loginPage)
	mux.HandleFunc("POST /login", p.login)
	mux.HandleFunc("GET /logout", p.logout)
	mux.HandleFunc("GET /orders", p.listPage)
	mux.HandleFunc("GET /orders/{id}", p.detailPage)
	mux.HandleFunc("GET /api/orders", p.listAPI)
	mux.HandleFunc("GET /static/{file}", p.static)
	p.registerModes(mux)
	return p.middleware(mux)
}

// middleware counts requests and applies latency and forced server errors.
func (p *Portal) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.stats.Requests++
		f := p.faults
		fail := false
		if f.ServerErrorEvery > 0 && strings.HasPrefix(r.URL.Path, f.ServerErrorPrefix) {
			p.errCount++
			if p.errCount%f.ServerErrorEvery == 0 {
				fail = true
				p.stats.ServerErrors++
			}
		}
		p.mu.Unlock()
		if f.Latency > 0 {
			select {
			case <-time.After(f.Latency):
			case <-r.Context().Done():
				return
			case <-p.closed:
				return
			}
		}
		if fail {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprint(w, errorPageHTML)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// session returns the request's live session and counts the request against it, or nil.
func (p *Portal) session(r *http.Request) *session {
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.sessions[c.Value]
	if s == nil {
		return nil
	}
	s.requests++
	if m := p.faults.SessionMaxRequests; m > 0 && s.requests > m {
		delete(p.sessions, c.Value)
		return nil
	}
	return s
}

func (p *Portal) newCSRF() string {
	nonce := make([]byte, 16)
	_, _ = rand.Read(nonce)
	n := base64.RawURLEncoding.EncodeToString(nonce)
	return n + "." + p.sign(n)
}

func (p *Portal) sign(s string) string {
	m := hmac.New(sha256.New, p.csrfKey)
	m.Write([]byte(s))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (p *Portal) validCSRF(tok string) bool {
	n, sig, ok := strings.Cut(tok, ".")
	return ok && hmac.Equal([]byte(sig), []byte(p.sign(n)))
}

// safeNext returns a local path to go to after login.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") {
		return "/orders"
	}
	return next
}

func (p *Portal) loginPage(w http.ResponseWriter, r *http.Request) {
	p.renderLogin(w, http.StatusOK, safeNext(r.URL.Query().Get("next")), "", "")
}

func (p *Portal) renderLogin(w http.ResponseWriter, status int, next, email, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = loginTmpl.Execute(w, map[string]string{"CSRF": p.newCSRF(), "Next": next, "Email": email, "Error": msg})
}

func (p *Portal) login(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	next := safeNext(r.PostForm.Get("next"))
	email := r.PostForm.Get("email")
	if !p.validCSRF(r.PostForm.Get("csrf_token")) {
		p.renderLogin(w, http.StatusForbidden, next, email, "The form expired. Please sign in again.")
		return
	}
	p.mu.Lock()
	ok := !p.faults.LoginAlwaysFails &&
		hmac.Equal([]byte(strings.ToLower(email)), []byte(strings.ToLower(p.email))) &&
		hmac.Equal([]byte(r.PostForm.Get("password")), []byte(p.password))
	if !ok {
		p.stats.FailedLogins++
		echo := p.faults.EchoPassword
		p.mu.Unlock()
		if echo {
			p.renderEchoedLogin(w, next, email, r.PostForm.Get("password"))
			return
		}
		p.renderLogin(w, http.StatusOK, next, email, "Invalid email or password.")
		return
	}
	idb := make([]byte, 24)
	_, _ = rand.Read(idb)
	id := base64.RawURLEncoding.EncodeToString(idb)
	p.sessions[id] = &session{email: email}
	p.stats.Logins++
	p.mu.Unlock()
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: id, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Expires: time.Now().Add(30 * 24 * time.Hour),
	})
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (p *Portal) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(SessionCookie); err == nil {
		p.mu.Lock()
		delete(p.sessions, c.Value)
		p.mu.Unlock()
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func (p *Portal) redirectToLogin(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, "/login?next="+urlQueryEscape(r.URL.RequestURI()), http.StatusFound)
}

func (p *Portal) listPage(w http.ResponseWriter, r *http.Request) {
	s := p.session(r)
	if s == nil {
		p.redirectToLogin(w, r)
		return
	}
	p.mu.Lock()
	p.stats.ListPageLoads++
	f := p.faults
	modes := p.list.client()
	p.mu.Unlock()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	cls := normalClasses
	if f.ChangedLayout {
		cls = changedClasses
	}
	if f.Hang {
		// Send the start of the page, then hold the response until the client gives up.
		fmt.Fprint(w, "<!doctype html><html><head><title>Work orders</title></head><body><p>Loading work orders…</p>")
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
		select {
		case <-r.Context().Done():
		case <-p.closed:
		}
		return
	}
	_ = listTmpl.Execute(w, map[string]any{"User": s.email, "C": cls, "PagerDelay": f.PagerDelay.Milliseconds(), "Modes": modes})
}

// listResponse is the JSON of /api/orders.
type listResponse struct {
	Page   int        `json:"page"`
	Size   int        `json:"size"`
	Pages  int        `json:"pages"`
	Total  int        `json:"total"`
	Orders []apiOrder `json:"orders"`
}

type apiOrder struct {
	Order
	VisitDisplay string `json:"visit_display"`
	URL          string `json:"url"`
}

func (p *Portal) listAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if p.session(r) == nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"error":"session expired"}`)
		return
	}
	offset, size, page, ok := listWindow(r.URL.Query())
	if !ok {
		http.Error(w, `{"error":"bad page or size"}`, http.StatusBadRequest)
		return
	}
	p.mu.Lock()
	p.stats.ListAPICalls++
	delay := p.listAnswerLocked(page, r.URL.Query().Has("burst"))
	total := len(p.orders)
	pages := max(1, (total+size-1)/size)
	lo, hi := min(offset, total), min(offset+size, total)
	res := listResponse{Page: page, Size: size, Pages: pages, Total: total, Orders: make([]apiOrder, 0, hi-lo)}
	for _, o := range p.orders[lo:hi] {
		res.Orders = append(res.Orders, apiOrder{Order: o.clone(), VisitDisplay: displayDate(o.VisitDate), URL: "/orders/" + o.ID})
	}
	p.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		case <-p.closed:
			return
		}
	}
	writeJSON(w, res)
}

func (p *Portal) detailPage(w http.ResponseWriter, r *http.Request) {
	if p.session(r) == nil {
		p.redirectToLogin(w, r)
		return
	}
	id := r.PathValue("id")
	p.mu.Lock()
	p.stats.DetailVisits++
	p.stats.DetailsByID[id]++
	i := p.index(id)
	var o Order
	if i >= 0 {
		o = p.orders[i].clone()
	}
	rich := p.list.RichText
	p.mu.Unlock()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if i < 0 {
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, notFoundHTML)
		return
	}
	_ = detailTmpl.Execute(w, map[string]any{"O": o, "Visit": displayDate(o.VisitDate), "Instructions": instructionsHTML(o.Instructions, rich)})
}

func (p *Portal) static(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.stats.StaticRequests++
	p.mu.Unlock()
	switch f := r.PathValue("file"); {
	case strings.HasSuffix(f, ".png"):
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(pixelPNG)
	case strings.HasSuffix(f, ".woff2"):
		w.Header().Set("Content-Type", "font/woff2")
	case strings.HasSuffix(f, ".mp3"):
		w.Header().Set("Content-Type", "audio/mpeg")
	default:
		http.NotFound(w, r)
	}
}

// Start serves the portal on addr (e.g. "127.0.0.1:0") in the background. It returns the base
// URL (e.g. "http://127.0.0.1:41234") and stop, which releases hanging requests and shuts the
// server down.
func (p *Portal) Start(addr string) (baseURL string, stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("demo portal: listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: p.Handler(), ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	stop = func() {
		p.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if srv.Shutdown(ctx) != nil {
			_ = srv.Close()
		}
		<-done
	}
	return "http://" + ln.Addr().String(), stop, nil
}

// Serve runs a portal with opts on addr until ctx is done. ready, when not nil, is called with
// the base URL once the portal listens. Serve blocks.
func Serve(ctx context.Context, addr string, opts Options, ready func(baseURL string)) error {
	p := New(opts)
	u, stop, err := p.Start(addr)
	if err != nil {
		return err
	}
	defer stop()
	if ready != nil {
		ready(u)
	}
	<-ctx.Done()
	if errors.Is(ctx.Err(), context.Canceled) {
		return nil
	}
	return ctx.Err()
}
