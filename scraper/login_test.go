package scraper

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"worktray/scheduler"
)

// spaLoginPage signs in with fetch and swaps its view without loading a page, as single-page
// apps do: the success element appears 100 ms after the answer.
const spaLoginPage = `<!doctype html><html><head><title>Sign in</title></head><body>
<div id="app">
<form id="login-form"><input id="user"><input id="pass" type="password"><button id="go" type="submit">Sign in</button></form>
</div>
<script>
document.getElementById("login-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const r = await fetch("/api/login", { method: "POST", body: JSON.stringify({
    user: document.getElementById("user").value, pass: document.getElementById("pass").value }) });
  if (!r.ok) {
    document.getElementById("login-form").insertAdjacentHTML("afterbegin", '<p class="error">Wrong email or password</p>');
    return;
  }
  setTimeout(() => {
    document.getElementById("login-form").remove();
    document.getElementById("app").insertAdjacentHTML("beforeend", '<div class="welcome">Welcome back</div>');
  }, 100);
});
</script></body></html>`

// TestSinglePageAppLogin covers logins that never load a new page.
func TestSinglePageAppLogin(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, spaLoginPage) })
	// Without a success marker a sign-in is proven by reaching the list.
	mux.HandleFunc("GET /list", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, `<!doctype html><html><body><p class="empty">No work orders</p></body></html>`)
	})
	mux.HandleFunc("POST /api/login", func(w http.ResponseWriter, r *http.Request) {
		var c struct{ User, Pass string }
		if json.NewDecoder(r.Body).Decode(&c) != nil || c.User != "ann" || c.Pass != "secret-1" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	for _, tc := range []struct {
		name    string
		pass    string
		success string // the profile's login.success
		class   scheduler.ErrorClass
	}{
		{name: "success marker", pass: "secret-1", success: ".welcome"},
		{name: "no success marker", pass: "secret-1"},
		{name: "wrong password", pass: "wrong-pass", success: ".welcome", class: scheduler.ClassLoginFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestPageScraper(t, srv.URL, "ann", tc.pass, func(p *Profile, _ *Config) { p.Login.Success = tc.success })
			start := time.Now()
			err := s.TestLogin(testCtx(t, time.Minute))
			switch {
			case tc.class == "" && err != nil:
				t.Fatalf("signing in: %v", err)
			case tc.class != "" && err == nil:
				t.Fatalf("signing in succeeded; want %s", tc.class)
			case tc.class != "":
				if cls := runClass(t, err); cls != tc.class {
					t.Errorf("class %s, want %s (%v)", cls, tc.class, err)
				}
				if !strings.Contains(err.Error(), "Wrong email or password") {
					t.Errorf("error %q does not quote the portal's message", err)
				}
			}
			t.Logf("%v after %v", err, time.Since(start).Round(time.Millisecond))
		})
	}
}
