package scraper

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/go-rod/rod/lib/proto"
)

// watchDialogs answers every dialog a page of the run's browser opens (alert, confirm, prompt,
// beforeunload) at once, so that no step waits behind it until its timeout, and keeps its text
// as a warning of the run. Alerts and beforeunload are accepted (the page goes on or away as
// asked); confirm and prompt are dismissed, which is the safe answer to a question. It returns
// stop, which ends the watch and waits for it; call it before the browser closes.
func (r *run) watchDialogs() (stop func()) {
	if r.browser == nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	b := r.browser.Context(ctx)
	events := b.Event()
	var wg sync.WaitGroup
	wg.Go(func() {
		for msg := range events {
			var e proto.PageJavascriptDialogOpening
			if !msg.Load(&e) {
				continue
			}
			accept := e.Type == proto.PageDialogTypeAlert || e.Type == proto.PageDialogTypeBeforeunload
			text := strings.Join(strings.Fields(e.Message), " ")
			if len(text) > 300 {
				text = text[:300] + "…"
			}
			r.warn(fmt.Sprintf("the portal opened a %s dialog at %s: %q (dismissed)", e.Type, e.URL, text))
			r.log.Info("page dialog answered", "type", e.Type, "url", e.URL, "accept", accept)
			session := string(msg.SessionID)
			wg.Go(func() {
				cctx, ccancel := context.WithTimeout(ctx, 5*time.Second)
				defer ccancel()
				_, err := b.Call(cctx, session, "Page.handleJavaScriptDialog", proto.PageHandleJavaScriptDialog{Accept: accept})
				if err != nil && ctx.Err() == nil {
					r.log.Warn("cannot answer a page dialog", "type", e.Type, "err", err)
				}
			})
		}
	})
	return func() {
		cancel()
		wg.Wait()
	}
}
