package bot

import (
	"io"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/onboardbot/onboardbot/handlers"
)

// BenchmarkHelpAck is the ack path of `/onboard-customer help` inside the
// process: signature check, form, handler, JSON answer (no sockets; the
// onboardbench command measures those).
func BenchmarkHelpAck(b *testing.B) {
	quiet := logrus.New()
	quiet.SetOutput(io.Discard)
	h := handlers.New(handlers.Deps{
		Settings: handlers.Settings{ApprovalChannel: "CAPPROVALS", Approvers: []string{"UBOB"}, Admins: []string{"UBOB"}},
		Log:      logrus.NewEntry(quiet),
	})
	srv := NewHTTPServer(HTTPOptions{SigningSecret: testSecret, Router: h, Logger: logrus.NewEntry(quiet)})
	body := []byte(url.Values{"command": {"/onboard-customer"}, "text": {"help"}, "user_id": {"UALICE"},
		"channel_id": {"C1"}, "team_id": {"T1"}, "trigger_id": {"1.2.3"}, "response_url": {"https://hooks.slack.com/commands/T1/1/x"}}.Encode())
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, signedRequest("/slack/commands", body, time.Now()))
		if w.Code != 200 {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}
