package sandbox

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
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

type customer struct {
	seq          int
	id, orgID    string
	externalID   string
	name, email  string
	address      address
	packages     []string
	calling      *callingLocation
	created      time.Time
	rplUntil     time.Time // pending_rpl_review before this
	readyAt      time.Time // provisioning (or updating) before this
	phase        string    // "provisioning", "updating" or "deleting"
	deleteAt     time.Time
	materialized bool // this provisioning round's side effects (HQ location, numbers) exist
	orgLive      bool // provisioned once: the org takes locations and numbers from then on
	errors       []errorObj
}

func (cu *customer) status(now time.Time) string {
	switch {
	case cu.phase == "deleting":
		return "deleting"
	case now.Before(cu.rplUntil):
		return "pending_rpl_review"
	case now.Before(cu.readyAt):
		return cu.phase
	}
	return "provisioned"
}

type customerOut struct {
	ID              string          `json:"id"`
	OrgID           string          `json:"orgId,omitempty"`
	ExternalID      string          `json:"externalId"`
	Address         address         `json:"address"`
	Status          string          `json:"status"`
	Packages        []string        `json:"packages"`
	ResourceDetails resourceDetails `json:"resourceDetails"`
	Errors          []errorObj      `json:"errors,omitempty"`
}

type resourceDetails struct {
	Packages []packageOut `json:"packages"`
}

type packageOut struct {
	Name     string     `json:"name"`
	Status   string     `json:"status"`
	Warnings []errorObj `json:"warnings"`
	Errors   []errorObj `json:"errors"`
}

func (cu *customer) out(now time.Time) customerOut {
	st := cu.status(now)
	o := customerOut{ID: cu.id, ExternalID: cu.externalID, Address: cu.address, Status: st, Packages: cu.packages, Errors: cu.errors}
	pkgStatus := "provisioning"
	switch st {
	case "provisioned":
		o.OrgID = cu.orgID
		pkgStatus = "provisioned"
	case "updating":
		o.OrgID = cu.orgID
	case "deleting":
		o.OrgID = cu.orgID
		pkgStatus = "deleting"
	}
	for _, p := range cu.packages {
		o.ResourceDetails.Packages = append(o.ResourceDetails.Packages, packageOut{Name: p, Status: pkgStatus, Warnings: []errorObj{}, Errors: []errorObj{}})
	}
	return o
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
		f := "provisioningParameters.calling.location"
		if strings.TrimSpace(loc.Name) == "" {
			p.add("%s.name is required", f)
		} else if n := len([]rune(loc.Name)); n > maxLocationName {
			p.add("%s.name is %d characters long; at most %d are allowed", f, n, maxLocationName)
		}
		p.address(f+".address", loc.Address)
		p.timezone(f+".timezone", loc.Timezone)
		p.language(f+".language", loc.Language, locationLanguage, "de_de", true)
	}
	if pp != nil && pp.Meetings != nil {
		p.timezone("provisioningParameters.meetings.timezone", pp.Meetings.Timezone)
	}
	if pp != nil && pp.Packages != nil {
		for name, n := range pp.Packages.Limits {
			if !slices.Contains(customerPackages, name) {
				p.add("provisioningParameters.packages.limits has unknown package %q", name)
			} else if n < 0 || n != float64(int64(n)) {
				p.add("provisioningParameters.packages.limits.%s must be a whole number ≥ 0", name)
			}
		}
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

// precheckOK answers as the spec's example does: info is an array (the schema says object;
// clients accept both, WEBEX.md).
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
	s.customers[cu.id] = cu
	s.stats.Creates++
	s.advance(c.now) // a zero delay provisions at once
	url := baseURL(c.r) + "/wholesale/customers/" + cu.id
	resp := c.json(http.StatusAccepted, map[string]string{"url": url})
	resp.header.Set("Location", url)
	return resp
}

func (s *Sandbox) customer(c *call) (*customer, *response) {
	cu := s.customers[c.params["customerId"]]
	if cu == nil {
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
		if ext := q.Get("externalId"); ext != "" && cu.externalID != ext {
			continue
		}
		st := cu.status(c.now)
		if org := q.Get("orgId"); org != "" && (cu.orgID != org || st == "provisioning" || st == "pending_rpl_review") {
			continue
		}
		if len(statuses) > 0 && !slices.Contains(statuses, st) {
			continue
		}
		all = append(all, cu)
	}
	slices.SortFunc(all, func(a, b *customer) int { return a.seq - b.seq })
	items := []customerOut{}
	for _, cu := range window(all, offset, max) {
		items = append(items, cu.out(c.now))
	}
	return c.json(http.StatusOK, map[string]any{"items": items})
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
	if st := cu.status(c.now); st != "provisioned" {
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
	cu.phase, cu.readyAt, cu.materialized = "updating", c.now.Add(s.opts.Delay), false
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

// advance brings every customer up to now: provisioned customers get their org's side
// effects once, deleted ones disappear. Called under s.mu on every call, so progress needs
// no timers.
func (s *Sandbox) advance(now time.Time) {
	for id, cu := range s.customers {
		if cu.phase == "deleting" {
			if !now.Before(cu.deleteAt) {
				s.removeCustomer(id)
			}
			continue
		}
		if cu.materialized || cu.status(now) != "provisioned" {
			continue
		}
		cu.materialized, cu.orgLive, cu.phase = true, true, ""
		if anyCalling(cu.packages) && cu.calling != nil && s.hqLocation(cu.orgID) == nil {
			s.createHQ(cu, now)
		}
	}
}

func (s *Sandbox) removeCustomer(id string) {
	for sid, sub := range s.subscribers {
		if sub.customerID == id {
			s.releaseNumber(sub)
			delete(s.subscribers, sid)
		}
	}
	delete(s.customers, id)
}
