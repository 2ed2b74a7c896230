package sandbox

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

type customerRequest struct {
	ProvisioningID         string              `json:"provisioningId"`
	Packages               []string            `json:"packages"`
	OrgID                  string              `json:"orgId"`
	ExternalID             string              `json:"externalId"`
	Address                *address            `json:"address"`
	CustomerInfo           *customerInfo       `json:"customerInfo"`
	ProvisioningParameters *provisioningParams `json:"provisioningParameters"`
	SubPartnerAdminEmail   string              `json:"subPartnerAdminEmail"`
}

type customerInfo struct {
	Name         string `json:"name"`
	PrimaryEmail string `json:"primaryEmail"`
	Language     string `json:"language"`
}

type provisioningParams struct {
	Calling *struct {
		Location *callingLocation `json:"location"`
	} `json:"calling"`
	Meetings *struct {
		Timezone string `json:"timezone"`
	} `json:"meetings"`
	Packages *struct {
		Limits map[string]float64 `json:"limits"`
	} `json:"packages"`
}

type callingLocation struct {
	Name                        string   `json:"name"`
	Address                     *address `json:"address"`
	Timezone                    string   `json:"timezone"`
	Language                    string   `json:"language"`
	EmergencyLocationIdentifier string   `json:"emergencyLocationIdentifier"`
}

func (pp *provisioningParams) location() *callingLocation {
	if pp == nil || pp.Calling == nil {
		return nil
	}
	return pp.Calling.Location
}

type mode int

const (
	modePrecheck mode = iota
	modeCreate
	modeUpdate
)

// checkCustomer returns what is wrong with a customer request. conflict is set for
// problems Webex reports as 409 on create (duplicate external id, org already linked).
func (s *Sandbox) checkCustomer(req *customerRequest, m mode, self *customer) (bad problems, conflict string) {
	p := &bad
	if m != modeUpdate || req.ProvisioningID != "" {
		switch {
		case req.ProvisioningID == "" && m == modeCreate:
			p.add("provisioningId is required")
		case req.ProvisioningID != "" && !s.provisioningIDAllowed(req.ProvisioningID):
			p.add("provisioningId %q does not match an onboarding template of this partner", req.ProvisioningID)
		}
	}
	if m != modePrecheck || req.Packages != nil {
		p.customerPackageList(req.Packages)
	}
	if m == modeCreate && strings.TrimSpace(req.ExternalID) == "" {
		p.add("externalId is required")
	}
	if m != modeUpdate || req.Address != nil {
		p.address("address", req.Address)
	}
	if m == modeCreate && req.OrgID == "" && req.CustomerInfo == nil {
		p.add("customerInfo is required when no orgId is given")
	}
	if ci := req.CustomerInfo; ci != nil {
		if m != modePrecheck || ci.Name != "" {
			if strings.TrimSpace(ci.Name) == "" {
				p.add("customerInfo.name is required")
			}
		}
		if strings.Contains(ci.Name, "%") {
			p.add("customerInfo.name may not contain %%")
		}
		p.email("customerInfo.primaryEmail", ci.PrimaryEmail)
		p.language("customerInfo.language", ci.Language, customerLanguage, "de or de_DE", false)
	}
	if req.SubPartnerAdminEmail != "" && !validEmail(req.SubPartnerAdminEmail) {
		p.add("subPartnerAdminEmail %q is not an email address", req.SubPartnerAdminEmail)
	}
	loc := req.ProvisioningParameters.location()
	pp := req.ProvisioningParameters
	if pp != nil && pp.Calling != nil && loc == nil {
		p.add("provisioningParameters.calling.location is required")
	}
	needsLocation := anyCalling(req.Packages) && (self == nil || self.calling == nil)
	if loc == nil && needsLocation {
		p.add("provisioningParameters.calling.location is required when a calling package is provisioned")
	}
	if loc != nil {
		p.customerLocation("provisioningParameters.calling.location", loc)
	}
	if pp != nil && pp.Meetings != nil {
		p.timezone("provisioningParameters.meetings.timezone", pp.Meetings.Timezone)
	}
	if pp != nil && pp.Packages != nil {
		p.limits(pp.Packages.Limits)
	}
	for _, cu := range s.customers {
		if cu == self || cu.phase == "deleting" {
			continue
		}
		if req.ExternalID != "" && cu.externalID == req.ExternalID {
			conflict = "a customer with externalId " + strconv.Quote(req.ExternalID) + " already exists"
		}
		if req.OrgID != "" && cu.orgID == req.OrgID {
			conflict = "organization " + req.OrgID + " is already linked to a wholesale customer"
		}
	}
	return bad, conflict
}

