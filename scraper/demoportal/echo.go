package demoportal

import (
	"html/template"
	"net/http"
)

// echoLoginTmpl is the login page a portal with Faults.EchoPassword answers a rejected sign-in
// with: like careless portals, it shows the typed password back in the password field, in a
// hint, in an attribute, in a comment, in a text field's value set by script and in the title.
var echoLoginTmpl = template.Must(template.New("echo-login").Parse(head + `</header>
<main>
<h1>Sign in</h1>
<div class="alert alert-error" role="alert" data-typed="{{.Password}}">Invalid email or password.</div>
<p class="typed-hint">You typed “{{.Password}}”.</p>
<!-- last attempt: {{.Password}} -->
<form id="login" method="post" action="/login">
<input type="hidden" name="csrf_token" value="{{.CSRF}}">
<input type="hidden" name="next" value="{{.Next}}">
<p><label>Email <input type="email" name="email" autocomplete="username" value="{{.Email}}" required></label></p>
<p><label>Password <input type="password" name="password" autocomplete="current-password" value="{{.Password}}" required></label></p>
<p><label>Shown <input type="text" id="shown-password"></label></p>
<p><button type="submit">Sign in</button></p>
</form>
<script>
document.getElementById("shown-password").value = {{.Password}};
document.title = "Sign in failed for " + {{.Password}};
</script>
</main></body></html>`))

// renderEchoedLogin answers a rejected sign-in with echoLoginTmpl.
func (p *Portal) renderEchoedLogin(w http.ResponseWriter, next, email, password string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_ = echoLoginTmpl.Execute(w, map[string]string{"CSRF": p.newCSRF(), "Next": next, "Email": email, "Password": password})
}
