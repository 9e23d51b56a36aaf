package control

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"worktray/scheduler"
)

// ProfileTestInput is the body of POST /api/profile/test: test a profile with the configured
// account, storing nothing. The settings window's "Test profile" button and `worktray profile
// test` send it.
type ProfileTestInput struct {
	// File is a profile file to test instead of the configured profile; empty tests the
	// configured one.
	File string `json:"file,omitempty"`
	// Pages is how many list pages to read (default 1); Details how many detail pages (default 3).
	Pages   int `json:"pages,omitempty"`
	Details int `json:"details,omitempty"`
	// Screenshot asks for a PNG of the list page with the matched rows and fields outlined.
	Screenshot bool `json:"screenshot,omitempty"`
}

// ProfileTestResult is the answer of POST /api/profile/test. Report is the scraper's report
// (scraper.ProfileReport as JSON: per field how many rows matched, samples, what matched
// nothing, the screenshot), also when the test failed part way; ErrorClass and Error say why
// it failed (a sign-in refused, the list not reached, the profile invalid).
type ProfileTestResult struct {
	OK         bool                 `json:"ok"`
	ErrorClass scheduler.ErrorClass `json:"error_class,omitempty"`
	Error      string               `json:"error,omitempty"`
	Report     json.RawMessage      `json:"report,omitempty"`
}

// testProfile serves POST /api/profile/test through Hooks.TestProfile.
func (s *Server) testProfile(w http.ResponseWriter, r *http.Request) {
	var in ProfileTestInput
	if r.ContentLength != 0 && !decodeBody(w, r, &in) {
		return
	}
	if s.cfg.Hooks.TestProfile == nil {
		notSupported(w, "testing a profile")
		return
	}
	report, err := s.cfg.Hooks.TestProfile(r.Context(), in)
	res := ProfileTestResult{OK: err == nil}
	if report != nil {
		b, merr := json.Marshal(report)
		if merr == nil {
			res.Report = b
		}
	}
	if err != nil {
		res.ErrorClass, res.Error = scheduler.Classify(err)
	}
	writeJSON(w, http.StatusOK, res)
}

// TestProfile asks the owner to test a profile (POST /api/profile/test). It blocks while the
// owner signs in and reads (bounded by ctx, default 3 minutes). A failed test is a result with
// OK false, not an error; errors are the API's (no owner, not supported).
func (c *Client) TestProfile(ctx context.Context, in ProfileTestInput) (ProfileTestResult, error) {
	ctx, cancel := withDefaultTimeout(ctx, 3*time.Minute)
	defer cancel()
	var res ProfileTestResult
	err := c.do(ctx, http.MethodPost, "/api/profile/test", in, &res)
	return res, err
}