// customerLocation checks the calling location of a customer request (field f).
func (p *problems) customerLocation(f string, loc *callingLocation) {
	if strings.TrimSpace(loc.Name) == "" {
		p.add("%s.name is required", f)
	} else if n := len([]rune(loc.Name)); n > maxLocationName {
		p.add("%s.name is %d characters long; at most %d are allowed", f, n, maxLocationName)
	}
	p.address(f+".address", loc.Address)
	p.timezone(f+".timezone", loc.Timezone)
	p.language(f+".language", loc.Language, locationLanguage, "de_de", true)
	// Assumption: the wholesale spec says nothing about where an emergency location
	// identifier may be given; the calling spec allows its pAccessNetworkInfo only in BE,
	// DE and FR, and the sandbox holds the customer's identifier to the same rule.
	if loc.EmergencyLocationIdentifier != "" && loc.Address != nil && isoCountries[loc.Address.Country] && !elinCountries[loc.Address.Country] {
		p.add("%s.emergencyLocationIdentifier can be given only for locations in BE, DE or FR; this one is in %s", f, loc.Address.Country)
	}
}

// limits checks the ordered quantities per package.
func (p *problems) limits(limits map[string]float64) {
	for name, n := range limits {
		if !slices.Contains(customerPackages, name) {
			p.add("provisioningParameters.packages.limits has unknown package %q", name)
		} else if n < 0 || n != float64(int64(n)) {
			p.add("provisioningParameters.packages.limits.%s must be a whole number ≥ 0", name)
		}
	}
}

// rejectedAddress applies --reject-address to every addressLine1 of the request.
func (s *Sandbox) rejectedAddress(req *customerRequest) string {
	if s.opts.RejectAddress == nil {
		return ""
	}
	lines := []*address{req.Address}
	if loc := req.ProvisioningParameters.location(); loc != nil {
		lines = append(lines, loc.Address)
	}
	for _, a := range lines {
		if a != nil && s.opts.RejectAddress.MatchString(a.AddressLine1) {
			return a.AddressLine1
		}
	}
	return ""
}

const codeInvalidAddress = 400101 // sandbox's code for an address Webex cannot verify

func (s *Sandbox) precheckCustomer(c *call) *response {
	var req customerRequest
	if resp := c.decode(&req); resp != nil {
		return resp
	}
	bad, conflict := s.checkCustomer(&req, modePrecheck, nil)
	if conflict != "" {
		bad.add("%s", conflict)
	}
	if len(bad) > 0 {
		return c.fail(http.StatusBadRequest, "Provisioning precheck failed.", bad...)
	}
	if line := s.rejectedAddress(&req); line != "" {
		return c.failCode(http.StatusBadRequest, codeInvalidAddress, "Provisioning precheck failed.", "The address "+strconv.Quote(line)+" could not be verified.")
	}
	return c.json(http.StatusOK, precheckOK())
}

type precheckInfo struct {
	InfoCode    int    `json:"infoCode"`
	Description string `json:"description"`
}

type precheckResponse struct {
	Message string         `json:"message"`
	Info    []precheckInfo `json:"info"`
}

// precheckOK answers as the spec's example does: info is an array (the schema says one
// object; the example contradicts it, so clients must accept both).
func precheckOK() precheckResponse {
	return precheckResponse{Message: "success", Info: []precheckInfo{{InfoCode: 100, Description: "Provisioning preCheck validation successful."}}}
}

func (s *Sandbox) createCustomer(c *call) *response {
	var req customerRequest
	if resp := c.decode(&req); resp != nil {
		return resp
	}
	bad, conflict := s.checkCustomer(&req, modeCreate, nil)
	if len(bad) > 0 {
		return c.fail(http.StatusBadRequest, "The request is invalid.", bad...)
	}
	if conflict != "" {
		return c.fail(http.StatusConflict, conflict)
	}
	if line := s.rejectedAddress(&req); line != "" {
		return c.failCode(http.StatusBadRequest, codeInvalidAddress, "The address could not be verified.", "The address "+strconv.Quote(line)+" could not be verified.")
	}
	cu := &customer{
		id: s.newID("CUSTOMER"), externalID: req.ExternalID, address: *req.Address,
		packages: slices.Clone(req.Packages), calling: req.ProvisioningParameters.location(),
		created: c.now, phase: "provisioning", orgID: req.OrgID,
		subPartner: c.r.URL.Query().Get("onBehalfOfSubPartnerOrgId"),
	}
	cu.seq = s.seq
	if cu.orgID == "" {
		cu.orgID = s.newID("ORGANIZATION")
	}
	if ci := req.CustomerInfo; ci != nil {
		cu.name, cu.email = ci.Name, ci.PrimaryEmail
	}
	start := c.now
	if s.opts.RPLReview != nil && s.opts.RPLReview.MatchString(cu.name) {
		cu.rplUntil = c.now.Add(s.opts.RPLDelay)
		start = cu.rplUntil
	}
	cu.readyAt = start.Add(s.opts.Delay)
	switch {
	case s.opts.ProvisionFail != nil && s.opts.ProvisionFail.MatchString(cu.name):
		cu.outcome = statusError
	case s.opts.ProvisionErrors != nil && s.opts.ProvisionErrors.MatchString(cu.name):
		cu.outcome = statusWithErrors
	}
	s.customers[cu.id] = cu
	s.stats.Creates++
	s.advance(c.now) // a zero delay provisions at once
	url := baseURL(c.r) + "/wholesale/customers/" + cu.id
	resp := c.json(http.StatusAccepted, map[string]string{"url": url})
	resp.header.Set("Location", url)
	return resp
}

