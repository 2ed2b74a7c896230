package sandbox

import "slices"

// SeedCustomer describes a customer created "directly" (in Partner Hub, not through the
// API), already provisioned: what `adopt` finds at Webex.
type SeedCustomer struct {
	ExternalID   string
	OrgID        string   // "" = a new org id
	Name         string   // default "Seeded customer"
	PrimaryEmail string   // default "admin@seeded.example"
	Packages     []string // default ["webex_calling"]
	Country      string   // default "DE"
	LocationName string   // HQ location for calling packages; default "HQ"
	Timezone     string   // default "Europe/Berlin"
	Language     string   // location language; default "de_de"
}

// SeedCustomer adds a provisioned customer with its HQ location and numbers (for calling
// packages). It bypasses validation: tests seed what they need.
func (s *Sandbox) SeedCustomer(sc SeedCustomer) (customerID, orgID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	def := func(v *string, d string) {
		if *v == "" {
			*v = d
		}
	}
	def(&sc.Name, "Seeded customer")
	def(&sc.PrimaryEmail, "admin@seeded.example")
	def(&sc.Country, "DE")
	def(&sc.LocationName, "HQ")
	def(&sc.Timezone, "Europe/Berlin")
	def(&sc.Language, "de_de")
	if len(sc.Packages) == 0 {
		sc.Packages = []string{"webex_calling"}
	}
	now := s.now()
	addr := address{AddressLine1: "Seeded Street 1", City: "Seeded City", ZipOrPostalCode: "10115", Country: sc.Country}
	cu := &customer{id: s.newID("CUSTOMER"), externalID: sc.ExternalID, name: sc.Name, email: sc.PrimaryEmail,
		address: addr, packages: slices.Clone(sc.Packages), created: now, readyAt: now, orgID: sc.OrgID}
	cu.seq = s.seq
	if cu.orgID == "" {
		cu.orgID = s.newID("ORGANIZATION")
	}
	if anyCalling(cu.packages) {
		a := addr
		cu.calling = &callingLocation{Name: sc.LocationName, Address: &a, Timezone: sc.Timezone, Language: sc.Language}
	}
	s.customers[cu.id] = cu
	s.advance(now)
	return cu.id, cu.orgID
}

// Consent completes a pending_user_migration: the user accepted the consent email. It
// reports whether such a subscriber existed.
func (s *Sandbox) Consent(email string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sub := range s.subscribers {
		if sub.email == email && sub.status == "pending_user_migration" {
			sub.status, sub.changed = "provisioned", s.now()
			return true
		}
	}
	return false
}
