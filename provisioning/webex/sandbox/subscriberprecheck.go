package sandbox

import "net/http"

// precheckSubscriber is "Precheck a Wholesale Subscriber Provisioning".
func (s *Sandbox) precheckSubscriber(c *call) *response {
	var req subscriberRequest
	if resp := c.decode(&req); resp != nil {
		return resp
	}
	var bad problems
	bad.email("email", req.Email)
	// Assumption (see onePackage): a precheck without a package is refused, although the
	// precheck's schema requires only email.
	pkg := bad.onePackage(req.Package, req.Packages)
	if ci := req.CustomerInfo; ci != nil {
		bad.email("customerInfo.primaryEmail", ci.PrimaryEmail)
	}
	if req.ProvisioningID != "" && !s.provisioningIDAllowed(req.ProvisioningID) {
		bad.add("provisioningId %q does not match an onboarding template of this partner", req.ProvisioningID)
	}
	if req.CustomerID != "" && len(bad) == 0 {
		cu, resp := s.subscriberCustomer(c, req.CustomerID)
		if resp != nil {
			return resp
		}
		s.checkSubscriber(&bad, cu, nil, pkg, req.ProvisioningParameters)
		if s.emailConflict(c, cu, req.Email, nil) != nil {
			bad.add("email %s is already a subscriber", req.Email)
		}
	}
	if len(bad) > 0 {
		return c.fail(http.StatusBadRequest, "Provisioning precheck failed.", bad...)
	}
	if s.opts.Migration != nil && s.opts.Migration.MatchString(req.Email) {
		// The user has a free Webex account: provisioning will need their
		// consent. Webex's code for this is not published; the sandbox
		// answers 200 without infoCode 100, which the bot reads as "consent
		// needed".
		return c.json(http.StatusOK, precheckResponse{Message: "success", Info: []precheckInfo{{
			InfoCode: infoConsentNeeded, Description: "A Webex account exists for this email: the user must consent to join the organization."}}})
	}
	return c.json(http.StatusOK, precheckOK())
}

// infoConsentNeeded is the sandbox's precheck info code for a user who must
// consent (a pending_user_migration on create).
const infoConsentNeeded = 101
