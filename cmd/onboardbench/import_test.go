package main

import (
	"testing"

	"github.com/onboardbot/onboardbot/provisioning/input"
	"github.com/onboardbot/onboardbot/provisioning/webex/sandbox"
)

// TestImportSetValid: the import of (g) passes the bot's own import
// checks — every customer a plan with PSTN, a block of numbers of its own
// and its users — and its command fits the bot's 1 MiB body limit.
func TestImportSetValid(t *testing.T) {
	t.Parallel()
	set := newImportSet("G", 50, 40)
	customers, problems, err := input.ParseImport(set.customers, set.usersCSV, input.ImportOptions{})
	if err != nil || len(problems) > 0 {
		t.Fatalf("ParseImport: %v, problems %v", err, problems)
	}
	if len(customers) != 50 || set.userCount() != 2000 {
		t.Fatalf("%d customers, %d users; want 50 and 2000", len(customers), set.userCount())
	}
	seen := map[string]string{}
	for i, ic := range customers {
		c := ic.Customer
		if c.ExternalID != set.exts[i] {
			t.Fatalf("customer %d is %s, want %s", i, c.ExternalID, set.exts[i])
		}
		st := c.Steps
		if st == nil || st.PSTN == nil || st.Numbers == nil || st.Users == nil {
			t.Fatalf("%s: steps %+v, want PSTN, numbers and users", c.ExternalID, st)
		}
		if len(st.Users.Rows) != 40 || len(st.Numbers.Numbers) < 40 {
			t.Fatalf("%s: %d users, %d numbers", c.ExternalID, len(st.Users.Rows), len(st.Numbers.Numbers))
		}
		for _, n := range st.Numbers.Numbers {
			if other, dup := seen[n]; dup {
				t.Fatalf("%s is in the blocks of %s and %s", n, other, c.ExternalID)
			}
			seen[n] = c.ExternalID
		}
	}
	if n := len(commandBody("UALICE", set.command())); n > 1<<20 {
		t.Fatalf("the command's body is %d bytes, over the bot's 1 MiB", n)
	}
}

func TestTally(t *testing.T) {
	t.Parallel()
	set := newImportSet("T", 2, 2)
	got := contents{
		customers: map[string]int{"BENCH-T-001": 1, "BENCH-T-002": 1, "PROBE": 1},
		users: map[string]int{
			"BENCH-T-001 user001@t-001.bench.example": 1, "BENCH-T-001 user002@t-001.bench.example": 2,
			"BENCH-T-002 user001@t-002.bench.example": 1,
		},
	}
	tl := set.check(got, sandbox.Stats{Creates: 3, Customers: 3, SubscriberCreates: 4, Subscribers: 4})
	if tl.customersOnce != 2 || tl.usersOnce != 2 || tl.usersTwice != 1 || tl.usersMissing != 1 {
		t.Fatalf("tally %+v", tl)
	}
	if d := tl.duplicates(1); d != 1 {
		t.Fatalf("duplicates %d, want 1 (a user twice)", d)
	}
	if l := tl.lost(); l != 1 {
		t.Fatalf("lost %d, want 1", l)
	}
	tl = set.check(got, sandbox.Stats{Creates: 4, Customers: 3})
	if d := tl.duplicates(1); d < 1 {
		t.Fatalf("a customer created twice: duplicates %d", d)
	}
}

func TestWebexSince(t *testing.T) {
	t.Parallel()
	before := sandbox.Stats{RateLimited: 2, Calls: map[string]int{"GET /locations": 5, "POST /wholesale/subscribers": 1}}
	after := sandbox.Stats{RateLimited: 7, Calls: map[string]int{"GET /locations": 6, "POST /wholesale/subscribers": 11, "GET /wholesale/customers": 1}}
	u := webexSince(before, after)
	if u.total != 12 || u.limited != 5 || u.admitted() != 7 {
		t.Fatalf("use %+v", u)
	}
	want := "POST /wholesale/subscribers 10, GET /locations 1, GET /wholesale/customers 1"
	if got := u.byKind(); got != want {
		t.Fatalf("byKind %q, want %q", got, want)
	}
}
