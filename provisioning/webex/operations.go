package webex

// Routes of every operation the client calls, as "METHOD /path/template"
// with the templates written exactly as the reference specs write them.
const (
	routePrecheckCustomer   = "POST /wholesale/customers/validate"
	routeCreateCustomer     = "POST /wholesale/customers"
	routeListCustomers      = "GET /wholesale/customers"
	routeGetCustomer        = "GET /wholesale/customers/{customerId}"
	routeUpdateCustomer     = "PUT /wholesale/customers/{customerId}"
	routeDeleteCustomer     = "DELETE /wholesale/customers/{customerId}"
	routePrecheckSubscriber = "POST /wholesale/subscribers/validate"
	routeCreateSubscriber   = "POST /wholesale/subscribers"
	routeListSubscribers    = "GET /wholesale/subscribers"
	routeGetSubscriber      = "GET /wholesale/subscribers/{subscriberId}"
	routeUpdateSubscriber   = "PUT /wholesale/subscribers/{subscriberId}"
	routeDeleteSubscriber   = "DELETE /wholesale/subscribers/{subscriberId}"
	// The spec has this one outside /wholesale.
	routeResendConsent = "POST /subscribers/{subscriberId}/emails/consentMove"

	routeCreateLocation        = "POST /locations"
	routeListLocations         = "GET /locations"
	routeGetLocation           = "GET /locations/{locationId}"
	routeEnableCallingLocation = "POST /telephony/config/locations"
	routeGetCallingLocation    = "GET /telephony/config/locations/{locationId}"
	routeUpdateCallingLocation = "PUT /telephony/config/locations/{locationId}"
	routeGetPSTNConnection     = "GET /telephony/pstn/locations/{locationId}/connection"
	routeSetPSTNConnection     = "PUT /telephony/pstn/locations/{locationId}/connection"

	routeListPSTNConnectionOptions = "GET /telephony/pstn/locations/{locationId}/connectionOptions"

	routeListNumbers     = "GET /telephony/config/numbers"
	routeAddNumbers      = "POST /telephony/config/locations/{locationId}/numbers"
	routeActivateNumbers = "PUT /telephony/config/locations/{locationId}/numbers"
	routeValidateNumbers = "POST /telephony/config/actions/validateNumbers/invoke"
)

// Operations lists every "METHOD /path/template" the client calls. Contract
// tests compare it with the operations they saw validated against the
// reference specs. The OAuth token endpoint is not listed: no reference spec
// describes it.
var Operations = []string{
	routePrecheckCustomer,
	routeCreateCustomer,
	routeListCustomers,
	routeGetCustomer,
	routeUpdateCustomer,
	routeDeleteCustomer,
	routePrecheckSubscriber,
	routeCreateSubscriber,
	routeListSubscribers,
	routeGetSubscriber,
	routeUpdateSubscriber,
	routeDeleteSubscriber,
	routeResendConsent,
	routeCreateLocation,
	routeListLocations,
	routeGetLocation,
	routeEnableCallingLocation,
	routeGetCallingLocation,
	routeUpdateCallingLocation,
	routeGetPSTNConnection,
	routeSetPSTNConnection,
	routeListPSTNConnectionOptions,
	routeListNumbers,
	routeAddNumbers,
	routeActivateNumbers,
	routeValidateNumbers,
}
