package scraper

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"worktray/scheduler"
	"worktray/scraper/demoportal"
)

// jsPageSecrets returns, as JSON, everything of the page a screenshot or the saved HTML could
// show: the serialised document, the value of every input and text area, and the title.
const jsPageSecrets = `function () {
  const values = Array.from(document.querySelectorAll("input, textarea")).map((e) => e.value);
  return JSON.stringify({html: document.documentElement.outerHTML, values, title: document.title,
    passwords: Array.from(document.querySelectorAll("input[type=password]")).map((e) => e.value)});
}`

type pageSecrets struct {
	HTML      string   `json:"html"`
	Values    []string `json:"values"`
	Title     string   `json:"title"`
	Passwords []string `json:"passwords"`
}

func (p pageSecrets) shows(v string) bool {
	return strings.Contains(p.HTML, v) || strings.Contains(p.Title, v) ||
		slices.ContainsFunc(p.Values, func(s string) bool { return strings.Contains(s, v) })
}

// TestArtifactsMaskSecrets signs in with a wrong password on a demo portal whose failed login
// page echoes the typed password (in the password field, text, an attribute, a comment, a field
// set by script and the title). The artifacts of the failure must show no secret: the page is
// masked before the screenshot (its DOM is checked after the artifacts were taken) and the
// saved HTML holds no form of the secrets.
func TestArtifactsMaskSecrets(t *testing.T) {
	const typed = `wr0ng&<"pass>'word 7731`
	p, base := startPortal(t, demoportal.Options{Seed: 1, Count: 3, Faults: demoportal.Faults{EchoPassword: true}})
	email, _ := p.Credentials()
	s, _ := newScraper(t, p, base, func(_ *Profile, c *Config) {
		c.Password = typed
		// The email stands in for another secret that the page shows (Config.Secrets).
		c.Secrets = []string{email}
	})
	r := &run{s: s, ctx: testCtx(t, time.Minute), log: s.log, stageStart: time.Now(), req: scheduler.ScrapeRequest{RunID: 7}}
	defer r.close()
	if err := r.launch(); err != nil {
		t.Fatal(err)
	}
	err := r.login()
	var re *scheduler.RunError
	if !errors.As(err, &re) || re.Class != scheduler.ClassLoginFailed {
		t.Fatalf("signing in with a wrong password: %v, want login_failed", err)
	}
	read := func() pageSecrets {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var ps pageSecrets
		if err := evalJSON(ctx, r.page, false, &ps, jsPageSecrets, 0); err != nil {
			t.Fatal(err)
		}
		return ps
	}
	before := read()
	if !before.shows(typed) || !before.shows(email) || !slices.Contains(before.Passwords, typed) {
		t.Fatalf("the failed login page does not echo the typed password and the email; the test proves nothing: %+v", before)
	}

	files := r.saveArtifacts(scheduler.ClassLoginFailed)
	if len(files) != 2 {
		t.Fatalf("artifacts %v, want a screenshot and the HTML", files)
	}
	after := read()
	for _, v := range []string{typed, email} {
		if after.shows(v) {
			t.Errorf("after the artifacts were taken, the page (what the screenshot shows) still holds %q: %+v", v, after)
		}
	}
	for _, pw := range after.Passwords {
		if pw != "" {
			t.Errorf("a password input still holds %q", pw)
		}
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil || len(b) == 0 {
			t.Fatalf("artifact %s: %v", f, err)
		}
		if !strings.HasSuffix(f, ".html") {
			continue
		}
		doc := string(b)
		for _, v := range []string{typed, email} {
			for _, form := range encodedForms(v) {
				if strings.Contains(doc, form) {
					t.Errorf("the saved HTML holds %q (a form of a secret)", form)
				}
			}
		}
		if !strings.Contains(doc, "You typed") || !strings.Contains(doc, secretMask) {
			t.Errorf("the saved HTML lost the page or was not masked:\n%s", doc)
		}
	}
}

// TestMaskHTML covers the encoded forms a secret takes in HTML.
func TestMaskHTML(t *testing.T) {
	secret := `a&b<c>"d' e`
	for _, tc := range []struct{ name, doc string }{
		{"plain", `<p>` + secret + `</p>`},
		{"browser-escaped", `<input value="a&amp;b&lt;c&gt;&quot;d' e">`},
		{"go-escaped", `<p>a&amp;b&lt;c&gt;&#34;d&#39; e</p>`},
		{"query", `<a href="/x?p=a%26b%3Cc%3E%22d%27+e">`},
		{"path", `<a href="/x/a&b%3Cc%3E%22d%27%20e">`},
		{"json", `<script>var p = "a\u0026b\u003cc\u003e\"d' e";</script>`},
		{"json-raw", `<script>var p = "a&b<c>\"d' e";</script>`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := maskHTML(tc.doc, []string{secret})
			if !strings.Contains(got, secretMask) {
				t.Errorf("maskHTML(%q) = %q: the secret is not masked", tc.doc, got)
			}
			for _, form := range encodedForms(secret) {
				if strings.Contains(got, form) {
					t.Errorf("maskHTML(%q) = %q still holds %q", tc.doc, got, form)
				}
			}
		})
	}
}
