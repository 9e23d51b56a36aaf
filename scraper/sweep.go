package scraper

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// profileDirPrefix starts the name of every browser profile directory: the rest names the data
// directory the browser was started for, the process that started it and a random part, e.g.
// worktray-chromium-3f9a0c41d2e7-12345.987654-2861439014.
const profileDirPrefix = "worktray-chromium-"

// dataDirPrefix returns the name start of the profile directories of browsers started for
// dataDir (the owner's data directory, made absolute): profileDirPrefix, 8 hex digits of its
// SHA-256 and a dash. Names are short because Chromium's singleton socket lives below the
// profile directory and a unix socket's path is limited to 107 bytes.
func dataDirPrefix(dataDir string) string {
	if dataDir != "" {
		if abs, err := filepath.Abs(dataDir); err == nil {
			dataDir = filepath.Clean(abs)
		}
	}
	sum := sha256.Sum256([]byte(dataDir))
	return profileDirPrefix + hex.EncodeToString(sum[:4]) + "-"
}

// ownPrefix returns the name start of the profile directories this process creates for dataDir.
func ownPrefix(dataDir string) string { return dataDirPrefix(dataDir) + processToken() + "-" }

// newProfileDir creates a private (0700) profile directory for a browser of dataDir in the
// system's temporary directory ($TMPDIR): ownPrefix and five random letters or digits.
func newProfileDir(dataDir string) (string, error) {
	prefix := filepath.Join(os.TempDir(), ownPrefix(dataDir))
	const letters = "abcdefghijklmnopqrstuvwxyz0123456789"
	for range 100 {
		var b [5]byte
		if _, err := rand.Read(b[:]); err != nil {
			return "", err
		}
		for i := range b {
			b[i] = letters[int(b[i])%len(letters)]
		}
		dir := prefix + string(b[:])
		err := os.Mkdir(dir, 0o700)
		if err == nil {
			return dir, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return "", err
		}
	}
	return "", fmt.Errorf("cannot create a browser profile directory %s*", prefix)
}

// removeProfileDir removes a browser's profile directory and the temporary directory Chromium
// made for its singleton socket when that is outside the profile (its TMPDIR could not be put
// inside: see browserTempDir).
func removeProfileDir(dir string) error {
	var errs []error
	if target, err := os.Readlink(filepath.Join(dir, "SingletonSocket")); err == nil {
		tmp := filepath.Dir(target)
		if rel, err := filepath.Rel(dir, tmp); err == nil && strings.HasPrefix(rel, "..") &&
			strings.HasPrefix(filepath.Base(tmp), "org.chromium.Chromium.") {
			errs = append(errs, removeDir(tmp))
		}
	}
	errs = append(errs, removeDir(dir))
	return errors.Join(errs...)
}

// Sweep removes what an earlier owner of dataDir (the owner's data directory; Config.DataDir of
// its scrapers) left behind when it was killed: it kills every browser process whose profile
// directory belongs to dataDir but not to this process, waits for them to be gone and removes
// their profile directories from $TMPDIR (and wherever their command lines put them). It
// returns how many processes it killed and how many directories it removed; err says what could
// not be cleaned up. It blocks until done or ctx ends (a few seconds at most).
//
// Call it once at the owner's start, while it holds the store's lock (so no other live owner of
// dataDir exists) and before its first scrape. Browsers and directories of scrapes running in
// this process are never touched. It is safe for concurrent use; processes are found through
// /proc, so on systems without it only the directories are removed.
func Sweep(ctx context.Context, dataDir string) (killed int, removed int, err error) {
	prefix, own := dataDirPrefix(dataDir), ownPrefix(dataDir)
	theirs := func(dir string) bool {
		base := filepath.Base(dir)
		return strings.HasPrefix(base, prefix) && !strings.HasPrefix(base, own)
	}
	dirs := map[string]bool{}
	groups := map[int]string{} // process groups of left browsers, by their executable
	seen := map[int]bool{}
	var errs []error
	for {
		left := leftBrowsers(theirs, dirs)
		for _, pid := range left {
			if pgid, exe := browserGroup(pid); pgid > 0 {
				groups[pgid] = exe
			}
		}
		// The helpers of a browser name no profile directory; they are found through its group,
		// also after its leader is gone.
		for pgid, exe := range groups {
			for _, pid := range groupMembers(pgid, exe) {
				if !slices.Contains(left, pid) {
					left = append(left, pid)
				}
			}
		}
		if len(left) == 0 {
			break
		}
		for _, pid := range left {
			if !seen[pid] {
				seen[pid] = true
				killed++
			}
			killPID(pid)
		}
		select {
		case <-ctx.Done():
			errs = append(errs, fmt.Errorf("browser processes %v of an earlier owner did not exit: %w", left, ctx.Err()))
		case <-time.After(20 * time.Millisecond):
			continue
		}
		break
	}
	matches, gerr := filepath.Glob(filepath.Join(os.TempDir(), prefix+"*"))
	if gerr != nil {
		errs = append(errs, gerr)
	}
	for _, d := range matches {
		if theirs(d) {
			dirs[d] = true
		}
	}
	for _, d := range slices.Sorted(maps.Keys(dirs)) {
		if _, serr := os.Lstat(d); errors.Is(serr, os.ErrNotExist) {
			continue
		}
		if rerr := removeProfileDir(d); rerr != nil {
			errs = append(errs, fmt.Errorf("removing the browser profile directory %s: %w", d, rerr))
			continue
		}
		removed++
	}
	return killed, removed, errors.Join(errs...)
}

// leftBrowsers returns the live processes whose --user-data-dir is a directory that theirs
// accepts, and adds those directories to dirs.
func leftBrowsers(theirs func(string) bool, dirs map[string]bool) []int {
	var pids []int
	eachProcess(func(pid int, cmdline []byte) {
		for _, arg := range bytes.Split(cmdline, []byte{0}) {
			dir, ok := bytes.CutPrefix(arg, []byte("--user-data-dir="))
			if ok && theirs(string(dir)) {
				dirs[filepath.Clean(string(dir))] = true
				pids = append(pids, pid)
				return
			}
		}
	})
	return pids
}
