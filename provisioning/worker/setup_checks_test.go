package worker

import (
	"strings"
	"testing"

	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/provisioning/webex"
)

// TestChangeRefusal: a package change needs a number from webex_meetings
// to a calling package, may not have one between calling packages (Webex
// keeps the number), and is refused when the user is unknown or already has
// the package.
func TestChangeRefusal(t *testing.T) {
	t.Parallel()
	ref := request.CustomerRef{ExternalID: "MS-001"}
	user := func(pkg string) *webex.Subscriber {
		return &webex.Subscriber{ID: "s1", Email: "anna@x.example", Packages: []string{pkg}}
	}
	cases := []struct {
		name string
		spec request.ChangeSpec
		sub  *webex.Subscriber
		want string // substring; "" = fine
	}{
		{"unknown user", request.ChangeSpec{Email: "anna@x.example", Package: "webex_suite"}, nil, "is not a user of MS-001"},
		{"same package", request.ChangeSpec{Email: "anna@x.example", Package: "webex_suite"}, user("webex_suite"), "already has webex_suite"},
		{"meetings to calling without a number", request.ChangeSpec{Email: "anna@x.example", Package: "webex_calling"}, user("webex_meetings"), "needs phone=+…|auto or extension=N"},
		{"meetings to calling with an extension", request.ChangeSpec{Email: "anna@x.example", Package: "webex_calling", Extension: "1002"}, user("webex_meetings"), ""},
		{"meetings to calling with auto", request.ChangeSpec{Email: "anna@x.example", Package: "webex_calling", Phone: request.PhoneAuto}, user("webex_meetings"), ""},
		{"calling to calling with a number", request.ChangeSpec{Email: "anna@x.example", Package: "webex_suite", Phone: "+4930555001"}, user("webex_calling"), "Webex keeps the user's number"},
		{"calling to calling", request.ChangeSpec{Email: "anna@x.example", Package: "webex_suite"}, user("webex_calling"), ""},
		{"calling to meetings", request.ChangeSpec{Email: "anna@x.example", Package: "webex_meetings"}, user("webex_calling"), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.spec.Customer = ref
			got := changeRefusal(&c.spec, c.sub)
			if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
				t.Fatalf("changeRefusal = %q, want %q", got, c.want)
			}
		})
	}
}
