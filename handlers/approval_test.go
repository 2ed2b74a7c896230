package handlers

import (
	"strings"
	"testing"

	"github.com/onboardbot/onboardbot/provisioning/request"
)

func TestApproveRefusal(t *testing.T) {
	t.Parallel()
	base := request.Request{ID: 7, State: request.StatePendingApproval, Requester: "alice", Hash: "abc",
		Precheck: request.Precheck{Status: request.PrecheckOK}}
	with := func(f func(r *request.Request)) *request.Request {
		r := base
		f(&r)
		return &r
	}
	cases := []struct {
		name     string
		r        *request.Request
		user     string
		approver bool
		hash     string
		want     string // substring; "" = allowed
	}{
		{"approver", &base, "bob", true, "abc", ""},
		{"command without hash", &base, "bob", true, "", ""},
		{"own request", &base, "alice", true, "abc", "four-eyes"},
		{"own request, not approver", &base, "alice", false, "abc", "four-eyes"},
		{"not an approver", &base, "dave", false, "abc", "only approvers"},
		{"stale summary", &base, "bob", true, "old", "out of date"},
		{"precheck running", with(func(r *request.Request) { r.Precheck.Status = request.PrecheckRunning }), "bob", true, "abc", "still running"},
		{"precheck failed", with(func(r *request.Request) {
			r.Precheck = request.Precheck{Status: request.PrecheckFailed, Message: "address rejected"}
		}), "bob", true, "abc", "address rejected"},
		{"precheck unavailable", with(func(r *request.Request) { r.Precheck.Status = request.PrecheckUnavailable }), "bob", true, "abc", ""},
		{"already approved: the transition reports it", with(func(r *request.Request) { r.State = request.StateApproved }), "alice", false, "x", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := approveRefusal(c.r, c.user, c.approver, c.hash)
			if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
				t.Fatalf("approveRefusal = %q, want %q", got, c.want)
			}
		})
	}
}
