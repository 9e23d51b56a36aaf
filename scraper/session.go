package scraper

import (
	"context"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"time"

	"github.com/go-rod/rod/lib/proto"
)

// savedSession is what the cookie jar keeps: the portal's cookies and the account they belong
// to. Account is a salted, slow hash of the login URL, the user name and the password, so a
// changed account (or portal) drops the old session and signs in anew, while the password
// cannot be read back from it.
type savedSession struct {
	Salt    []byte                 `json:"salt"`
	Account []byte                 `json:"account"`
	Cookies []*proto.NetworkCookie `json:"cookies"`
}

// accountKey hashes the account the scraper signs in with, with salt.
func (s *Scraper) accountKey(salt []byte) []byte {
	id := s.loginURL + "\x00" + s.cfg.Username
	k, err := pbkdf2.Key(sha256.New, s.cfg.Password, append(append([]byte(nil), salt...), id...), 4096, 32)
	if err != nil {
		return nil
	}
	return k
}

// saveCookies stores the browser's cookies in the jar, with the account they belong to; a
// failure is logged, not fatal.
func (r *run) saveCookies() {
	if r.s.cfg.Cookies == nil || r.browser == nil {
		return
	}
	ctx, cancel := context.WithTimeout(r.ctx, 5*time.Second)
	defer cancel()
	cookies, err := r.browser.Context(ctx).GetCookies()
	if err != nil {
		r.log.Warn("cannot read the session cookies", "err", err)
		return
	}
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	b, err := json.Marshal(savedSession{Salt: salt, Account: r.s.accountKey(salt), Cookies: cookies})
	if err == nil {
		err = r.s.cfg.Cookies.SaveCookies(b)
	}
	if err != nil {
		r.log.Warn("cannot save the session cookies", "err", err)
	}
}

// loadCookies puts the saved cookies into the browser when they belong to the configured
// account and portal; else they are dropped and the scrape signs in anew. A failure is logged,
// not fatal.
func (r *run) loadCookies() {
	if r.s.cfg.Cookies == nil {
		return
	}
	b, err := r.s.cfg.Cookies.LoadCookies()
	if err != nil || len(b) == 0 {
		if err != nil {
			r.log.Warn("cannot load the session cookies", "err", err)
		}
		return
	}
	var saved savedSession
	if err := json.Unmarshal(b, &saved); err != nil || len(saved.Salt) == 0 {
		r.log.Info("the saved session is of an older kind; signing in again")
		r.dropCookies()
		return
	}
	if !hmac.Equal(saved.Account, r.s.accountKey(saved.Salt)) {
		r.log.Info("the saved session belongs to another account or portal; signing in again")
		r.dropCookies()
		return
	}
	params := proto.CookiesToParams(saved.Cookies)
	for i, c := range saved.Cookies {
		if c.Session || c.Expires <= 0 {
			params[i].Expires = 0
		}
	}
	ctx, cancel := context.WithTimeout(r.ctx, 5*time.Second)
	defer cancel()
	if err := r.browser.Context(ctx).SetCookies(params); err != nil {
		r.log.Warn("cannot restore the session cookies", "err", err)
		return
	}
	r.sessionLoaded = len(params) > 0
}

// dropCookies deletes the saved session.
func (r *run) dropCookies() {
	if err := r.s.cfg.Cookies.SaveCookies(nil); err != nil {
		r.log.Warn("cannot delete the old session cookies", "err", err)
	}
}
