package demoportal

import (
	"crypto/hmac"
	"crypto/rand"
	"encoding/base64"
	"html/template"
	"net/http"
	"strings"
	"time"
)

// authenticate checks a sign-in, counts it in Stats and, when it is accepted, starts a session
// and sets its cookie on w.
func (p *Portal) authenticate(w http.ResponseWriter, email, password string) bool {
	p.mu.Lock()
	ok := !p.faults.LoginAlwaysFails &&
		hmac.Equal([]byte(strings.ToLower(email)), []byte(strings.ToLower(p.email))) &&
		hmac.Equal([]byte(password), []byte(p.password))
	if !ok {
		p.stats.FailedLogins++
		p.mu.Unlock()
		return false
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
	return true
}

// jsLoginPage serves a page whose login form (and its error message) a script draws 300 ms
// after the page loaded.
func (p *Portal) jsLoginPage(w http.ResponseWriter, r *http.Request) {
	p.renderJSLogin(w, safeNext(r.URL.Query().Get("next")), "")
}

func (p *Portal) renderJSLogin(w http.ResponseWriter, next, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_ = jsLoginTmpl.Execute(w, map[string]string{"CSRF": p.newCSRF(), "Next": next, "Error": msg})
}

func (p *Portal) jsLogin(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	next := safeNext(r.PostForm.Get("next"))
	if !p.validCSRF(r.PostForm.Get("csrf_token")) {
		p.renderJSLogin(w, next, "The form expired. Please sign in again.")
		return
	}
	if !p.authenticate(w, r.PostForm.Get("email"), r.PostForm.Get("password")) {
		p.renderJSLogin(w, next, "Invalid email or password.")
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// twoStepPage serves the first step of the two-step login: the email and a Next button.
func (p *Portal) twoStepPage(w http.ResponseWriter, r *http.Request) {
	p.renderTwoStep(w, 1, safeNext(r.URL.Query().Get("next")), "", "")
}

func (p *Portal) renderTwoStep(w http.ResponseWriter, step int, next, email, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_ = twoStepTmpl.Execute(w, map[string]any{"Step": step, "CSRF": p.newCSRF(), "Next": next, "Email": email, "Error": msg})
}

// twoStepLogin takes step 1 (the email: the password form follows) and step 2 (the password).
func (p *Portal) twoStepLogin(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	next := safeNext(r.PostForm.Get("next"))
	email := r.PostForm.Get("email")
	if !p.validCSRF(r.PostForm.Get("csrf_token")) {
		p.renderTwoStep(w, 1, next, "", "The form expired. Please sign in again.")
		return
	}
	if r.PostForm.Get("step") != "2" {
		if strings.TrimSpace(email) == "" {
			p.renderTwoStep(w, 1, next, "", "Enter your email.")
			return
		}
		p.renderTwoStep(w, 2, next, email, "")
		return
	}
	if !p.authenticate(w, email, r.PostForm.Get("password")) {
		p.renderTwoStep(w, 1, next, "", "Invalid email or password.")
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

var jsLoginTmpl = template.Must(template.New("jslogin").Parse(head + `</header>
<main><h1>Sign in</h1><div id="app"></div></main>
<script>
(function () {
  const d = { csrf: {{.CSRF}}, next: {{.Next}}, error: {{.Error}} };
  setTimeout(() => {
    const app = document.getElementById("app");
    if (d.error) {
      const e = document.createElement("div");
      e.className = "alert alert-error";
      e.textContent = d.error;
      app.append(e);
    }
    const f = document.createElement("form");
    f.id = "signin";
    f.method = "post";
    f.action = "/l/js/login";
    f.innerHTML = '<input type="hidden" name="csrf_token"><input type="hidden" name="next">' +
      '<p><label>Email <input type="email" name="email"></label></p>' +
      '<p><label>Password <input type="password" name="password"></label></p>' +
      '<p><button type="submit">Sign in</button></p>';
    f.elements.csrf_token.value = d.csrf;
    f.elements.next.value = d.next;
    app.append(f);
  }, 300);
})();
</script></body></html>`))

var twoStepTmpl = template.Must(template.New("twostep").Parse(head + `</header>
<main><h1>Sign in</h1>
{{with .Error}}<div class="alert alert-error" role="alert">{{.}}</div>{{end}}
<form id="step{{.Step}}" method="post" action="/l/two/login">
<input type="hidden" name="csrf_token" value="{{.CSRF}}"><input type="hidden" name="next" value="{{.Next}}">
<input type="hidden" name="step" value="{{.Step}}">
{{if eq .Step 1}}<p><label>Email <input type="email" name="email"></label></p>
<p><button type="submit" class="next">Next</button></p>
{{else}}<input type="hidden" name="email" value="{{.Email}}"><p>Signing in as {{.Email}}</p>
<p><label>Password <input type="password" name="password"></label></p>
<p><button type="submit" class="sign-in">Sign in</button></p>{{end}}
</form></main></body></html>`))
