package demoportal

import (
	"net/http"
	"slices"
)

// The portal's modes are extra pages beside the standard ones, each under its own path, so a
// profile chooses a mode by its URLs:
//
//   - field mode (fieldmodes.go): /f/orders, a server-rendered list whose rows carry custom
//     fields, the visit's time and the instructions in a hidden tooltip; /f/orders/{id}, a
//     detail page with more custom fields; /f/js/orders/{id}, the same drawn by JavaScript.
//     List query parameters: dialog=alert|confirm|beforeunload opens that dialog, detail=js
//     links the JavaScript detail pages.
//   - login modes (loginmodes.go): /l/js/login, a login form drawn by JavaScript after the page
//     loaded; /l/two/login, a two-step login (email, Next, then the password on a second form).
//     Both count sign-ins in Stats like /login and go to their next parameter afterwards.

// modeState holds the switches of the modes; the Portal's mutex guards it.
type modeState struct {
	brokenDetails []string // portal ids whose detail pages answer HTTP 500 for ever
	noDetailLink  []string // portal ids whose list row has no detail link
}

// registerModes adds the modes' pages to mux.
func (p *Portal) registerModes(mux *http.ServeMux) {
	mux.HandleFunc("GET /f/orders", p.fieldListPage)
	mux.HandleFunc("GET /f/orders/{id}", p.fieldDetailPage)
	mux.HandleFunc("GET /f/js/orders/{id}", p.fieldDetailPage)
	mux.HandleFunc("GET /l/js/login", p.jsLoginPage)
	mux.HandleFunc("POST /l/js/login", p.jsLogin)
	mux.HandleFunc("GET /l/two/login", p.twoStepPage)
	mux.HandleFunc("POST /l/two/login", p.twoStepLogin)
}

// BreakDetail makes the field mode's detail pages of the order with portal id id answer HTTP
// 500 for ever; FixDetail undoes it.
func (p *Portal) BreakDetail(id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !slices.Contains(p.modes.brokenDetails, id) {
		p.modes.brokenDetails = append(p.modes.brokenDetails, id)
	}
}

// FixDetail makes the detail pages of id answer again.
func (p *Portal) FixDetail(id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.modes.brokenDetails = slices.DeleteFunc(p.modes.brokenDetails, func(s string) bool { return s == id })
}

// HideDetailLink leaves the detail link out of the field-mode list row of id.
func (p *Portal) HideDetailLink(id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.modes.noDetailLink = append(p.modes.noDetailLink, id)
}
