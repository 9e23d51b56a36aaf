package scraper

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/go-rod/rod/lib/proto"

	"worktray/scheduler"
)

// FailureError is a failed scrape: a classified *scheduler.RunError (errors.As finds it) and
// the artifact files kept for it (a screenshot and the page's HTML), if any.
type FailureError struct {
	*scheduler.RunError
	Artifacts []string
}

func (e *FailureError) Error() string { return e.RunError.Error() }

// Unwrap returns the RunError.
func (e *FailureError) Unwrap() error { return e.RunError }

// ArtifactPaths returns the artifact files, so that a consumer can declare a one-method
// interface instead of importing this package.
func (e *FailureError) ArtifactPaths() []string { return e.Artifacts }

// failure classifies err, scrubs the secrets from it and keeps the artifacts of the page it
// happened on (not for a canceled run, nor when the browser is gone).
func (r *run) failure(err error) *FailureError {
	var re *scheduler.RunError
	if !errors.As(err, &re) {
		class, msg := scheduler.Classify(err)
		re = &scheduler.RunError{Class: class, Msg: msg, Err: err}
	}
	for _, v := range r.s.secretValues() {
		re.Msg = strings.ReplaceAll(re.Msg, v, secretMask)
		if re.Err != nil && strings.Contains(re.Err.Error(), v) {
			re.Err = errors.New(strings.ReplaceAll(re.Err.Error(), v, secretMask))
		}
	}
	fe := &FailureError{RunError: re}
	if re.Class != scheduler.ClassCanceled && r.s.cfg.ArtifactDir != "" && r.browser != nil {
		fe.Artifacts = r.saveArtifacts(re.Class)
	}
	r.log.Debug("scrape failed", "class", re.Class, "err", fe.Error(), "artifacts", fe.Artifacts)
	return fe
}

// artifactName matches the names saveArtifacts writes.
var artifactName = regexp.MustCompile(`^\d{8}T\d{9}Z-run\d+-[a-z_]+\.(png|html)$`)

// saveArtifacts writes a screenshot and the HTML of the failed page and prunes old ones. It
// returns the files written; errors are logged. No secret's value is kept: the page's password
// inputs are cleared and the secrets masked in it before the screenshot (which is skipped when
// that fails), and masked again in the HTML text. A browser that is gone leaves no artifact;
// each call to it is bounded, so a failing browser ends the run within seconds.
func (r *run) saveArtifacts(class scheduler.ErrorClass) []string {
	r.failMu.Lock()
	page := r.failPage
	r.failMu.Unlock()
	if page == nil {
		page = r.page
	}
	if page == nil {
		return nil
	}
	if r.browserGone() || r.pageCrashed(page) {
		r.log.Warn("no artifacts of the failed page: the browser or the page is gone")
		return nil
	}
	dir := r.s.cfg.ArtifactDir
	if err := os.MkdirAll(dir, 0o700); err != nil {
		r.log.Warn("cannot create the artifact directory", "dir", dir, "err", err)
		return nil
	}
	stamp := strings.Replace(time.Now().UTC().Format("20060102T150405.000Z"), ".", "", 1)
	base := filepath.Join(dir, fmt.Sprintf("%s-run%d-%s", stamp, r.req.RunID, class))
	secrets := r.s.secretValues()
	var files []string
	mctx, mcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer mcancel()
	// A navigation still under way (the step that failed was waiting for it) would hold back
	// the script below until it commits; the artifacts show the page as it is now.
	_ = proto.PageStopLoading{}.Call(page.Context(mctx))
	masked := true
	if len(secrets) > 0 {
		if _, err := maskPage(mctx, page, secrets); err != nil {
			masked = false
			r.log.Warn("cannot mask the secrets in the failed page; no screenshot is kept", "err", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if doc, err := page.Context(ctx).HTML(); err == nil {
		if err := os.WriteFile(base+".html", []byte(maskHTML(doc, secrets)), 0o600); err == nil {
			files = append(files, base+".html")
		}
	} else {
		r.log.Warn("cannot read the failed page's HTML", "err", err)
	}
	if masked {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		if png, err := page.Context(sctx).Screenshot(false, &proto.PageCaptureScreenshot{Format: proto.PageCaptureScreenshotFormatPng}); err == nil {
			if err := os.WriteFile(base+".png", png, 0o600); err == nil {
				files = append(files, base+".png")
			}
		} else {
			r.log.Warn("cannot take a screenshot of the failed page", "err", err)
		}
	}
	pruneArtifacts(dir, r.s.cfg.KeepArtifacts)
	return files
}

// pruneArtifacts keeps the artifacts of the newest keep failures in dir.
func pruneArtifacts(dir string, keep int) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	var stems []string
	for _, e := range ents {
		if artifactName.MatchString(e.Name()) {
			stem := strings.TrimSuffix(e.Name(), filepath.Ext(e.Name()))
			if !slices.Contains(stems, stem) {
				stems = append(stems, stem)
			}
		}
	}
	slices.Sort(stems)
	if len(stems) <= keep {
		return
	}
	old := stems[:len(stems)-keep]
	for _, e := range ents {
		if artifactName.MatchString(e.Name()) && slices.Contains(old, strings.TrimSuffix(e.Name(), filepath.Ext(e.Name()))) {
			_ = os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}
