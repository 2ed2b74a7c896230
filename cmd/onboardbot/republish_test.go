package main

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/onboardbot/onboardbot/config"
	"github.com/onboardbot/onboardbot/provisioning/request"
)

// A pending request whose summary was never posted — its task shed from a
// full queue, or the process gone before it ran — is published by the
// sweep with its precheck, once however often the sweep comes by.
func TestSweepPublishesWhatWasNeverPosted(t *testing.T) {
	e := newE2E(t)
	cfg, err := config.Load(func(k string) string { return e.env[k] })
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	app, err := Start(ctx, cfg, Options{Getenv: func(k string) string { return e.env[k] }, Redis: e.rdb,
		Listener: ln, Stderr: testLogWriter{t}, PollInterval: 50 * time.Millisecond})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); app.Close() })

	// Saved three minutes ago, as a submission saves it; nothing posted.
	old := e.store().WithClock(func() time.Time { return time.Now().Add(-3 * time.Minute) })
	spec := `{"name":"Müller","email":"it@mueller.example","externalId":"MS-001","country":"DE","packages":["webex_calling"],"provisioningId":"PROV-DE-1","address":{"addressLine1":"Hauptstraße 1","city":"Berlin","zipOrPostalCode":"10115","country":"DE"},"timezone":"Europe/Berlin","language":"de_DE","locationName":"HQ"}`
	r := &request.Request{Kind: request.KindCustomer, State: request.StatePendingApproval, Requester: "UALICE",
		Subject: "MS-001", ExternalID: "MS-001", Spec: []byte(spec), Hash: request.HashSpec([]byte(spec)),
		Precheck: request.Precheck{Status: request.PrecheckRunning}}
	if err := old.Create(ctx, r); err != nil {
		t.Fatal(err)
	}
	// A fresh one is its own task's business, not the sweep's.
	fresh := &request.Request{Kind: request.KindLocation, State: request.StatePendingApproval, Requester: "UALICE",
		Subject: "location HQ2", Spec: []byte(`{}`)}
	if err := e.store().Create(ctx, fresh); err != nil {
		t.Fatal(err)
	}

	for range 3 {
		app.handler.RepublishPending(ctx)
	}
	waitFor(t, "the summary with its precheck", 10*time.Second, func() bool {
		got, err := e.store().Get(ctx, r.ID)
		return err == nil && got.Summary.TS != "" && got.Precheck.Status != request.PrecheckRunning
	})
	app.handler.Wait()
	app.handler.RepublishPending(ctx)
	app.handler.Wait()
	posts := 0
	for _, c := range e.slack.Calls("chat.postMessage") {
		if strings.Contains(c.Form.Get("text")+c.Form.Get("blocks"), r.Ref()) {
			posts++
		}
		if strings.Contains(c.Form.Get("text")+c.Form.Get("blocks"), fresh.Ref()) {
			t.Errorf("the sweep posted %s, saved just now", fresh.Ref())
		}
	}
	if posts != 1 {
		t.Fatalf("%d summaries of %s posted, want 1", posts, r.Ref())
	}
	got, _ := e.store().Get(ctx, r.ID)
	if got.Precheck.Status != request.PrecheckOK {
		t.Fatalf("precheck %q (%s), want ok from the sandbox", got.Precheck.Status, got.Precheck.Message)
	}
}
