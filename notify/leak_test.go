package notify

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"worktray/logging"
	"worktray/secret"
)

// The Pushover keys never reach the log files or the store file, even when Pushover echoes them
// back in its error replies.
func TestPushoverKeysNeverInLogsOrStore(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	secrets, err := secret.Open(t.TempDir(), true)
	if err != nil {
		t.Fatal(err)
	}
	if err := secrets.Set(secret.PushoverToken, goodToken); err != nil {
		t.Fatal(err)
	}
	if err := secrets.Set(secret.PushoverUserKey, goodUser); err != nil {
		t.Fatal(err)
	}
	logDir := t.TempDir()
	log, closer, err := logging.New(logging.Options{Dir: logDir, Stderr: &bytes.Buffer{}, Redactor: secrets.Redactor()})
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, pushoverOn())
	calls := 0
	h.push.setRespond(func(r pushRequest) (int, http.Header, any) {
		calls++
		if calls == 1 { // a rejected message whose reply echoes the keys
			return http.StatusBadRequest, nil, map[string]any{"status": 0, "errors": []string{"bad request: " + r.Token + " / " + r.User}}
		}
		return http.StatusBadRequest, nil, map[string]any{"status": 0, "user": "invalid", "errors": []string{"user " + r.User + " is invalid"}}
	})
	h.tweak = func(c *Config) { c.Credentials, c.Logger, c.Redactor = secrets, log, secrets.Redactor() }
	h.start()
	h.raise(alert("alert 1", 1), alert("alert 2", 1))
	if _, err := h.n.SendTest(t.Context()); err == nil {
		t.Fatal("SendTest succeeded against a rejecting server")
	}
	h.stop()
	closer.Close()
	if err := h.db.Close(); err != nil {
		t.Fatal(err)
	}
	h.db = nil

	var all []byte
	entries, _ := os.ReadDir(logDir)
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(logDir, e.Name()))
		all = append(all, b...)
	}
	if !bytes.Contains(all, []byte("Pushover")) {
		t.Fatalf("the failures were not logged: %s", all)
	}
	db, _ := os.ReadFile(h.path)
	if !bytes.Contains(db, []byte("[redacted]")) {
		t.Error("the store file holds no scrubbed error: the test did not exercise the path")
	}
	for _, v := range []string{goodToken, goodUser} {
		if bytes.Contains(all, []byte(v)) {
			t.Errorf("log files contain a Pushover key")
		}
		if bytes.Contains(db, []byte(v)) {
			t.Errorf("the store file contains a Pushover key")
		}
	}
}
