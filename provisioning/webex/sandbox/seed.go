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
	// SubPartnerOrgID is the sub-partner the customer belongs to: calls must name it
	// in onBehalfOfSubPartnerOrgId to see the customer. "" = the partner itself.
	SubPartnerOrgID string
	// PSTN is the HQ's PSTN connection type: "" = none (as for a new calling location,
	// unless --pstn-integrated matches its name), LOCAL_GATEWAY (on the sandbox's trunk),
	// NON_INTEGRATED_CCP, or INTEGRATED_CCP (with provider numbers).
	PSTN string
	// Numbers gives the HQ that many active, available numbers of its country (at most
	// 100), as if the partner had added them: only with a LOCAL_GATEWAY or
	// NON_INTEGRATED_CCP connection, the ones numbers can be added to.
	Numbers int
}

// SeedCustomer adds a provisioned customer with its HQ calling location (for calling
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
		address: addr, packages: slices.Clone(sc.Packages), created: now, readyAt: now, orgID: sc.OrgID,
		subPartner: sc.SubPartnerOrgID}
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
	if hq := s.hqLocation(cu.orgID); hq != nil && sc.PSTN != "" && hq.pstn == "" {
		hq.pstn = sc.PSTN
		switch sc.PSTN {
		case pstnLocalGateway:
			hq.routeType, hq.routeID = "TRUNK", SandboxTrunk
		case pstnIntegratedCCP:
			s.seedProviderNumbers(hq)
		}
		if sc.Numbers > 0 && (hq.pstn == pstnLocalGateway || hq.pstn == pstnNonIntegratedCCP) {
			block := s.blocks[sc.Country]
			s.blocks[sc.Country]++
			nums := seedNumbers(sc.Country, block)
			for _, e := range nums[:min(sc.Numbers, len(nums))] {
				s.numbers[e] = &number{e164: e, orgID: hq.orgID, locationID: hq.id, state: "ACTIVE"}
			}
		}
	}
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
