package scraper

import (
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"worktray/scheduler"
	"worktray/scraper/demoportal"
)

// startPortal serves a demo portal on a loopback httptest server for the test.
func startPortal(t testing.TB, opts demoportal.Options) (*demoportal.Portal, string) {
	t.Helper()
	p := demoportal.New(opts)
	srv := httptest.NewServer(p.Handler())
	t.Cleanup(func() {
		p.Close()
		srv.CloseClientConnections()
		srv.Close()
	})
	return p, srv.URL
}

// newScraper returns a scraper of the demo portal at base with its own cookie jar and
// artifact directory; mod may change the profile and config.
func newScraper(t testing.TB, p *demoportal.Portal, base string, mod func(*Profile, *Config)) (*Scraper, *MemoryCookieJar) {
	t.Helper()
	prof, err := DemoProfile(base)
	if err != nil {
		t.Fatal(err)
	}
	email, pw := p.Credentials()
	jar := &MemoryCookieJar{}
	cfg := Config{Profile: prof, Username: email, Password: pw, Cookies: jar, ArtifactDir: filepath.Join(t.TempDir(), "artifacts")}
	if mod != nil {
		mod(prof, &cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s, jar
}

// want converts the portal's orders to what a complete scrape must return.
func want(base string, orders []demoportal.Order) []scheduler.Order {
	out := make([]scheduler.Order, len(orders))
	for i, o := range orders {
		out[i] = scheduler.Order{
			PortalID: o.ID, Number: o.Number, Customer: o.Customer, StoreNumber: o.StoreNumber,
			SiteName:    o.SiteName,
			Address:     scheduler.Address{Street: o.Street, City: o.City, State: o.State, Zip: o.Zip},
			ServiceCode: o.ServiceCode, ServiceName: o.ServiceName, Items: slices.Clone(o.Items),
			VisitDate: o.VisitDate, VisitURL: base + "/orders/" + o.ID, Instructions: o.Instructions,
		}
	}
	return out
}

// byID indexes orders by portal id.
func byID(orders []scheduler.Order) map[string]scheduler.Order {
	m := make(map[string]scheduler.Order, len(orders))
	for _, o := range orders {
		m[o.PortalID] = o
	}
	return m
}

// chromiumProcesses counts running processes whose executable looks like Chromium or Chrome.
func chromiumProcesses(t testing.TB) []int {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil || len(b) == 0 {
			continue
		}
		arg0 := strings.SplitN(string(b), "\x00", 2)[0]
		base := filepath.Base(arg0)
		if strings.Contains(base, "chromium") || strings.Contains(base, "chrome") {
			pids = append(pids, pid)
		}
	}
	return pids
}

func testCtx(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// testPageProfileTOML describes the small portals that tests serve with httptest.
const testPageProfileTOML = `
name = "test page"

[login]
url = "/login"
username = "#user"
password = "#pass"
submit = "#go"
form = "#login-form"
failure = ".error"
success = ".welcome"

[list]
url = "/list"
row = "tr.order"
empty = ".empty"

[list.fields]
number = { selector = ".number" }

[timeouts]
login = "3s"
page = "3s"
detail = "3s"
`

// newTestPageScraper returns a scraper of a test page served at base, signing in as user with
// pass; mod may change the profile and config.
func newTestPageScraper(t testing.TB, base, user, pass string, mod func(*Profile, *Config)) *Scraper {
	t.Helper()
	prof, err := ParseProfile([]byte(testPageProfileTOML), "test page profile", "toml")
	if err != nil {
		t.Fatal(err)
	}
	prof.BaseURL = base
	cfg := Config{Profile: prof, Username: user, Password: pass, ArtifactDir: filepath.Join(t.TempDir(), "artifacts")}
	if mod != nil {
		mod(prof, &cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// runClass returns the class of a scrape's error, failing the test when it is no RunError.
func runClass(t testing.TB, err error) scheduler.ErrorClass {
	t.Helper()
	var re *scheduler.RunError
	if !errors.As(err, &re) {
		t.Fatalf("error %T %v is not a RunError", err, err)
	}
	return re.Class
}
