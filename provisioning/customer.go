package provisioning

// Address is a postal address as Webex takes it; each line ≤ 50 code points.
type Address struct {
	Line1   string `json:"addressLine1"`
	Line2   string `json:"addressLine2,omitempty"`
	City    string `json:"city"`
	State   string `json:"stateOrProvince,omitempty"`
	Zip     string `json:"zipOrPostalCode,omitempty"`
	Country string `json:"country"` // ISO 3166 alpha-2, upper case
}

// CustomerSpec is a validated, normalised customer request: every value the
// approver sees. Field order is fixed, so its JSON (and hash) is stable.
type CustomerSpec struct {
	Name            string         `json:"name"`
	Email           string         `json:"email"`
	ExternalID      string         `json:"externalId"`
	Country         string         `json:"country"`
	Packages        []string       `json:"packages"` // first is the primary package
	Template        string         `json:"template,omitempty"`
	TemplateVersion int            `json:"templateVersion,omitempty"`
	ProvisioningID  string         `json:"provisioningId"`
	Address         Address        `json:"address"`
	Timezone        string         `json:"timezone,omitempty"` // IANA
	Language        string         `json:"language,omitempty"` // customer language, "de_DE" or "de"
	LocationName    string         `json:"locationName,omitempty"`
	ELIN            string         `json:"elin,omitempty"`
	Limits          map[string]int `json:"limits,omitempty"` // ordered quantities per package
	OrgID           string         `json:"orgId,omitempty"`  // attach an existing org
	Order           string         `json:"order,omitempty"`  // partner's order or ticket reference
	SubPartnerOrgID string         `json:"subPartnerOrgId,omitempty"`
}

// PrimaryPackage is the package the customer's admin must get.
func (c *CustomerSpec) PrimaryPackage() string {
	if len(c.Packages) == 0 {
		return ""
	}
	return c.Packages[0]
}

// HasCalling reports whether any package of the customer is a calling package,
// which makes Webex require the HQ calling location.
func (c *CustomerSpec) HasCalling() bool {
	for _, p := range c.Packages {
		if CallingPackage(p) {
			return true
		}
	}
	return false
}

// CallingPackage reports whether p provisions Webex Calling. Every customer
// package except meetings-only is a calling package for the HQ location rule.
func CallingPackage(p string) bool {
	return p != "webex_meetings" && p != ""
}
