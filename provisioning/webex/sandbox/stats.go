package sandbox

import (
	"fmt"
	"maps"
)

// Stats are the sandbox's counters, served as JSON at GET /_sandbox/stats.
type Stats struct {
	Customers           int            `json:"customers"`         // customers that exist now
	Subscribers         int            `json:"subscribers"`       // subscribers that exist now
	Locations           int            `json:"locations"`         // locations in all orgs
	Creates             int            `json:"creates"`           // successful POST /wholesale/customers
	SubscriberCreates   int            `json:"subscriberCreates"` // successful POST /wholesale/subscribers
	EarlyRetries        int            `json:"earlyRetries"`      // calls before a Retry-After deadline (see countEarlyRetry)
	EarlyRetriesByToken map[string]int `json:"earlyRetriesByToken"`
	ConsentResends      int            `json:"consentResends"`
	RateLimited         int            `json:"rateLimited"`      // 429 answers
	Injected5xx         int            `json:"injected5xx"`      // --p5xx answers
	InjectedTimeouts    int            `json:"injectedTimeouts"` // --p-timeout holds
	Unauthorized        int            `json:"unauthorized"`     // 401 answers
	TokensIssued        int            `json:"tokensIssued"`     // by POST /access_token
	Calls               map[string]int `json:"calls"`            // by "METHOD /path/template"
}

// Line is the console's one-line summary, as `/sandbox` prints it.
func (s Stats) Line() string {
	return fmt.Sprintf("sandbox: customers=%d subscribers=%d creates=%d early_retries=%d",
		s.Customers, s.Subscribers, s.Creates, s.EarlyRetries)
}

// Stats returns a copy of the counters, with provisioning progress brought up to date.
func (s *Sandbox) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance(s.now())
	st := s.stats
	st.Calls = maps.Clone(s.stats.Calls)
	st.EarlyRetriesByToken = maps.Clone(s.stats.EarlyRetriesByToken)
	st.Customers = len(s.customers)
	st.Subscribers = len(s.subscribers)
	st.Locations = len(s.locations)
	return st
}
