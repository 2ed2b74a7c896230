package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/onboardbot/onboardbot/provisioning/webex/sandbox"
)

// contents is what the sandbox holds at the end of an import run, read
// through its own API: how often each external id is a customer, and how
// often each user (external id, email) is a subscriber.
type contents struct {
	customers map[string]int
	users     map[string]int // "EXT email" → subscribers
	firstUser time.Time      // the earliest subscriber's creation
}

// listSandbox reads every customer and subscriber from the sandbox at
// base (its /v1 URL) page by page, waiting out any 429's Retry-After. It
// runs after the run's figures were taken: its calls count in the
// sandbox's stats from then on.
func listSandbox(ctx context.Context, base string) (contents, error) {
	c := contents{customers: map[string]int{}, users: map[string]int{}}
	err := listPages(ctx, base+"/wholesale/customers", func(raw json.RawMessage) error {
		var cu struct {
			ExternalID string `json:"externalId"`
		}
		if err := json.Unmarshal(raw, &cu); err != nil {
			return err
		}
		c.customers[cu.ExternalID]++
		return nil
	})
	if err != nil {
		return c, fmt.Errorf("list customers: %w", err)
	}
	err = listPages(ctx, base+"/wholesale/subscribers", func(raw json.RawMessage) error {
		var sub struct {
			Email              string    `json:"email"`
			ExternalCustomerID string    `json:"externalCustomerId"`
			Created            time.Time `json:"created"`
		}
		if err := json.Unmarshal(raw, &sub); err != nil {
			return err
		}
		c.users[sub.ExternalCustomerID+" "+strings.ToLower(sub.Email)]++
		if c.firstUser.IsZero() || sub.Created.Before(c.firstUser) {
			c.firstUser = sub.Created
		}
		return nil
	})
	if err != nil {
		return c, fmt.Errorf("list subscribers: %w", err)
	}
	return c, nil
}

// listPages calls each item of a wholesale list (pages of 100, by offset).
func listPages(ctx context.Context, url string, each func(json.RawMessage) error) error {
	hc := &http.Client{Timeout: 30 * time.Second}
	for offset := 0; ; {
		var page struct {
			Items []json.RawMessage `json:"items"`
		}
		if err := getJSON(ctx, hc, fmt.Sprintf("%s?max=100&offset=%d", url, offset), &page); err != nil {
			return err
		}
		for _, it := range page.Items {
			if err := each(it); err != nil {
				return err
			}
		}
		if len(page.Items) < 100 {
			return nil
		}
		offset += len(page.Items)
	}
}

// getJSON GETs url with the bench's Webex token into v; a 429 is waited
// out (Retry-After) and asked again, at most 10 times.
func getJSON(ctx context.Context, hc *http.Client, url string, v any) error {
	for range 10 {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+webexToken)
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
		resp.Body.Close()
		if err != nil {
			return err
		}
		switch resp.StatusCode {
		case http.StatusOK:
			return json.Unmarshal(body, v)
		case http.StatusTooManyRequests:
			secs, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
			time.Sleep(time.Duration(max(secs, 1)) * time.Second)
			continue
		}
		return fmt.Errorf("GET %s: status %d: %.200s", url, resp.StatusCode, body)
	}
	return fmt.Errorf("GET %s: still 429 after 10 tries", url)
}

// tally is the duplicates and losses of an import run.
type tally struct {
	customerCreates, customersThere int // the sandbox's counters (the probe included)
	userCreates, usersThere         int
	customersOnce, customersMissing int // of the import's customers, by external id
	customersTwice                  int
	usersOnce, usersMissing         int // of the import's users, by customer and email
	usersTwice                      int
	earlyRetries                    int
}

// check compares what the sandbox holds with what the import asked for.
func (set importSet) check(got contents, st sandbox.Stats) tally {
	t := tally{customerCreates: st.Creates, customersThere: st.Customers, userCreates: st.SubscriberCreates,
		usersThere: st.Subscribers, earlyRetries: st.EarlyRetries}
	for _, ext := range set.exts {
		switch n := got.customers[ext]; {
		case n == 0:
			t.customersMissing++
		case n == 1:
			t.customersOnce++
		default:
			t.customersTwice++
		}
		for _, email := range set.users[ext] {
			switch n := got.users[ext+" "+email]; {
			case n == 0:
				t.usersMissing++
			case n == 1:
				t.usersOnce++
			default:
				t.usersTwice++
			}
		}
	}
	return t
}

// duplicates are the creates beyond one per customer or user found (extra:
// customers created besides the import's, the probe), or those found more
// than once, whichever is more.
func (t tally) duplicates(extra int) int {
	customers := max(t.customerCreates-(t.customersOnce+t.customersTwice+extra), t.customersTwice, 0)
	users := max(t.userCreates-(t.usersOnce+t.usersTwice), t.usersTwice, 0)
	return customers + users
}

// lost are the import's customers and users the sandbox does not have.
func (t tally) lost() int { return t.customersMissing + t.usersMissing }

// String is the row's figure: "customers: 51 creates, 51 exist, 50/50
// once; users: 2000 creates, 2000 exist, 2000/2000 once".
func (t tally) String() string {
	s := fmt.Sprintf("customers: %d creates, %d exist, %d of the import once", t.customerCreates, t.customersThere, t.customersOnce)
	if t.customersMissing+t.customersTwice > 0 {
		s += fmt.Sprintf(" (%d missing, %d more than once)", t.customersMissing, t.customersTwice)
	}
	s += fmt.Sprintf("; users: %d creates, %d exist, %d of the import once", t.userCreates, t.usersThere, t.usersOnce)
	if t.usersMissing+t.usersTwice > 0 {
		s += fmt.Sprintf(" (%d missing, %d more than once)", t.usersMissing, t.usersTwice)
	}
	return s
}
