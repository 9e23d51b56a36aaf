package control

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"worktray/store"
)

// This file is the settings writes' revision check. A settings GET answers the setting with its
// revision; a PUT with the header `If-Match: "N"` (N that revision) is applied only if the
// setting is still at revision N, else it is refused with 409 and code stale_revision, naming
// the setting, the revision the write was based on and the current one. A PUT without If-Match
// (or with `If-Match: *`) is applied whatever the revision.
//
// The owner is the only process that writes the store while it runs (it holds the store's
// lock), and the server runs every settings write under one lock: the check and the write
// cannot interleave with another write. A write, once begun, runs to its end even if the client
// goes away (a client that timed out does not leave half a change; reading the setting's
// revision tells it whether its write was applied); a write whose client has already gone when
// its turn comes is dropped, and so is one whose client's deadline (DeadlineHeader) passed while
// it waited for the lock.

// ifMatch reads the If-Match header. conditional is false without one (or with "*"); ok is
// false, and 400 answered, when it is not a revision.
func ifMatch(w http.ResponseWriter, r *http.Request) (based uint64, conditional, ok bool) {
	v := strings.TrimSpace(r.Header.Get("If-Match"))
	if v == "" || v == "*" {
		return 0, false, true
	}
	v = strings.Trim(strings.TrimPrefix(v, "W/"), `"`)
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		writeError(w, http.StatusBadRequest, codeBadRequest,
			fmt.Sprintf("If-Match must be a settings revision such as \"3\", got %q", r.Header.Get("If-Match")), "If-Match")
		return 0, false, false
	}
	return n, true, true
}

// writeSetting applies a settings write under the server's settings lock and answers it: with
// If-Match, current (the setting's revision now) must equal the revision named there, or the
// write is refused with a *store.StaleRevisionError. apply writes and returns the answer (the
// setting with its new revision); it runs with a context that the client going away does not
// cancel.
func (s *Server) writeSetting(w http.ResponseWriter, r *http.Request, setting string,
	current func(ctx context.Context) (uint64, error), apply func(ctx context.Context) (any, error)) {
	based, conditional, ok := ifMatch(w, r)
	if !ok {
		return
	}
	s.settingsMu.Lock()
	defer s.settingsMu.Unlock()
	if r.Context().Err() != nil {
		return // the client went away while waiting: nothing was applied and nobody reads the answer
	}
	if now := time.Now(); deadlinePassed(r, now) {
		refuseExpired(w, r, now) // the client's deadline passed while waiting: nothing is applied
		return
	}
	ctx := context.WithoutCancel(r.Context())
	if conditional {
		cur, err := current(ctx)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if cur != based {
			s.fail(w, r, &store.StaleRevisionError{Setting: setting, Based: based, Current: cur})
			return
		}
	}
	v, err := apply(ctx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// staleBody is the answer to a write refused for its revision.
func staleBody(se *store.StaleRevisionError) errorBody {
	return errorBody{Error: se.Error(), Code: codeStaleRevision, Setting: se.Setting, Based: se.Based, Revision: se.Current}
}