// customer finds the customer of the path for this call's sub-partner.
func (s *Sandbox) customer(c *call) (*customer, *response) {
	cu := s.customers[c.params["customerId"]]
	if !c.visible(cu) {
		return nil, c.fail(http.StatusNotFound, "Customer not found.")
	}
	return cu, nil
}

func (s *Sandbox) getCustomer(c *call) *response {
	cu, resp := s.customer(c)
	if resp != nil {
		return resp
	}
	return c.json(http.StatusOK, cu.out(c.now))
}

var customerStatuses = []string{"provisioned", "provisioned_with_errors", "provisioning", "updating", "deleting", "error", "pending_rpl_review"}

func (s *Sandbox) listCustomers(c *call) *response {
	q := c.r.URL.Query()
	var bad problems
	var statuses []string
	for _, v := range q["status"] {
		for _, st := range strings.Split(v, ",") {
			if !slices.Contains(customerStatuses, st) {
				bad.add("status %q is not a customer status", st)
			}
			statuses = append(statuses, st)
		}
	}
	offset, max := paging(&bad, q.Get("offset"), q.Get("max"), pageLimit{def: 100, limit: 100})
	if len(bad) > 0 {
		return c.fail(http.StatusBadRequest, "The request is invalid.", bad...)
	}
	var all []*customer
	for _, cu := range s.customers {
		if ext := q.Get("externalId"); !c.visible(cu) || (ext != "" && cu.externalID != ext) {
			continue
		}
		o := cu.out(c.now)
		if org := q.Get("orgId"); org != "" && o.OrgID != org {
			continue
		}
		if len(statuses) > 0 && !slices.Contains(statuses, o.Status) {
			continue
		}
		all = append(all, cu)
	}
	slices.SortFunc(all, func(a, b *customer) int { return a.seq - b.seq })
	return listAnswer(s, c, "items", all, "offset", offset, max, func(cu *customer) customerOut { return cu.out(c.now) })
}

func (s *Sandbox) updateCustomer(c *call) *response {
	cu, resp := s.customer(c)
	if resp != nil {
		return resp
	}
	var req customerRequest
	if resp := c.decode(&req); resp != nil {
		return resp
	}
	if req.OrgID != "" || req.CustomerInfo != nil || req.ProvisioningID != "" {
		return c.fail(http.StatusBadRequest, "The request is invalid.", "only externalId, packages, address, provisioningParameters and subPartnerAdminEmail can be updated")
	}
	bad, conflict := s.checkCustomer(&req, modeUpdate, cu)
	if len(bad) > 0 {
		return c.fail(http.StatusBadRequest, "The request is invalid.", bad...)
	}
	if conflict != "" {
		return c.fail(http.StatusConflict, conflict)
	}
	// An update re-applies the packages: it is how a customer that provisioned with
	// errors is provisioned again. Assumption: a customer in error (no org) or busy cannot
	// be updated.
	if st := cu.status(c.now); st != statusProvisioned && st != statusWithErrors {
		return c.fail(http.StatusConflict, "The customer cannot be updated while its status is "+st+".")
	}
	cu.packages = slices.Clone(req.Packages)
	if req.ExternalID != "" {
		cu.externalID = req.ExternalID
	}
	if req.Address != nil {
		cu.address = *req.Address
	}
	if loc := req.ProvisioningParameters.location(); loc != nil && cu.calling == nil {
		cu.calling = loc
	}
	cu.phase, cu.readyAt, cu.materialized, cu.outcome = "updating", c.now.Add(s.opts.Delay), false, ""
	s.advance(c.now)
	url := baseURL(c.r) + "/wholesale/customers/" + cu.id
	resp = c.json(http.StatusAccepted, map[string]string{"url": url})
	resp.header.Set("Location", url)
	return resp
}

// deleteCustomer unlinks the customer: 202, status deleting for Delay, then gone together
// with its subscribers. The org's locations stay (the org outlives the link).
func (s *Sandbox) deleteCustomer(c *call) *response {
	cu, resp := s.customer(c)
	if resp != nil {
		return resp
	}
	if cu.phase != "deleting" {
		cu.phase, cu.deleteAt = "deleting", c.now.Add(s.opts.Delay)
	}
	s.advance(c.now)
	return c.empty(http.StatusAccepted)
}
