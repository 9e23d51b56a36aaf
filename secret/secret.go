// Package secret keeps worktray's secrets (the portal password and the Pushover token and user
// key) in the OS keyring (Secret Service) where one answers, else in a 0600 JSON file in the
// config directory. Secrets are validated on entry and never echoed in errors; a Redactor knows
// the current values so logs can scrub them.
package secret

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/zalando/go-keyring"

	"worktray/scheduler"
)

// The names of the secrets.
const (
	PortalPassword  = "portal_password"
	PushoverToken   = "pushover_token"
	PushoverUserKey = "pushover_user_key"
)

// Names lists every secret name.
func Names() []string { return []string{PortalPassword, PushoverToken, PushoverUserKey} }

// FileName is the fallback file in the config directory.
const FileName = "secrets.json"

// keyringService is the service name under which the keyring holds the secrets.
const keyringService = "worktray"

// Sentinel errors.
var (
	// ErrNotFound means the secret is not set.
	ErrNotFound = errors.New("secret not set")
	// ErrUnknownName means the name is not one of Names().
	ErrUnknownName = errors.New("unknown secret name")
	// ErrKeyringTimeout means the keyring did not answer in time.
	ErrKeyringTimeout = errors.New("the keyring did not answer in time")
)

// Backend names where the secrets are kept.
type Backend string

// The backends.
const (
	BackendKeyring Backend = "keyring"
	BackendFile    Backend = "file"
)

// KeyringTimeout bounds each keyring call. go-keyring has no context and can hang (no D-Bus, a
// locked collection waiting for a prompt); a call that times out leaves its goroutine blocked in
// the library until the library returns.
const KeyringTimeout = 3 * time.Second

// backend is a place for secrets.
type backend interface {
	get(name string) (string, error) // ErrNotFound when absent
	set(name, value string) error
	del(name string) error // nil when absent
}

// Store is the secret store. It is safe for concurrent use.
type Store struct {
	mu      sync.Mutex
	b       backend
	kind    Backend
	redact  *Redactor
	fileErr error
}

// Open opens the secret store. With useKeyring it probes the Secret Service on the session bus
// (never starting a bus; bounded by KeyringTimeout) and uses it when it answers, moving any
// secrets found in the fallback file into it; otherwise, or without useKeyring, it keeps the
// secrets in dir/secrets.json (mode 0600, dir created 0700). It loads the current values into
// the Redactor.
//
// Only the owner (the process holding the store's lock) may call Open with useKeyring: the
// move deletes the file, which must not happen under another process. Others use Inspect.
func Open(dir string, useKeyring bool) (*Store, error) {
	return open(dir, useKeyring, true)
}

// Inspect opens the secret store to read it without moving anything: for `worktray diagnose`
// while no owner runs. A secret not in the keyring is looked up in the file.
func Inspect(dir string, useKeyring bool) (*Store, error) {
	return open(dir, useKeyring, false)
}

func open(dir string, useKeyring, move bool) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("secret: create config directory: %w", err)
	}
	file := &fileBackend{path: filepath.Join(dir, FileName)}
	s := &Store{b: file, kind: BackendFile, redact: &Redactor{}}
	if useKeyring && keyringAnswers() {
		kr := keyringBackend{service: keyringService}
		switch {
		case !move:
			s.b, s.kind = fallbackBackend{kr, file}, BackendKeyring
		case migrate(file, kr) == nil:
			s.b, s.kind = kr, BackendKeyring
		}
	}
	for _, name := range Names() {
		v, err := s.b.get(name)
		if err == nil {
			s.redact.Add(v)
		} else if !errors.Is(err, ErrNotFound) {
			return nil, fmt.Errorf("secret: read %s: %w", name, err)
		}
	}
	return s, nil
}

// openWith is Open over a given backend, for tests.
func openWith(b backend, kind Backend) *Store {
	return &Store{b: b, kind: kind, redact: &Redactor{}}
}

// fallbackBackend reads the first backend, then the second; it writes to the first.
type fallbackBackend struct{ first, second backend }

func (f fallbackBackend) get(name string) (string, error) {
	v, err := f.first.get(name)
	if errors.Is(err, ErrNotFound) {
		return f.second.get(name)
	}
	return v, err
}
func (f fallbackBackend) set(name, value string) error { return f.first.set(name, value) }
func (f fallbackBackend) del(name string) error        { return f.first.del(name) }

