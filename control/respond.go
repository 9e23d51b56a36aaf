package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"worktray/scheduler"
	"worktray/store"
)

func notSupported(w http.ResponseWriter, what string) {
	writeError(w, http.StatusNotImplemented, codeNotSupported, what+" is not supported by the running worktray", "")
}

// fail turns an error into its response, logging unexpected ones once here.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var (
		ve scheduler.ValidationError
		fe *scheduler.FieldError
		se *store.StaleRevisionError
	)
	switch {
	case errors.As(err, &ve):
		body := errorBody{Error: ve.Error(), Code: codeInvalid}
		for _, f := range ve {
			body.Fields = append(body.Fields, fieldError{Field: f.Field, Error: f.Msg})
		}
		if len(ve) > 0 {
			body.Field = ve[0].Field
		}
		writeJSON(w, http.StatusUnprocessableEntity, body)
	case errors.As(err, &se):
		writeJSON(w, http.StatusConflict, staleBody(se))
	case errors.As(err, &fe):
		writeJSON(w, http.StatusUnprocessableEntity, errorBody{Error: fe.Error(), Code: codeInvalid, Field: fe.Field,
			Fields: []fieldError{{Field: fe.Field, Error: fe.Msg}}})
	case errors.Is(err, scheduler.ErrAlreadyRunning):
		writeError(w, http.StatusConflict, codeAlreadyRunning, err.Error(), "")
	case errors.Is(err, scheduler.ErrNotRunning):
		writeError(w, http.StatusConflict, codeNotRunning, err.Error(), "")
	case errors.Is(err, scheduler.ErrNotFound):
		writeError(w, http.StatusNotFound, codeNotFound, err.Error(), "")
	case errors.Is(err, scheduler.ErrNotStarted):
		writeError(w, http.StatusServiceUnavailable, codeUnavailable, err.Error(), "")
	case errors.Is(err, ErrNoWindows):
		writeError(w, http.StatusNotImplemented, codeNoWindows, err.Error(), "")
	case errors.Is(err, ErrNotSupported):
		writeError(w, http.StatusNotImplemented, codeNotSupported, err.Error(), "")
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		// The client went away; nobody reads the answer.
	default:
		s.log.Error("control request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		writeError(w, http.StatusInternalServerError, codeInternal, err.Error(), "")
	}
}

// maxBody bounds a request body.
const maxBody = 1 << 20

// decodeBody decodes exactly one JSON value with no unknown fields into v. On failure it
// answers 400 and returns false; nothing has been changed then.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		msg := "malformed JSON: " + err.Error()
		if errors.Is(err, io.EOF) {
			msg = "the request needs a JSON body"
		}
		field := ""
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) {
			field = ute.Field
		}
		if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			field = strings.Trim(f, `"`)
		}
		writeError(w, http.StatusBadRequest, codeBadRequest, msg, field)
		return false
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		writeError(w, http.StatusBadRequest, codeBadRequest, "malformed JSON: more than one value in the body", "")
		return false
	}
	return true
}

// emptyBody accepts a command with no body (or an empty JSON object) and answers 400 otherwise.
func emptyBody(w http.ResponseWriter, r *http.Request) bool {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		writeError(w, http.StatusBadRequest, codeBadRequest, "reading the body: "+err.Error(), "")
		return false
	}
	if t := strings.TrimSpace(string(data)); t != "" && t != "{}" {
		writeError(w, http.StatusBadRequest, codeBadRequest, "this command takes no body", "")
		return false
	}
	return true
}

func boolParam(w http.ResponseWriter, r *http.Request, name string) (bool, bool) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return false, true
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		writeError(w, http.StatusBadRequest, codeBadRequest, fmt.Sprintf("%s must be true or false, got %q", name, v), name)
		return false, false
	}
	return b, true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		data, _ = json.Marshal(errorBody{Error: "encoding the answer: " + err.Error(), Code: codeInternal})
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(data, '\n'))
}

func writeError(w http.ResponseWriter, status int, code, msg, field string) {
	writeJSON(w, status, errorBody{Error: msg, Code: code, Field: field})
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
