package demoportal

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

var csrfRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func get(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	res, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func login(t *testing.T, c *http.Client, base, email, pw string) (int, string) {
	t.Helper()
	_, page := get(t, c, base+"/login")
	m := csrfRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no CSRF token on the login page")
	}
	res, err := c.PostForm(base+"/login", url.Values{"email": {email}, "password": {pw}, "csrf_token": {m[1]}, "next": {"/orders"}})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar}
}

func TestPortal(t *testing.T) {
	p := New(Options{Seed: 1, Count: 60})
	srv := httptest.NewServer(p.Handler())
	defer srv.Close()
	defer p.Close()
	c := client()

	if code, body := get(t, c, srv.URL+"/api/orders?page=1&size=25"); code != http.StatusUnauthorized {
		t.Errorf("API without a session: %d %s", code, body)
	}
	if _, body := login(t, c, srv.URL, DefaultEmail, "wrong"); !strings.Contains(body, "Invalid email or password.") {
		t.Error("a wrong password does not show the error")
	}
	// A forged CSRF token is refused.
	res, err := c.PostForm(srv.URL+"/login", url.Values{"email": {DefaultEmail}, "password": {DefaultPassword}, "csrf_token": {"x.y"}})
	if err != nil || res.StatusCode != http.StatusForbidden {
		t.Errorf("forged CSRF: %v %v", res.StatusCode, err)
	}
	res.Body.Close()
	if _, body := login(t, c, srv.URL, DefaultEmail, DefaultPassword); !strings.Contains(body, `id="page-size"`) {
		t.Fatal("login does not lead to the list page")
	}
	_, body := get(t, c, srv.URL+"/api/orders?page=3&size=25")
	if !strings.Contains(body, `"pages":3`) || !strings.Contains(body, `"total":60`) || strings.Count(body, `"number"`) != 10 {
		t.Errorf("page 3 of 25: %s", body[:min(len(body), 200)])
	}
	o := p.Orders()[0]
	_, body = get(t, c, srv.URL+"/orders/"+o.ID)
	if !strings.Contains(body, `class="instructions-text"`) || !strings.Contains(body, o.Number) {
		t.Error("detail page lacks the order")
	}
	st := p.Stats()
	if st.Logins != 1 || st.FailedLogins != 1 || st.DetailVisits != 1 || st.DetailsByID[o.ID] != 1 {
		t.Errorf("stats %+v", st)
	}

	// The data are deterministic and mutable.
	if !reflect.DeepEqual(New(Options{Seed: 1, Count: 60}).Orders(), p.Orders()) {
		t.Error("the same seed gave other orders")
	}
	added := p.Add(2)
	if added[0].ID == o.ID || len(p.Orders()) != 62 {
		t.Error("Add")
	}
	if err := p.Edit(o.ID, func(x *Order) { x.Customer = "Changed" }); err != nil || p.Orders()[0].Customer != "Changed" {
		t.Error("Edit", err)
	}
	if err := p.Remove(o.ID); err != nil || len(p.Orders()) != 61 {
		t.Error("Remove", err)
	}
	if err := p.Remove(o.ID); err == nil {
		t.Error("removing twice succeeded")
	}

	// Faults.
	p.SetFaults(Faults{ServerErrorEvery: 2, ServerErrorPrefix: "/api/"})
	codes := []int{}
	for range 4 {
		code, _ := get(t, c, srv.URL+"/api/orders?page=1&size=25")
		codes = append(codes, code)
	}
	if !reflect.DeepEqual(codes, []int{200, 500, 200, 500}) {
		t.Errorf("every 2nd API call should fail: %v", codes)
	}
	p.SetFaults(Faults{SessionMaxRequests: 1})
	get(t, c, srv.URL+"/api/orders?page=1&size=25")
	if code, _ := get(t, c, srv.URL+"/api/orders?page=1&size=25"); code != http.StatusUnauthorized {
		t.Errorf("session did not expire: %d", code)
	}
	p.SetFaults(Faults{LoginAlwaysFails: true})
	if _, body := login(t, c, srv.URL, DefaultEmail, DefaultPassword); !strings.Contains(body, "Invalid email or password.") {
		t.Error("LoginAlwaysFails let the login through")
	}
	p.SetFaults(Faults{ChangedLayout: true})
	login(t, c, srv.URL, DefaultEmail, DefaultPassword)
	if _, body := get(t, c, srv.URL+"/orders"); !strings.Contains(body, "grid-row") {
		t.Error("ChangedLayout does not change the class names")
	}
	p.SetFaults(Faults{Hang: true})
	hc := &http.Client{Jar: c.Jar, Timeout: 300 * time.Millisecond}
	if res, err := hc.Get(srv.URL + "/orders"); err == nil {
		_, err = io.ReadAll(res.Body)
		res.Body.Close()
		if err == nil {
			t.Error("Hang: the list page finished")
		}
	}
}

func TestEmptyAndServe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	urls := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, "127.0.0.1:0", Options{}, func(u string) { urls <- u }) }()
	base := <-urls
	c := client()
	login(t, c, base, DefaultEmail, DefaultPassword)
	if _, body := get(t, c, base+"/api/orders?page=1&size=100"); !strings.Contains(body, `"total":0`) {
		t.Errorf("empty portal: %s", body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
}

// The demo's visits lie in the coming weeks and are the same for two portals started in the
// same week (the demo's orders do not change across restarts).
func TestVisitsInComingWeeksAndStable(t *testing.T) {
	now := time.Date(2026, 11, 26, 15, 0, 0, 0, time.UTC) // a Thursday
	start := visitStart(time.Time{}, now)
	if want := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC); !start.Equal(want) {
		t.Fatalf("start = %v, want the Monday %v", start, want)
	}
	if again := visitStart(time.Time{}, now.AddDate(0, 0, 3)); !again.Equal(start) {
		t.Fatalf("start on the Sunday = %v, want %v", again, start)
	}
	a, b := New(Options{Seed: 1, Count: 52}), New(Options{Seed: 1, Count: 52})
	if len(a.orders) != 52 {
		t.Fatalf("%d orders", len(a.orders))
	}
	today := time.Now().UTC().Truncate(24 * time.Hour)
	for i := range a.orders {
		if a.orders[i].VisitDate != b.orders[i].VisitDate || a.orders[i].Number != b.orders[i].Number {
			t.Fatalf("order %d differs between two portals: %+v / %+v", i, a.orders[i], b.orders[i])
		}
		d, err := time.Parse(time.DateOnly, a.orders[i].VisitDate)
		if err != nil {
			t.Fatal(err)
		}
		if d.Before(today.AddDate(0, 0, -7)) || d.After(today.AddDate(0, 0, 61)) {
			t.Errorf("order %d visit %s is not in the coming weeks of %s", i, a.orders[i].VisitDate, today.Format(time.DateOnly))
		}
	}
}