// migrate moves the file's secrets into the keyring and removes the file.
func migrate(file *fileBackend, kr keyringBackend) error {
	m, err := file.load()
	if err != nil || len(m) == 0 {
		return err
	}
	for name, v := range m {
		if err := kr.set(name, v); err != nil {
			return err
		}
	}
	return os.Remove(file.path)
}

// Backend says where the secrets are kept.
func (s *Store) Backend() Backend { return s.kind }

// Redactor returns the redactor that knows the current secret values.
func (s *Store) Redactor() *Redactor { return s.redact }

// Get returns a secret, or ErrNotFound.
func (s *Store) Get(name string) (string, error) {
	if !known(name) {
		return "", fmt.Errorf("secret: %q: %w", name, ErrUnknownName)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v, err := s.b.get(name)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return "", fmt.Errorf("secret: read %s from the %s: %w", name, s.kind, err)
	}
	return v, err
}

// Set validates and stores a secret. An invalid value gives a *scheduler.FieldError naming the
// field; no error ever contains the value.
func (s *Store) Set(name, value string) error {
	if err := Validate(name, value); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old, _ := s.b.get(name)
	// Known to the Redactor before it is stored: a keyring write that times out here may still
	// land later, and the value must never reach a log unredacted.
	s.redact.Add(value)
	if err := s.b.set(name, value); err != nil {
		return fmt.Errorf("secret: save %s to the %s: %w", name, s.kind, err)
	}
	if old != "" && old != value {
		s.redact.Remove(old)
	}
	return nil
}

// Delete removes a secret; removing an absent one is not an error.
func (s *Store) Delete(name string) error {
	if !known(name) {
		return fmt.Errorf("secret: %q: %w", name, ErrUnknownName)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// The old value stays in the Redactor: it may still sit in memory somewhere and be logged.
	if err := s.b.del(name); err != nil {
		return fmt.Errorf("secret: delete %s from the %s: %w", name, s.kind, err)
	}
	return nil
}

// PushoverCredentials returns the Pushover token and user key, empty when not set. It
// implements notify.Credentials.
func (s *Store) PushoverCredentials() (token, user string, err error) {
	token, err = s.Get(PushoverToken)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return "", "", err
	}
	user, err = s.Get(PushoverUserKey)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return "", "", err
	}
	return token, user, nil
}

var pushoverKey = regexp.MustCompile(`^[A-Za-z0-9]{30}$`)

// Validate checks a value before it is stored. The error names the field and never contains the
// value.
func Validate(name, value string) error {
	fe := func(msg string) error { return &scheduler.FieldError{Field: name, Msg: msg} }
	switch name {
	case PushoverToken, PushoverUserKey:
		if value == "" {
			return fe("must not be empty")
		}
		if !pushoverKey.MatchString(value) {
			return fe(fmt.Sprintf("must be exactly 30 letters and digits (got %d characters)", len([]rune(value))))
		}
	case PortalPassword:
		if value == "" {
			return fe("must not be empty")
		}
		if strings.ContainsAny(value, "\x00\n\r") {
			return fe("must not contain line breaks or NUL characters")
		}
		if len(value) > 4096 {
			return fe("is too long (more than 4096 bytes)")
		}
	default:
		return fmt.Errorf("secret: %q: %w", name, ErrUnknownName)
	}
	return nil
}

func known(name string) bool {
	for _, n := range Names() {
		if n == name {
			return true
		}
	}
	return false
}

// Redactor replaces known secret values in text with "[redacted]". It is safe for concurrent use.
type Redactor struct {
	mu     sync.RWMutex
	values []string // longest first
}

// Redacted is what a secret is replaced with.
const Redacted = "[redacted]"

// Add registers secret values; empty values are ignored. Each value's JSON-escaped forms (with
// and without HTML escaping) are registered with it, so a value already encoded into a JSON
// text is caught too.
func (r *Redactor) Add(values ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range values {
		for _, form := range forms(v) {
			if !slices.Contains(r.values, form) {
				r.values = append(r.values, form)
			}
		}
	}
	sort.Slice(r.values, func(i, j int) bool { return len(r.values[i]) > len(r.values[j]) })
}

// Remove forgets a value (and its escaped forms).
func (r *Redactor) Remove(v string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, form := range forms(v) {
		r.values = slices.DeleteFunc(r.values, func(have string) bool { return have == form })
	}
}

// forms returns v and its distinct JSON-escaped forms; none for an empty v.
func forms(v string) []string {
	if v == "" {
		return nil
	}
	out := []string{v}
	add := func(q []byte) {
		q = bytes.TrimSpace(q)
		if len(q) > 2 {
			if esc := string(q[1 : len(q)-1]); !slices.Contains(out, esc) {
				out = append(out, esc)
			}
		}
	}
	q, _ := json.Marshal(v)
	add(q)
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	add(b.Bytes())
	return out
}

// Redact returns s with every known secret value (and its JSON-escaped forms) replaced.
func (r *Redactor) Redact(s string) string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, v := range r.values {
		if strings.Contains(s, v) {
			s = strings.ReplaceAll(s, v, Redacted)
		}
	}
	return s
}

// fileBackend keeps the secrets in one 0600 JSON file, rewritten atomically.
type fileBackend struct {
	path string
}

func (f *fileBackend) load() (map[string]string, error) {
	data, err := os.ReadFile(f.path)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(f.path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		// Someone loosened the mode: tighten it again before going on.
		if err := os.Chmod(f.path, 0o600); err != nil {
			return nil, fmt.Errorf("%s is readable by others and cannot be fixed: %w", f.path, err)
		}
	}
	m := map[string]string{}
	if err := json.Unmarshal(data, &m); err != nil {
		// Never wrap the JSON error: it may quote the file's content.
		return nil, fmt.Errorf("%s is not valid JSON", f.path)
	}
	return m, nil
}

func (f *fileBackend) save(m map[string]string) error {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(f.path), ".secrets-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), f.path)
}

func (f *fileBackend) get(name string) (string, error) {
	m, err := f.load()
	if err != nil {
		return "", err
	}
	v, ok := m[name]
	if !ok || v == "" {
		return "", ErrNotFound
	}
	return v, nil
}

func (f *fileBackend) set(name, value string) error {
	m, err := f.load()
	if err != nil {
		return err
	}
	m[name] = value
	return f.save(m)
}

func (f *fileBackend) del(name string) error {
	m, err := f.load()
	if err != nil {
		return err
	}
	if _, ok := m[name]; !ok {
		return nil
	}
	delete(m, name)
	return f.save(m)
}

// keyringBackend keeps the secrets in the OS keyring through go-keyring, each call bounded by
// KeyringTimeout.
type keyringBackend struct {
	service string
}

func (k keyringBackend) get(name string) (string, error) {
	var v string
	err := withTimeout(func() error {
		var err error
		v, err = keyring.Get(k.service, name)
		return err
	})
	if errors.Is(err, keyring.ErrNotFound) {
		return "", ErrNotFound
	}
	return v, err
}

func (k keyringBackend) set(name, value string) error {
	return withTimeout(func() error { return keyring.Set(k.service, name, value) })
}

func (k keyringBackend) del(name string) error {
	err := withTimeout(func() error { return keyring.Delete(k.service, name) })
	if errors.Is(err, keyring.ErrNotFound) {
		return nil
	}
	return err
}

// withTimeout runs f in a goroutine and gives up waiting after KeyringTimeout.
func withTimeout(f func() error) error {
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-time.After(KeyringTimeout):
		return ErrKeyringTimeout
	}
}

// keyringAnswers reports whether a Secret Service answers on the session bus. It never lets
// go-keyring start a bus: with no session bus address it answers false at once.
func keyringAnswers() bool {
	if a := os.Getenv("DBUS_SESSION_BUS_ADDRESS"); a == "" || a == "autolaunch:" {
		// godbus finds a systemd user bus at $XDG_RUNTIME_DIR/bus by itself; anything else
		// would make it auto-launch a dbus-daemon.
		fi, err := os.Stat(filepath.Join(os.Getenv("XDG_RUNTIME_DIR"), "bus"))
		if os.Getenv("XDG_RUNTIME_DIR") == "" || err != nil || fi.Mode()&os.ModeSocket == 0 {
			return false
		}
	}
	_, err := keyringBackend{service: keyringService}.get("__probe__")
	return err == nil || errors.Is(err, ErrNotFound)
}
